"""`sealbook-admin import FILE`: load or update the clinic from a clinic file."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from admin_cli.context import OperatorOption, YesOption, open_admin, resolve_operator
from admin_cli.output import print_line
from booking.clinic import Clinic
from booking.clinic_file import load_clinic_file
from booking.importing import describe_summary
from booking.store import import_clinic
from sealbook.cli_support import HomeOption

# A typed path with a digit or an @ could be a phone number or an e-mail
# address given in the wrong place, so errors do not repeat it.
_CONTACT_LIKE = re.compile(r"[\d@]")


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
        parsed = _read_clinic_file(file, now)
        with admin.transaction() as session:
            summary = import_clinic(session, parsed, now, actor=actor)
    print_line(f"imported {file.name}")
    for line in describe_summary(summary):
        print_line(f"  {line}")


def _read_clinic_file(path: Path, now: datetime) -> Clinic:
    """Read and parse a clinic file, naming it in errors only as `_printable_path` allows."""
    return load_clinic_file(path, now=now, shown_as=_printable_path(path) or "")


def _printable_path(path: Path) -> str | None:
    """Return the path as typed, else its file name, whichever has no digit or @; None if neither."""
    for candidate in (str(path), path.name):
        if not _CONTACT_LIKE.search(candidate):
            return candidate
    return None
