"""Replay of a practitioner's day minute by minute, for the running-late scenario tests.

A scenario describes the day (bookings, consult overruns, staff
declarations); the replay plays the reception desk, the practitioner and the
patients against a driver, and collects every notice the driver issued. The
pure driver runs the projection and the policy in memory; the database driver
in the same package runs the real events through storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from booking.late_policy import NoticeRules, plan_notices
from booking.projection import DayBooking, Phase, project_day, reach_of_away

ZONE = ZoneInfo("Australia/Sydney")
# A Wednesday in daylight-saving time (UTC+11).
DAY = date(2027, 3, 10)
MEDICAL_RULES = NoticeRules(threshold_minutes=30, step_minutes=15, max_notices_per_booking=3)
# Patients arrive this long before the time they were last given.
ARRIVE_EARLY = timedelta(minutes=5)

RUNNING_LATE = "running_late"
SESSION_CANCELLED = "session_cancelled"


def at(clock_text: str) -> datetime:
    """Return the UTC instant of a local ``HH:MM`` on the scenario day."""
    return datetime.combine(DAY, time.fromisoformat(clock_text), ZONE).astimezone(UTC)


def local_text(instant: datetime) -> str:
    """Return an instant as local ``HH:MM`` on the scenario day."""
    return f"{instant.astimezone(ZONE):%H:%M}"


@dataclass(frozen=True)
class Declaration:
    """A staff declaration at ``at_text``: running late by ``minutes``, or away from ``away_from``."""

    at_text: str
    late_minutes: int | None = None
    away_from: str | None = None


@dataclass(frozen=True)
class Scenario:
    """One practitioner's day: ``count`` bookings from ``first_start``, every ``interval`` minutes."""

    name: str
    first_start: str
    count: int
    interval_minutes: int
    duration_minutes: int
    replay_from: str
    replay_until: str
    # Extra consult minutes by booking number (1 is the first booking).
    overrun_minutes: dict[int, int] = field(default_factory=dict)
    # The practitioner starts no consult before this local time.
    practitioner_from: str = "00:00"
    declarations: tuple[Declaration, ...] = ()

    def scheduled(self, number: int) -> datetime:
        """Return the scheduled start of booking ``number``."""
        return at(self.first_start) + timedelta(minutes=self.interval_minutes * (number - 1))


@dataclass(frozen=True)
class Issued:
    """A notice a driver issued: local time, booking number, kind, step and local expected time."""

    at_text: str
    number: int
    kind: str
    step: int | None
    expected_text: str | None


class DayDriver(Protocol):
    """The events of a day and the notices they cause; every call recomputes at ``now``."""

    def check_in(self, number: int, now: datetime) -> None: ...

    def start_consult(self, number: int, now: datetime) -> None: ...

    def finish_consult(self, number: int, now: datetime) -> None: ...

    def declare_late(self, minutes: int, now: datetime) -> None: ...

    def declare_away(self, from_at: datetime, now: datetime) -> None: ...

    def tick(self, now: datetime) -> None: ...

    def issued(self) -> list[Issued]: ...


class PureDayDriver:
    """Runs the pure projection and policy over bookings held in memory."""

    def __init__(self, scenario: Scenario, rules: NoticeRules = MEDICAL_RULES) -> None:
        self._rules = rules
        self._bookings = {
            number: DayBooking(
                booking_id=number,
                reference=f"B{number:02d}",
                starts_at=scenario.scheduled(number),
                duration=timedelta(minutes=scenario.duration_minutes),
                status="booked",
            )
            for number in range(1, scenario.count + 1)
        }
        self._declared: int | None = None
        self._notified: dict[int, list[int]] = {}
        self._issued: list[Issued] = []

    def check_in(self, number: int, now: datetime) -> None:
        self._change(number, status="arrived", checked_in_at=now)
        self.tick(now)

    def start_consult(self, number: int, now: datetime) -> None:
        self._change(number, started_at=now)
        self.tick(now)

    def finish_consult(self, number: int, now: datetime) -> None:
        self._change(number, status="fulfilled", finished_at=now)
        self.tick(now)

    def declare_late(self, minutes: int, now: datetime) -> None:
        self._declared = minutes or None
        self.tick(now)

    def declare_away(self, from_at: datetime, now: datetime) -> None:
        projection = project_day(self._bookings.values(), now, self._declared)
        for projected in reach_of_away(projection, from_at).all:
            if projected.phase is not Phase.WAITING:
                continue  # the booking core cancels no checked-in booking
            self._change(projected.booking_id, status="cancelled")
            self._issued.append(Issued(local_text(now), projected.booking_id, SESSION_CANCELLED, None, None))
        self.tick(now)

    def tick(self, now: datetime) -> None:
        projection = project_day(self._bookings.values(), now, self._declared)
        for notice in plan_notices(projection, self._notified, self._rules):
            self._notified.setdefault(notice.booking_id, []).append(notice.step)
            self._issued.append(
                Issued(
                    local_text(now),
                    notice.booking_id,
                    RUNNING_LATE,
                    notice.step,
                    local_text(notice.expected_at),
                )
            )

    def issued(self) -> list[Issued]:
        return list(self._issued)

    def _change(self, number: int, **changes: object) -> None:
        self._bookings[number] = replace(self._bookings[number], **changes)  # type: ignore[arg-type]


