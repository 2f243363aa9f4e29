"""Running a typer application so that errors reach the user as one plain line, never a traceback."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from sealbook.errors import SealbookError

logger = logging.getLogger(__name__)

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Home folder with sealbook.toml, keys and the SQLite database "
        "[default: $SEALBOOK_HOME, else ./var]",
        show_default=False,
    ),
]

EXIT_ERROR = 1
EXIT_USAGE = 2


def run_app(app: typer.Typer, prog_name: str, argv: list[str] | None = None) -> int:
    """Run ``app`` and turn every failure into one line on standard error and an exit code.

    Usage mistakes are reported by typer itself, which exits through
    SystemExit; everything else that escapes a command is caught here.
    """
    try:
        app(args=argv, prog_name=prog_name)
    except SystemExit as exit_request:
        return _exit_code(exit_request)
    except SealbookError as error:
        print(f"{prog_name}: {error}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as error:
        # File system trouble names the path, which is the operator's own.
        where = f" ({error.filename})" if error.filename else ""
        print(f"{prog_name}: {error.strerror or type(error).__name__}{where}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{prog_name}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the last guard before a traceback reaches a person
        logger.debug("unexpected error", exc_info=True)
        if os.environ.get("SEALBOOK_LOG_LEVEL", "").upper() == "DEBUG":
            traceback.print_exc()
        print(
            f"{prog_name}: unexpected error ({type(error).__name__}); "
            "run again with SEALBOOK_LOG_LEVEL=DEBUG to see the details",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0


def _exit_code(exit_request: SystemExit) -> int:
    code = exit_request.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return EXIT_ERROR
