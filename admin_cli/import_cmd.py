"""`sealbook-admin import FILE`: load or update the clinic from a clinic file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from admin_cli.context import OperatorOption, YesOption, open_admin, resolve_operator
from admin_cli.output import print_line
from booking.clinic_file import load_clinic_file
from booking.importing import describe_summary
from booking.store import import_clinic
from sealbook.cli_support import HomeOption


def import_command(
    file: Annotated[Path, typer.Argument(help="The clinic file to load, such as clinic.toml.")],
    operator: OperatorOption = None,
    yes: YesOption = False,
    home: HomeOption = None,
) -> None:
    """Load a clinic file; importing again updates the clinic in place, never duplicating it.

    Leave recorded with `leave` is kept. The file is checked whole before
    anything is written, so a bad file changes nothing (exit 1).
    """
    with open_admin(home) as admin:
        actor = resolve_operator(operator, admin.settings)
        now = admin.clock.now()
        parsed = load_clinic_file(file, now=now)
        with admin.transaction() as session:
            summary = import_clinic(session, parsed, now, actor=actor)
    print_line(f"imported {file.name}")
    for line in describe_summary(summary):
        print_line(f"  {line}")
