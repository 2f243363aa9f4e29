"""Settings, database, clock and operator identity that every admin command starts from."""

from __future__ import annotations

import getpass
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.errors import AdminError, InvalidInput
from sealbook.clock import Clock, clock_from_env
from sealbook.logs import configure_logging
from sealbook.settings import AdminSettings, load_settings
from storage import db

logger = logging.getLogger(__name__)

# Login names and staff ids: letters, digits, dot, dash and underscore, with
# fewer than six digits. An e-mail address or a phone number cannot pass, so
# neither reaches the audit log.
_OPERATOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,47}")
MAX_OPERATOR_DIGITS = 5
ACTOR_PREFIX = "staff:"

OperatorOption = Annotated[
    str | None,
    typer.Option(
        "--operator",
        help="Who is running the command, recorded in the audit log "
        "[default: $SEALBOOK_OPERATOR, else admin.operator in sealbook.toml, else the login name]",
        show_default=False,
    ),
]
YesOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Make the change without asking for confirmation (for scripts)."),
]
JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print JSON for scripts instead of a table."),
]


@dataclass(frozen=True)
class AdminContext:
    """One command's settings, database session factory and clock."""

    settings: AdminSettings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock

    def session(self) -> Session:
        """Open a session for reading; writers use ``transaction()``."""
        return self.sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Run one transaction: commit on success, roll back on any error."""
        with db.session_scope(self.sessions) as session:
            yield session


@contextmanager
def open_admin(home: Path | None) -> Iterator[AdminContext]:
    """Load the admin settings and open the database, which must be fully migrated."""
    settings = load_settings(AdminSettings, home)
    # The tool's output is its result, so the booking core's INFO lines stay
    # out of it; DEBUG still logs everything for a diagnosis.
    debugging = settings.log_level.upper() == "DEBUG"
    configure_logging("DEBUG" if debugging else "WARNING")
    if not debugging:
        # psycopg warns when it discards a failed pipeline, which happens when
        # the booking core catches a time taken by another booking; the
        # refusal itself is the one line staff need.
        logging.getLogger("psycopg").setLevel(logging.ERROR)
    database_file = db.sqlite_file(settings.effective_database_url)
    # Opening a missing SQLite file would create an empty database.
    if database_file is not None and not database_file.exists():
        raise AdminError(
            f"no database at {database_file}; run `sealbook init --home {settings.home}` "
            "or set SEALBOOK_DATABASE_URL"
        )

    engine = db.make_engine(settings.effective_database_url)
    try:
        _check_schema(engine)
        yield AdminContext(settings, engine, db.make_session_factory(engine), clock_from_env())
    finally:
        engine.dispose()


def _check_schema(engine: Engine) -> None:
    current = db.current_revision(engine)
    head = db.head_revision()
    if current != head:
        raise AdminError(
            f"the database is at migration {current or 'none'} but this tool needs {head}; "
            "run `sealbook db upgrade`"
        )


def resolve_operator(option: str | None, settings: AdminSettings) -> str:
    """Return the audit actor: ``--operator``, else the setting, else the login name."""
    name = (option or "").strip() or settings.operator
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            raise InvalidInput(
                "cannot tell who is running this command; pass --operator NAME or set SEALBOOK_OPERATOR"
            ) from None
    digits = sum(character.isdigit() for character in name)
    if not _OPERATOR_NAME.fullmatch(name) or digits > MAX_OPERATOR_DIGITS:
        raise InvalidInput(
            "the operator name must be 1 to 48 letters, digits, dots, dashes or underscores, "
            "with at most 5 digits, such as a login name; pass another --operator or SEALBOOK_OPERATOR"
        )
    return f"{ACTOR_PREFIX}{name}"
