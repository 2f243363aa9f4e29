"""The ``sealbook-admin`` command for clinic staff."""

from __future__ import annotations

import sys

import typer

from admin_cli import clinic_cmd, day_cmd, late_cmd, message_cmd, outbox_cmd, visit_cmd
from admin_cli.audit_cmd import audit_app
from admin_cli.errors import EXIT_CODES_HELP
from admin_cli.import_cmd import import_command
from admin_cli.runner import run_admin

app = typer.Typer(
    help="sealbook-admin: run the clinic's day by booking reference. "
    "No command shows or reads a patient's contact details.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help text: square brackets such as [default: ...] are shown, not read as markup.
    rich_markup_mode=None,
)


@app.callback()
def _root() -> None:
    """Staff commands; each works by booking reference."""


day_cmd.register(app)
visit_cmd.register(app)
message_cmd.register(app)
late_cmd.register(app)
clinic_cmd.register(app)
app.command("import", rich_help_panel="Clinic set-up")(import_command)
outbox_cmd.register(app)
app.add_typer(audit_app, name="audit", rich_help_panel="Records")


def main() -> None:
    """Entry point of the ``sealbook-admin`` console script."""
    sys.exit(run_admin(app, sys.argv[1:]))
