"""Engine and session set-up for SQLite and PostgreSQL, and the migration commands."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from sealbook.errors import ConfigError, SealbookError

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
URL_SETTING = "the database URL (SEALBOOK_DATABASE_URL, or database.url in sealbook.toml)"


class DatabaseUnavailable(SealbookError):
    """The database could not be reached or opened."""


def parse_database_url(url: str) -> URL:
    """Parse and check a database URL; only SQLite and PostgreSQL are supported."""
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number raises here, not at connect time
    except (exc.ArgumentError, ValueError):
        raise ConfigError(
            f"{URL_SETTING} is not a valid database URL; use "
            "sqlite+pysqlite:///PATH or postgresql://USER@HOST:PORT/DBNAME"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        # psycopg 3 is the driver the project installs.
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ConfigError(f"{URL_SETTING} must name a SQLite file, not an in-memory database")
        return parsed
    raise ConfigError(f"{URL_SETTING} uses the unsupported backend {backend!r}; use sqlite or postgresql")


def sqlite_file(url: str) -> Path | None:
    """Return the file a SQLite URL names, or None for PostgreSQL.

    Opening a missing SQLite file creates an empty database, so a command
    that only reads checks this path first.
    """
    parsed = parse_database_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if parsed.query.get("uri") == "true":
        # In URI form (`file:PATH?mode=ro`, with `uri=true`) the path follows the scheme.
        database = database.removeprefix("file:")
    return Path(database)


def describe_url(url: str | URL) -> str:
    """Return the URL with any password hidden, for messages and logs."""
    parsed = url if isinstance(url, URL) else make_url(url)
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine; SQLite gets WAL mode, foreign keys, a busy timeout and immediate transactions."""
    parsed = parse_database_url(url)
    # Bound parameters can hold contact rows and pseudonyms; never log them.
    options.setdefault("hide_parameters", True)

    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **options)
            _configure_sqlite(engine)
            return engine
        options.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **options)
    except exc.NoSuchModuleError:
        raise ConfigError(
            f"{URL_SETTING} names the driver {parsed.drivername!r}, which is not installed; "
            "use sqlite+pysqlite or postgresql"
        ) from None


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so that "begin"
        # below can issue BEGIN IMMEDIATE: concurrent writers then queue on the
        # busy timeout instead of failing when a read lock is upgraded.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory; callers own each session and its transaction."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Run one transaction: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config() -> Config:
    """Return an Alembic configuration for the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", "storage:migrations")
    return config


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Apply migrations up to ``revision``; return the revisions before and after."""
    config = alembic_config()
    try:
        with engine.begin() as connection:
            before = MigrationContext.configure(connection).get_current_revision()
            _require_known_revision(before)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            after = MigrationContext.configure(connection).get_current_revision()
    except exc.DBAPIError as error:
        raise DatabaseUnavailable(_unavailable_message(engine, error)) from None
    if before != after:
        logger.info("database upgraded from %s to %s", before, after)
    return before, after


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None for an empty database."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except exc.DBAPIError as error:
        raise DatabaseUnavailable(_unavailable_message(engine, error)) from None


def is_known_revision(revision: str | None) -> bool:
    """Return whether the packaged migrations define ``revision`` (None, an empty database, counts)."""
    if revision is None:
        return True
    script = ScriptDirectory.from_config(alembic_config())
    return any(known.revision == revision for known in script.walk_revisions())


def _require_known_revision(revision: str | None) -> None:
    if not is_known_revision(revision):
        raise DatabaseUnavailable(
            f"the database is at migration {revision}, which this version of sealbook does not "
            "know; install the sealbook version that made it, or restore a matching backup"
        )


def head_revision() -> str | None:
    """Return the newest revision that the packaged migrations define."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def check_connection(engine: Engine) -> None:
    """Open and close one connection, turning a failure into a one-line error."""
    try:
        with engine.connect():
            pass
    except exc.DBAPIError as error:
        raise DatabaseUnavailable(_unavailable_message(engine, error)) from None


def _unavailable_message(engine: Engine, error: exc.DBAPIError) -> str:
    reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else "unknown error"
    return (
        f"cannot use the database {describe_url(engine.url)}: {reason}; "
        "check SEALBOOK_DATABASE_URL (or database.url in sealbook.toml) and that the server is running"
    )
