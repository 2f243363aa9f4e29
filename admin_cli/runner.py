"""Running ``sealbook-admin`` so that every failure is one plain line and a documented exit code."""

from __future__ import annotations

import logging
import re
import sys

import typer
from sqlalchemy import exc as sql_errors

from admin_cli.errors import EXIT_ERROR, EXIT_REFUSED, EXIT_USAGE, exit_code_for
from sealbook.errors import SealbookError

logger = logging.getLogger(__name__)

PROG_NAME = "sealbook-admin"
EXIT_INTERRUPTED = 130

# PostgreSQL's SQLSTATE for "insufficient privilege".
_INSUFFICIENT_PRIVILEGE = "42501"

# The parser quotes what was typed ("'0491 570 157' is not a valid integer").
# A quoted or bracketed value with a digit or an @ could be a phone number,
# chat id or e-mail address typed in the wrong place, so it is not repeated.
_ECHOED_VALUE = re.compile(r"'[^']*[\d@][^']*'|\([^)]*[\d@][^)]*\)")


def run_admin(app: typer.Typer, argv: list[str] | None = None) -> int:
    """Run ``app`` on ``argv`` and return the exit code, printing any failure as one line on stderr."""
    try:
        result = app(args=argv, prog_name=PROG_NAME, standalone_mode=False)
    except SealbookError as error:
        _fail(str(error))
        return exit_code_for(error)
    except typer.Abort:
        _fail("aborted; nothing changed")
        return EXIT_REFUSED
    except typer.TyperException as error:
        return _report_usage_error(error)
    except sql_errors.DBAPIError as error:
        _fail(_describe_database_error(error))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _fail("interrupted")
        return EXIT_INTERRUPTED
    except Exception as error:
        logger.debug("unexpected error", exc_info=True)
        _fail(
            f"unexpected error ({type(error).__name__}); "
            "run again with SEALBOOK_LOG_LEVEL=DEBUG to log the details"
        )
        return EXIT_ERROR
    return result if isinstance(result, int) else 0


def _fail(message: str) -> None:
    print(f"{PROG_NAME}: {message}", file=sys.stderr)


def _report_usage_error(error: typer.TyperException) -> int:
    """Print a usage error from the command-line parser as one line, or the help it asks for."""
    exit_code = int(getattr(error, "exit_code", EXIT_USAGE))
    context = getattr(error, "ctx", None)
    # A command group run without a sub-command raises this error with the
    # group's help as its message; showing that help is the right answer.
    if type(error).__name__ == "NoArgsIsHelpError":
        print(error.format_message())
        return exit_code
    message = _ECHOED_VALUE.sub("(the value given)", " ".join(error.format_message().split()))
    if context is not None:
        message = f"{message} (see: {context.command_path} --help)"
    _fail(message)
    return exit_code


def _describe_database_error(error: sql_errors.DBAPIError) -> str:
    """Describe a database failure in one line without any bound parameter or row content."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    first_line = str(error.orig).strip().splitlines()[0] if error.orig is not None else ""
    if sqlstate == _INSUFFICIENT_PRIVILEGE:
        # PostgreSQL names only the table or column here, never a value.
        return (
            f"the database refused access ({first_line}); this database role lacks a privilege "
            "the command needs, see docs/staff_role.sql"
        )
    if isinstance(error, sql_errors.OperationalError):
        return (
            f"database error ({type(error.orig).__name__}); check SEALBOOK_DATABASE_URL "
            "and that the server is running"
        )
    return (
        f"database error ({type(error.orig).__name__}); "
        "run again with SEALBOOK_LOG_LEVEL=DEBUG to log the details"
    )
