"""One clock for every component, startable at a given instant for simulations and tests."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sealbook.errors import ConfigError

NOW_VARIABLE = "SEALBOOK_NOW"


class Clock(Protocol):
    """Source of the current instant, always an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's own clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """A clock that starts at a given instant and then runs forward in real time."""

    def __init__(self, start: datetime) -> None:
        self._start = _require_aware(start).astimezone(UTC)
        self._started_monotonic = time.monotonic()

    def now(self) -> datetime:
        elapsed = time.monotonic() - self._started_monotonic
        return self._start + timedelta(seconds=elapsed)


class FixedClock:
    """A clock that moves only when told to; tests replay a day with it in milliseconds."""

    def __init__(self, start: datetime) -> None:
        self._now = _require_aware(start).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = _require_aware(instant).astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def parse_instant(text: str, setting: str = NOW_VARIABLE) -> datetime:
    """Parse an ISO-8601 instant with a UTC offset, naming ``setting`` in the error."""
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{setting} is not an ISO-8601 instant; write it like 2027-03-08T09:00:00+11:00"
        ) from None
    if instant.tzinfo is None:
        raise ConfigError(f"{setting} has no UTC offset; add one, as in 2027-03-08T09:00:00+11:00")
    try:
        return instant.astimezone(UTC)
    except OverflowError:
        raise ConfigError(f"{setting} is out of range; use an instant between years 1 and 9999") from None


def clock_from_env(environ: dict[str, str] | None = None) -> Clock:
    """Return the process clock: an ``OffsetClock`` if ``SEALBOOK_NOW`` is set, else the system clock."""
    values = os.environ if environ is None else environ
    start = values.get(NOW_VARIABLE, "").strip()
    if not start:
        return SystemClock()
    return OffsetClock(parse_instant(start))


def _require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("clock instants must be timezone-aware")
    return instant
