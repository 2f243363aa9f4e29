"""Importing a clinic file into a database by URL, for the command-line tools.

`sealbook-admin import FILE` and `sealbook init --demo-clinic` both call
`import_clinic_file`. The file is parsed and validated in full before the
database is touched, and the import runs in one transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from booking.clinic_file import load_clinic_file
from booking.store import ImportSummary, import_clinic
from sealbook.errors import ConfigError
from storage import db

logger = logging.getLogger(__name__)


def import_clinic_file(database_url: str, path: Path, *, now: datetime, actor: str) -> ImportSummary:
    """Parse a clinic file and import it into the migrated database at `database_url`.

    Raises `ClinicFileError` for a bad file and `ConfigError` when the
    database is not at the newest migration.
    """
    parsed = load_clinic_file(path, now=now)
    engine = db.make_engine(database_url)
    try:
        current = db.current_revision(engine)
        head = db.head_revision()
        if current != head:
            raise ConfigError(
                f"the database is at revision {current or 'empty'}, not {head}; "
                "run `sealbook db upgrade` first"
            )
        with db.session_scope(db.make_session_factory(engine)) as session:
            summary = import_clinic(session, parsed, now, actor=actor)
    finally:
        engine.dispose()
    logger.info("clinic file %s imported", path.name)
    return summary


def describe_summary(summary: ImportSummary) -> list[str]:
    """Return plain lines saying what an import changed, for command output."""
    lines = ["clinic created" if summary.created else "clinic updated in place"]
    for label, slugs in (
        ("practitioners added", summary.practitioners_added),
        ("practitioners updated", summary.practitioners_updated),
        ("practitioners deactivated", summary.practitioners_deactivated),
        ("appointment types added", summary.types_added),
        ("appointment types updated", summary.types_updated),
        ("appointment types deactivated", summary.types_deactivated),
    ):
        if slugs:
            lines.append(f"{label}: {', '.join(slugs)}")
    lines.append(f"date overrides: {summary.overrides}")
    for left in summary.bookings_left:
        count = len(left.references)
        lines.append(
            f"practitioner {left.practitioner_id} is deactivated but still has {count} future "
            f"booking{'s' if count != 1 else ''}: {', '.join(left.references)}; "
            "move them to another practitioner or cancel them"
        )
    return lines