@dataclass
class _Desk:
    """What the replay tracks of the day: who arrived, the consult in progress, who is cancelled."""

    checked_in: set[int] = field(default_factory=set)
    started: set[int] = field(default_factory=set)
    cancelled: set[int] = field(default_factory=set)
    in_consult: int | None = None
    consult_ends_at: datetime | None = None
    away_from: datetime | None = None


def parse_table(text: str) -> list[Issued]:
    """Read a table of notices, one a line: ``AT NUMBER KIND STEP EXPECTED``, with ``-`` for none."""
    rows: list[Issued] = []
    for line in text.strip().splitlines():
        at_text, number, kind, step, expected = line.split()
        rows.append(
            Issued(
                at_text=at_text,
                number=int(number),
                kind=kind,
                step=None if step == "-" else int(step),
                expected_text=None if expected == "-" else expected,
            )
        )
    return rows


def replay_day(scenario: Scenario, driver: DayDriver) -> list[Issued]:
    """Play the scenario minute by minute against ``driver`` and return the notices it issued.

    Each minute, in order: staff declarations, the end of a consult that has
    run its actual length, arrivals (each patient comes ``ARRIVE_EARLY`` before
    the time in their latest notice, or before the scheduled time), the start of
    the next consult, and a tick.
    """
    desk = _Desk()
    declarations = {declaration.at_text: declaration for declaration in scenario.declarations}
    now = at(scenario.replay_from)
    end = at(scenario.replay_until)

    while now <= end:
        declaration = declarations.get(local_text(now))
        if declaration is not None:
            _declare(declaration, driver, desk, now)
        if desk.in_consult is not None and desk.consult_ends_at is not None and now >= desk.consult_ends_at:
            driver.finish_consult(desk.in_consult, now)
            desk.in_consult = None
        _arrive(scenario, driver, desk, now)
        _start_next(scenario, driver, desk, now)
        driver.tick(now)
        now += timedelta(minutes=1)

    return driver.issued()


def _declare(declaration: Declaration, driver: DayDriver, desk: _Desk, now: datetime) -> None:
    if declaration.late_minutes is not None:
        driver.declare_late(declaration.late_minutes, now)
    if declaration.away_from is not None:
        desk.away_from = at(declaration.away_from)
        before = {item.number for item in driver.issued() if item.kind == SESSION_CANCELLED}
        driver.declare_away(desk.away_from, now)
        after = {item.number for item in driver.issued() if item.kind == SESSION_CANCELLED}
        desk.cancelled |= after - before


def _arrive(scenario: Scenario, driver: DayDriver, desk: _Desk, now: datetime) -> None:
    latest = _latest_expected(driver.issued())
    for number in range(1, scenario.count + 1):
        if number in desk.checked_in or number in desk.cancelled:
            continue
        expected = latest.get(number, scenario.scheduled(number))
        if now >= expected - ARRIVE_EARLY:
            driver.check_in(number, now)
            desk.checked_in.add(number)


def _start_next(scenario: Scenario, driver: DayDriver, desk: _Desk, now: datetime) -> None:
    if desk.in_consult is not None or now < at(scenario.practitioner_from):
        return
    if desk.away_from is not None and now >= desk.away_from:
        return
    ready = sorted(
        number
        for number in desk.checked_in - desk.started - desk.cancelled
        if scenario.scheduled(number) <= now
    )
    if not ready:
        return
    number = ready[0]
    driver.start_consult(number, now)
    desk.started.add(number)
    desk.in_consult = number
    length = scenario.duration_minutes + scenario.overrun_minutes.get(number, 0)
    desk.consult_ends_at = now + timedelta(minutes=length)


def _latest_expected(issued: Sequence[Issued]) -> dict[int, datetime]:
    latest: dict[int, datetime] = {}
    for item in issued:
        if item.kind == RUNNING_LATE and item.expected_text is not None:
            latest[item.number] = at(item.expected_text)
    return latest
