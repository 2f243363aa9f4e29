"""Shared fixtures: a fresh SQLite file and a fresh PostgreSQL schema per test, a fixed clock, a home.

The ``engine`` fixture does not run the migrations for each test. Its SQLite
database is a copy of one file migrated once per run, which takes under 1 ms
instead of about 35 ms. Its PostgreSQL schema gets the SQL that the
migrations ran on an empty schema once per run, sent as one batch, which
takes about half as long as running them. Copying a whole PostgreSQL
database with ``CREATE DATABASE ... TEMPLATE`` was slower than either. All
three were measured on PostgreSQL 15 and two loaded cores.
``test_upgrade_reaches_head`` still runs the migrations on empty databases.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Mount, Router
from starlette.types import ASGIApp

from sealbook.clock import FixedClock
from sealbook.home import initialise_home
from sealbook.logs import QUIET_LOGGERS
from sealbook.standins.server import serve_in_background
from storage import db

POSTGRES_SERVER_URL = os.environ.get(
    "SEALBOOK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# Loggers whose level the commands set, which are configure_logging's and the
# staff tool's psycopg logger. The in-process runner restores them after each run.
COMMAND_LOGGERS = ("", *QUIET_LOGGERS, "sqlalchemy.engine", "alembic", "psycopg")

CommandEntry = Callable[[list[str]], int]
InProcessRunner = Callable[..., subprocess.CompletedProcess[str]]

# A Wednesday in autumn, before Sydney's daylight-saving change on 4 April 2027.
FIXED_START = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)

_postgres_error: str | None = None
_postgres_checked = False


def _postgres_unavailable() -> str | None:
    """Return why PostgreSQL cannot be used, or None; checked once per run."""
    global _postgres_checked, _postgres_error
    if not _postgres_checked:
        _postgres_checked = True
        probe = create_engine(POSTGRES_SERVER_URL)
        try:
            with probe.connect():
                pass
        except Exception as error:  # noqa: BLE001 - any failure means the server is unusable
            _postgres_error = f"PostgreSQL at {db.describe_url(POSTGRES_SERVER_URL)} unreachable: {error}"
        finally:
            probe.dispose()
    return _postgres_error


def require_postgres() -> None:
    """Skip the calling test without PostgreSQL, or fail it in CI, where it must run."""
    reason = _postgres_unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Put the root logger's handlers and level back after each test.

    Commands under test call ``configure_logging``, which points the root
    logger at the test's captured standard error. Left in place, that handler
    writes to a closed stream in later tests and prints "Logging error" noise.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """Yield the URL of a fresh, empty PostgreSQL schema, dropped afterwards."""
    require_postgres()
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # The search path in the URL makes every connection, including those of
    # subprocesses handed this URL, work inside the schema.
    yield f"{POSTGRES_SERVER_URL}?options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """Return the URL of a SQLite file in the test's own folder."""
    return f"sqlite+pysqlite:///{tmp_path / 'sealbook.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Return an empty database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a SQLite file migrated to the newest revision, for tests to copy."""
    path = tmp_path_factory.mktemp("template") / "sealbook.sqlite3"
    engine = db.make_engine(f"sqlite+pysqlite:///{path}")
    db.upgrade(engine)
    # Closing the last connection moves the write-ahead log into the file and
    # deletes the log, so copying the file alone copies everything.
    engine.dispose()
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgres_migration_sql() -> str:
    """Return the SQL that the migrations run on an empty PostgreSQL schema, recorded once per run."""
    require_postgres()
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    recorder = db.make_engine(f"{POSTGRES_SERVER_URL}?options=-csearch_path%3D{schema}")
    statements: list[tuple[str, object]] = []

    @event.listens_for(recorder, "before_cursor_execute")
    def record(_connection: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        statements.append((statement, parameters))

    try:
        db.upgrade(recorder)
    finally:
        recorder.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    script: list[str] = []
    for statement, parameters in statements:
        if parameters:
            # Alembic's reads of pg_catalog carry parameters and change nothing, so
            # they are left out. A write with parameters would be lost, so it fails here.
            assert statement.lstrip().upper().startswith("SELECT"), statement
            continue
        # The batch runs without parameters, so psycopg would send an escaped "%%" as it is.
        assert "%" not in statement, statement
        script.append(statement)
    return ";\n".join(script)


@pytest.fixture
def engine(db_url: str, sqlite_template: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """Yield an engine on a migrated database of each kind."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        path = Path(url.database)
        assert not path.exists(), "the test wrote its SQLite file before the engine fixture copied one"
        shutil.copyfile(sqlite_template, path)
        test_engine = db.make_engine(db_url)
    else:
        test_engine = db.make_engine(db_url)
        # Requested here, not as an argument, so that SQLite cases run without PostgreSQL.
        with test_engine.begin() as connection:
            connection.exec_driver_sql(request.getfixturevalue("postgres_migration_sql"))
    yield test_engine
    test_engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory on the migrated database."""
    return db.make_session_factory(engine)


@pytest.fixture
def clock() -> FixedClock:
    """Return a clock fixed at a known instant."""
    return FixedClock(FIXED_START)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a fresh home made by ``sealbook init``, with no SEALBOOK_* variable leaking in."""
    for name in list(os.environ):
        if name.startswith("SEALBOOK_"):
            monkeypatch.delenv(name)
    path = tmp_path / "home"
    initialise_home(path)
    return path


@pytest.fixture
def run_in_process(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> InProcessRunner:
    """Return a function that runs a command's entry point in this process, as a subprocess would run.

    The entry point gets ``args`` and returns the exit code. During the run
    only the given SEALBOOK_* variables are set and standard input reads
    ``stdin``. File descriptors 1 and 2 are captured, so output that bypasses
    ``sys.stdout`` is caught as a subprocess's pipes would catch it. The
    logging set-up the command makes is put back afterwards.
    """

    def run(
        entry: CommandEntry, args: Sequence[str], env: Mapping[str, str] | None = None, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        with monkeypatch.context() as scoped:
            for name in list(os.environ):
                if name.startswith("SEALBOOK_"):
                    scoped.delenv(name)
            for name, value in (env or {}).items():
                scoped.setenv(name, value)
            scoped.setattr(sys, "stdin", io.StringIO(stdin))
            loggers = [logging.getLogger(name) for name in COMMAND_LOGGERS]
            levels = [logger.level for logger in loggers]
            handlers = list(logging.getLogger().handlers)
            capfd.readouterr()
            try:
                code = entry(list(args))
            finally:
                logging.getLogger().handlers[:] = handlers
                for logger, level in zip(loggers, levels, strict=True):
                    logger.setLevel(level)
            captured = capfd.readouterr()
        return subprocess.CompletedProcess(list(args), code, captured.out, captured.err)

    return run


class StandinHost:
    """One loopback server for the whole run that serves each test's stand-in under a path of its own.

    Stopping a uvicorn 0.55 server takes about 0.17 s, mostly fixed sleeps,
    and a server per test paid that a few hundred times over.
    """

    def __init__(self, base_url: str, router: Router) -> None:
        self._base_url = base_url
        self._router = router
        self._numbers = itertools.count(1)

    @contextlib.contextmanager
    def mount(self, app: ASGIApp) -> Iterator[str]:
        """Serve ``app`` for the duration of the block; yield its base URL, with no trailing slash."""
        prefix = f"/standin-{next(self._numbers)}"
        route = Mount(prefix, app=app)
        # The server thread iterates over the route list, so the list is
        # replaced rather than changed in place.
        self._router.routes = [*self._router.routes, route]
        try:
            yield self._base_url + prefix
        finally:
            self._router.routes = [known for known in self._router.routes if known is not route]


@pytest.fixture(scope="session")
def standin_host() -> Iterator[StandinHost]:
    """Yield the loopback server that serves the tests' stand-ins."""
    router = Router()
    with serve_in_background(router) as base_url:
        yield StandinHost(base_url, router)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many PostgreSQL cases passed, so a run shows that they were not all skipped."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        reports = terminalreporter.stats.get(outcome, [])
        counts[outcome] = sum(
            1
            for report in reports
            if "postgresql" in getattr(report, "nodeid", "") and report.when != "teardown"
        )
    terminalreporter.write_line(
        "PostgreSQL cases: {passed} passed, {failed} failed, {skipped} skipped, {error} errors".format(
            **counts
        )
    )
