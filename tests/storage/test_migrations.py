"""Migrations run on both databases and agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from storage import db
from storage.models import Base


def test_migrations_match_models(engine: Engine) -> None:
    """Autogenerate finds no difference between the migrated schema and the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_upgrade_reaches_head(db_url: str) -> None:
    """Upgrading an empty database brings it to the newest revision, with every model's table."""
    engine = db.make_engine(db_url)
    try:
        before, after = db.upgrade(engine)

        assert before is None
        assert after == db.head_revision()
        assert db.current_revision(engine) == db.head_revision()
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        engine.dispose()


def test_second_upgrade_changes_nothing(engine: Engine) -> None:
    """Upgrading an up-to-date database reports the same revision before and after."""
    before, after = db.upgrade(engine)

    assert before == db.head_revision()
    assert after == before
