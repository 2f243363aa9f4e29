"""Engine set-up: SQLite pragmas, URL checks and the UTC timestamp type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from sealbook.errors import ConfigError
from storage import db
from storage.models.contacts import Contact


def test_sqlite_pragmas(tmp_path: Path) -> None:
    """A SQLite engine runs in WAL mode with foreign keys on and a busy timeout."""
    engine = db.make_engine(f"sqlite+pysqlite:///{tmp_path / 'pragma.sqlite3'}")
    with engine.connect() as connection:
        journal_mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    engine.dispose()

    assert journal_mode == "wal"
    assert foreign_keys == 1
    assert busy_timeout == db.SQLITE_BUSY_TIMEOUT_MS


@pytest.mark.parametrize(
    "url",
    ["not a url", "mysql://root@127.0.0.1/test", "sqlite://", "sqlite+pysqlite:///:memory:"],
)
def test_bad_database_url_rejected(url: str) -> None:
    """An unparsable, unsupported or in-memory URL raises a ConfigError naming the setting."""
    with pytest.raises(ConfigError, match="SEALBOOK_DATABASE_URL"):
        db.make_engine(url)


def test_postgresql_url_uses_psycopg() -> None:
    """A plain postgresql:// URL is given the psycopg 3 driver."""
    parsed = db.parse_database_url("postgresql://someone:hidden@127.0.0.1:5432/test")

    assert parsed.drivername == "postgresql+psycopg"
    assert "hidden" not in db.describe_url(parsed)


def test_unreachable_database_one_line(tmp_path: Path) -> None:
    """An unreachable server gives one line naming the URL without its password."""
    engine = db.make_engine("postgresql://someone:hidden@127.0.0.1:1/test")

    with pytest.raises(db.DatabaseUnavailable) as caught:
        db.check_connection(engine)

    message = str(caught.value)
    assert "\n" not in message
    assert "hidden" not in message
    assert "127.0.0.1:1" in message


def _add_contact(session: Session, created_at: datetime, pseudonym: bytes) -> int:
    contact = Contact(
        channel="sms",
        pseudonym=pseudonym,
        pseudonym_key_id="p1",
        created_at=created_at,
    )
    session.add(contact)
    session.flush()
    return contact.id


def test_utc_datetime_round_trip(session_factory: sessionmaker[Session]) -> None:
    """A timestamp written with any offset reads back as the same instant in UTC."""
    sydney_summer = timezone(timedelta(hours=11))
    written = datetime(2027, 1, 5, 8, 30, 15, tzinfo=sydney_summer)
    with db.session_scope(session_factory) as session:
        contact_id = _add_contact(session, written, b"\x01" * 32)

    with session_factory() as session:
        read = session.scalar(select(Contact.created_at).where(Contact.id == contact_id))

    assert read == written
    assert read is not None
    assert read.tzinfo == UTC


def test_naive_datetime_rejected(session_factory: sessionmaker[Session]) -> None:
    """Writing a naive datetime is a programming error, not a silent guess."""
    with pytest.raises(Exception, match="timezone-aware"), db.session_scope(session_factory) as session:
        _add_contact(session, datetime(2027, 1, 5, 8, 30), b"\x02" * 32)


def test_session_scope_rolls_back(session_factory: sessionmaker[Session], engine: Engine) -> None:
    """An error inside session_scope leaves nothing behind."""
    now = datetime(2027, 1, 5, tzinfo=UTC)
    with pytest.raises(RuntimeError), db.session_scope(session_factory) as session:
        _add_contact(session, now, b"\x03" * 32)
        raise RuntimeError("abandon the transaction")

    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM contacts")).scalar()
    assert count == 0
