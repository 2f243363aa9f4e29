"""`sealbook-admin import FILE`: load or update the clinic from a clinic file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from booking.importing import describe_summary, import_clinic_file
from booking.notices import check_actor
from sealbook.cli_support import HomeOption
from sealbook.clock import clock_from_env
from sealbook.errors import ConfigError
from sealbook.logs import configure_logging
from sealbook.settings import AdminSettings, load_settings


def import_command(
    file: Annotated[Path, typer.Argument(help="The clinic file to load, such as clinic.toml.")],
    home: HomeOption = None,
) -> None:
    """Load a clinic file; importing again updates the clinic in place, never duplicating it."""
    settings = load_settings(AdminSettings, home)
    configure_logging(settings.log_level)
    actor = _actor(settings.operator)
    summary = import_clinic_file(
        settings.effective_database_url, file, now=clock_from_env().now(), actor=actor
    )
    typer.echo(f"imported {file.name}")
    for line in describe_summary(summary):
        typer.echo(f"  {line}")


def _actor(operator: str) -> str:
    if not operator:
        return "system"
    actor = f"staff:{operator}"
    try:
        return check_actor(actor)
    except ValueError:
        raise ConfigError(
            "SEALBOOK_OPERATOR must be a staff name of up to 48 letters, spaces, dots "
            "or dashes, with fewer than six digits"
        ) from None
