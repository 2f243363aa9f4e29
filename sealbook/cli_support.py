"""Running a typer application so that errors reach the user as one plain line, never a traceback."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import click
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
    """Run ``app`` and turn every failure into one line on standard error and an exit code."""
    try:
        result = app(args=argv, prog_name=prog_name, standalone_mode=False)
    except SealbookError as error:
        print(f"{prog_name}: {error}", file=sys.stderr)
        return EXIT_ERROR
    except click.exceptions.Abort:
        print(f"{prog_name}: aborted", file=sys.stderr)
        return EXIT_ERROR
    except click.exceptions.Exit as exit_request:
        return exit_request.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except KeyboardInterrupt:
        print(f"{prog_name}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        logger.debug("unexpected error", exc_info=True)
        print(
            f"{prog_name}: unexpected error ({type(error).__name__}); "
            "run again with SEALBOOK_LOG_LEVEL=DEBUG to log the details",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return result if isinstance(result, int) else 0
