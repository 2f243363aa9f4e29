"""``sealbook simulate-day``: a whole clinic day on real clients against loopback stand-ins, then its checks.

About 40 patients book, look up, move and cancel over Telegram (the real
python-telegram-bot client and a Bot API stand-in), SMS (webhooks signed with
twilio's RequestValidator, sent through a Twilio stand-in) and the console
channel. Staff run ``sealbook-admin``, a consult overruns, staff declare the
doctor 45 minutes late and message a session, and the relay delivers it all,
e-mail with calendar files included (a loopback SMTP server). The day runs
on a fixed clock, so it takes seconds, and ends with the invariants checked
and a summary printed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sealbook.errors import ConfigError, SealbookError
from sealbook.logs import configure_logging
from sealbook.settings import LOG_LEVELS

if TYPE_CHECKING:
    from sealbook.simulation.world import LogCapture

logger = logging.getLogger(__name__)


class SimulationFailed(SealbookError):
    """The simulated day ended with at least one invariant broken."""


def simulate_day_command(
    home: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the day's home; it must not exist or be empty. "
            "[default: a temporary folder, removed afterwards]"
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="Log level shown on standard error; every level is checked for leaks.")
    ] = "WARNING",
) -> None:
    """Run a whole clinic day against local stand-ins, check its invariants and print a summary.

    Uses SEALBOOK_DATABASE_URL when set (an empty database or schema), else a
    SQLite file in the home.
    """
    if log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
    try:
        from sealbook.simulation.run import run_simulated_day
    except ModuleNotFoundError as error:
        raise ConfigError(
            f"simulate-day cannot import {error.name}; it needs the development packages, "
            "installed with: pip install -e '.[dev]'"
        ) from None

    with _day_home(home) as folder:
        capture = _capture_logs(log_level)
        try:
            outcome, summary = run_simulated_day(
                folder, os.environ.get("SEALBOOK_DATABASE_URL", "").strip(), capture
            )
        finally:
            logging.getLogger().removeHandler(capture)
        typer.echo(summary)
        if not outcome.passed:
            failed = [check.name for check in outcome.checks if not check.passed]
            raise SimulationFailed(f"the simulated day broke {len(failed)} invariant(s): {'; '.join(failed)}")


@contextlib.contextmanager
def _day_home(home: Path | None) -> Iterator[Path]:
    """Yield an empty home folder: the one given, or a temporary one removed afterwards."""
    if home is not None:
        if home.exists() and any(home.iterdir()):
            raise ConfigError(f"--home {home} is not empty; simulate-day needs a fresh home")
        yield home
        return
    folder = Path(tempfile.mkdtemp(prefix="sealbook-day-"))
    try:
        yield folder / "home"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _capture_logs(level: str) -> LogCapture:
    """Show log lines at `level` on standard error and capture every line at every level."""
    from sealbook.simulation.world import LogCapture

    configure_logging("DEBUG")
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setLevel(level.upper())
    capture = LogCapture()
    root.addHandler(capture)
    return capture
