"""Running one simulated day from a fresh home to its printed summary."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy import func, select

from sealbook.clock import FixedClock
from sealbook.errors import ConfigError
from sealbook.home import initialise_home
from sealbook.simulation.checks import Outcome, evaluate
from sealbook.simulation.roster import start_instant
from sealbook.simulation.scenario import DayRecord, run_day
from sealbook.simulation.world import LogCapture, World, open_world
from storage.models.contacts import Contact

logger = logging.getLogger(__name__)


def run_simulated_day(home: Path, database_url: str, capture: LogCapture) -> tuple[Outcome, str]:
    """Initialise `home` with the demo clinic, run the day, and return its outcome and summary text."""
    started = time.monotonic()
    clock = FixedClock(start_instant())
    initialise_home(home, clock=clock, demo_clinic=True)
    with open_world(home, database_url, clock) as world:
        _require_empty(world)
        logger.info("simulated day started")
        record = run_day(world)
        outcome = evaluate(world, record, capture.lines)
        summary = describe(world, record, outcome, time.monotonic() - started)
    return outcome, summary


def _require_empty(world: World) -> None:
    with world.front.session_factory() as session:
        contacts = session.scalar(select(func.count()).select_from(Contact)) or 0
    if contacts:
        raise ConfigError(
            "the database already holds contacts; simulate-day needs an empty database or schema "
            "(unset SEALBOOK_DATABASE_URL to use a SQLite file in a fresh home)"
        )


def describe(world: World, record: DayRecord, outcome: Outcome, seconds: float) -> str:
    """Return the summary: what happened, per channel, and each invariant with its result."""
    backend = "PostgreSQL" if world.database_url.startswith("postgres") else "SQLite"
    patients_by_channel: dict[str, int] = {}
    for patient in record.patients.values():
        patients_by_channel[patient.channel] = patients_by_channel.get(patient.channel, 0) + 1
    lines = [
        f"Simulated day at the demo clinic on {backend}, {seconds:.1f} s of real time",
        "patients: "
        + ", ".join(f"{count} on {channel}" for channel, count in sorted(patients_by_channel.items())),
    ]
    for name, value in outcome.counts.items():
        lines.append(f"{name}: {value}")
    lines.append(
        "notices delivered per channel: "
        + (
            ", ".join(f"{channel} {count}" for channel, count in sorted(outcome.sent_by_channel.items()))
            or "none"
        )
    )
    lines.append("")
    lines.append("Staff view of today (sealbook-admin day), by reference only:")
    lines.extend("  " + line for line in record.staff_day_view.rstrip().splitlines())
    lines.append("")
    lines.append("Invariants:")
    for check in outcome.checks:
        mark = "ok  " if check.passed else "FAIL"
        detail = f" ({check.detail})" if check.detail and not check.passed else ""
        lines.append(f"  {mark} {check.name}{detail}")
    lines.append("")
    lines.append("all invariants hold" if outcome.passed else "SOME INVARIANTS FAILED")
    return "\n".join(lines)
