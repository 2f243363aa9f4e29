"""The ``sealbook-admin`` command for clinic staff."""

from __future__ import annotations

import sys

import typer

from admin_cli import late_cmd
from admin_cli.import_cmd import import_command
from sealbook.cli_support import run_app

app = typer.Typer(
    help="sealbook-admin: run the clinic's day by booking reference.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


app.command("import")(import_command)
late_cmd.register(app)


@app.callback()
def _root() -> None:
    """Staff commands; each works by booking reference."""


def main() -> None:
    """Entry point of the ``sealbook-admin`` console script."""
    sys.exit(run_app(app, "sealbook-admin"))
