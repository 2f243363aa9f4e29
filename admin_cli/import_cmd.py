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
from booking.clinic_file import parse_clinic_file
from booking.errors import ClinicFileError
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
    """Read and parse a UTF-8 clinic file, naming it in errors only as `_printable_path` allows.

    `booking.clinic_file.load_clinic_file` does the same but puts the whole
    typed path in its errors.
    """
    printable = _printable_path(path)
    file_label = "the clinic file" if printable is None else f"clinic file {printable}"
    try:
        data = path.read_bytes()
    except OSError as error:
        # strerror has no file name in it, unlike str(error).
        reason = error.strerror or type(error).__name__
        raise ClinicFileError(f"cannot read {file_label}: {reason}; check the path") from None
    try:
        # utf-8-sig accepts the byte-order mark some Windows editors write.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ClinicFileError(
            f"{file_label} is not UTF-8 text (byte {error.start + 1} is invalid); "
            "save it as UTF-8 and import it again"
        ) from None
    return parse_clinic_file(text, now=now, source=printable or "the clinic file")


def _printable_path(path: Path) -> str | None:
    """Return the path as typed, else its file name, whichever has no digit or @; None if neither."""
    for candidate in (str(path), path.name):
        if not _CONTACT_LIKE.search(candidate):
            return candidate
    return None
