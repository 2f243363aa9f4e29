"""Tests of the availability engine: slot search and the rules a booking must meet."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.availability import (
    Interval,
    PartOfDay,
    Slot,
    check_bookable,
    find_slots,
    occupied_interval,
)
from booking.clinic import Clinic
from booking.errors import (
    BeyondHorizon,
    InThePast,
    OutsideWorkingHours,
    TooSoon,
    UnknownAppointmentType,
    UnknownPractitioner,
)

ClinicFactory = Callable[..., Clinic]
SYDNEY = ZoneInfo("Australia/Sydney")
# Wed 2 Dec 2026 08:00 in Sydney (AEDT, UTC+11).
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a Sydney wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=SYDNEY).astimezone(UTC)


def local(slots: Sequence[Slot]) -> list[tuple[str, str]]:
    """Return slots as (practitioner, local "Dth HH:MM") pairs for readable asserts."""
    return [(slot.practitioner_id, f"{slot.starts_at.astimezone(SYDNEY):%d %H:%M}") for slot in slots]


def busy_from(
    intervals: Mapping[str, list[Interval]],
) -> Callable[..., Mapping[str, list[Interval]]]:
    """Return a busy lookup over fixed intervals that records the windows requested."""
    windows: list[tuple[datetime, datetime]] = []

    def lookup(start: datetime, end: datetime) -> Mapping[str, list[Interval]]:
        windows.append((start, end))
        return {pid: [(s, e) for s, e in spans if s < end and e > start] for pid, spans in intervals.items()}

    lookup.windows = windows  # type: ignore[attr-defined]
    return lookup


WEDNESDAY = date(2026, 12, 2)
THURSDAY = date(2026, 12, 3)
MONDAY = date(2026, 12, 7)


def test_nearest_first_with_practitioner_order(make_clinic: ClinicFactory) -> None:
    """Slots come earliest first; equal times follow the clinic file's practitioner order."""
    slots = find_slots(make_clinic(), appointment_type_id="standard", now=NOW, limit=4)
    assert local(slots) == [
        ("lee", "02 09:00"),
        ("okafor", "02 09:00"),
        ("lee", "02 09:15"),
        ("okafor", "02 09:15"),
    ]
    assert all(slot.starts_at.tzinfo is UTC for slot in slots)
    assert slots[0].ends_at - slots[0].starts_at == timedelta(minutes=15)


def test_lunch_break_and_session_end(make_clinic: ClinicFactory) -> None:
    """A long appointment must end by the session's end, and the lunch gap offers nothing."""
    slots = find_slots(
        make_clinic(),
        appointment_type_id="long",
        practitioner_id="lee",
        now=NOW,
        to_date=WEDNESDAY,
        limit=100,
    )
    times = [text for _, text in local(slots)]
    assert "02 11:30" in times
    assert "02 11:45" not in times
    assert not any("02 12:" in text for text in times)
    assert times[-1] == "02 16:30"
    assert len(times) == 11 + 15


def test_minimum_notice(make_clinic: ClinicFactory) -> None:
    """Nothing is offered inside the minimum notice."""
    now = at(WEDNESDAY, 8, 40)
    slots = find_slots(make_clinic(), appointment_type_id="standard", practitioner_id="lee", now=now, limit=1)
    assert local(slots) == [("lee", "02 09:45")]


def test_from_date_time_and_part_of_day(make_clinic: ClinicFactory) -> None:
    """A start date, a first-day start time and a part of the day narrow the search."""
    clinic = make_clinic()
    afternoon = find_slots(
        clinic,
        appointment_type_id="standard",
        now=NOW,
        from_date=MONDAY,
        part_of_day=PartOfDay.AFTERNOON,
        limit=2,
    )
    assert local(afternoon) == [("lee", "07 13:00"), ("lee", "07 13:15")]

    from_time = find_slots(
        clinic,
        appointment_type_id="standard",
        now=NOW,
        from_date=MONDAY,
        from_time=time(16, 30),
        limit=3,
    )
    assert local(from_time) == [("lee", "07 16:30"), ("lee", "07 16:45"), ("lee", "08 09:00")]

    evening = find_slots(
        clinic, appointment_type_id="standard", now=NOW, part_of_day=PartOfDay.EVENING, limit=2
    )
    assert local(evening) == [("okafor", "02 17:00"), ("okafor", "02 17:15")]


def test_to_date_and_horizon(make_clinic: ClinicFactory) -> None:
    """The search stops at the last date asked for and never passes the horizon."""
    clinic = make_clinic()
    thursday_only = find_slots(
        clinic,
        appointment_type_id="standard",
        now=NOW,
        from_date=THURSDAY,
        to_date=THURSDAY,
        limit=100,
    )
    assert {slot.starts_at.astimezone(SYDNEY).date() for slot in thursday_only} == {THURSDAY}

    far = find_slots(clinic, appointment_type_id="standard", now=NOW, limit=10_000)
    last_day = WEDNESDAY + timedelta(days=30)
    assert far[-1].starts_at.astimezone(SYDNEY).date() == last_day

    beyond = find_slots(
        clinic, appointment_type_id="standard", now=NOW, from_date=last_day + timedelta(days=1)
    )
    assert beyond == []


def test_busy_time_and_lengths_conflict(make_clinic: ClinicFactory) -> None:
    """A booked long appointment blocks every slot of any length that overlaps it."""
    clinic = make_clinic()
    booked = occupied_interval(at(WEDNESDAY, 9, 15), 30, timedelta(0))
    busy = busy_from({"lee": [booked]})
    standard = find_slots(
        clinic, appointment_type_id="standard", practitioner_id="lee", now=NOW, busy=busy, limit=3
    )
    assert local(standard) == [("lee", "02 09:00"), ("lee", "02 09:45"), ("lee", "02 10:00")]
    long = find_slots(clinic, appointment_type_id="long", practitioner_id="lee", now=NOW, busy=busy, limit=2)
    assert local(long) == [("lee", "02 09:45"), ("lee", "02 10:00")]
    procedure = find_slots(
        clinic, appointment_type_id="procedure", practitioner_id="lee", now=NOW, busy=busy, limit=1
    )
    assert local(procedure) == [("lee", "02 09:45")]


def test_buffer_keeps_bookings_apart(make_clinic: ClinicFactory) -> None:
    """With a 10-minute buffer, slots within 10 minutes either side of a booking go."""
    clinic = make_clinic(extra_rules="buffer_minutes = 10")
    booked = occupied_interval(at(WEDNESDAY, 10, 0), 15, clinic.rules.buffer)
    busy = busy_from({"lee": [booked]})
    slots = find_slots(
        clinic,
        appointment_type_id="standard",
        practitioner_id="lee",
        now=NOW,
        from_time=time(9, 30),
        busy=busy,
        limit=3,
    )
    # 09:45 would run into 10:00 with its buffer; 10:15 starts inside the booking's buffer.
    assert local(slots) == [("lee", "02 09:30"), ("lee", "02 10:30"), ("lee", "02 10:45")]


def test_other_practitioner_stays_free(make_clinic: ClinicFactory) -> None:
    """A booking with one practitioner leaves the other's same time free."""
    busy = busy_from({"lee": [occupied_interval(at(WEDNESDAY, 9), 15, timedelta(0))]})
    slots = find_slots(make_clinic(), appointment_type_id="standard", now=NOW, busy=busy, limit=2)
    assert local(slots) == [("okafor", "02 09:00"), ("lee", "02 09:15")]


def test_search_cost_follows_slots_not_horizon(make_clinic: ClinicFactory) -> None:
    """A search that finds its slots early requests busy time once, whatever the horizon."""
    base = make_clinic()
    clinic = replace(base, rules=replace(base.rules, horizon_days=100_000))
    busy = busy_from({})
    slots = find_slots(clinic, appointment_type_id="standard", now=NOW, busy=busy, limit=3)
    assert len(slots) == 3
    assert len(busy.windows) == 1  # type: ignore[attr-defined]
    assert busy.windows[0][1] - busy.windows[0][0] <= timedelta(hours=25)  # type: ignore[attr-defined]


def test_public_holiday_offers_nothing(make_clinic: ClinicFactory) -> None:
    """A clinic-wide closed date is skipped for every practitioner."""
    clinic = make_clinic(overrides='[[overrides]]\ndate = 2026-12-02\nkind = "closed"\n')
    slots = find_slots(clinic, appointment_type_id="standard", now=NOW, limit=1)
    assert local(slots) == [("lee", "03 09:00")]


def test_type_not_offered(make_clinic: ClinicFactory) -> None:
    """Searching for a type with a practitioner who does not offer it raises."""
    clinic = make_clinic()
    with pytest.raises(UnknownAppointmentType):
        find_slots(clinic, appointment_type_id="procedure", practitioner_id="okafor", now=NOW)
    with pytest.raises(UnknownAppointmentType):
        find_slots(clinic, appointment_type_id="massage", now=NOW)
    with pytest.raises(UnknownPractitioner):
        find_slots(clinic, appointment_type_id="standard", practitioner_id="nobody", now=NOW)
    only_lee = find_slots(clinic, appointment_type_id="procedure", now=NOW, limit=50)
    assert {slot.practitioner_id for slot in only_lee} == {"lee"}


def test_check_bookable_accepts_a_slot(make_clinic: ClinicFactory) -> None:
    """A grid time inside working hours returns its slot."""
    slot = check_bookable(
        make_clinic(),
        appointment_type_id="long",
        practitioner_id="lee",
        starts_at=at(THURSDAY, 13, 30),
        now=NOW,
    )
    assert slot == Slot("lee", "long", at(THURSDAY, 13, 30), at(THURSDAY, 14, 0))


@pytest.mark.parametrize(
    ("practitioner", "type_id", "starts_at", "error"),
    [
        ("nobody", "standard", at(THURSDAY, 10), UnknownPractitioner),
        ("lee", "massage", at(THURSDAY, 10), UnknownAppointmentType),
        ("okafor", "procedure", at(WEDNESDAY, 10), UnknownAppointmentType),
        ("lee", "standard", at(date(2026, 12, 1), 10), InThePast),
        ("lee", "standard", NOW, InThePast),
        ("lee", "standard", at(WEDNESDAY, 8, 45), TooSoon),
        ("lee", "standard", at(date(2027, 1, 5), 10), BeyondHorizon),
        ("lee", "standard", at(THURSDAY, 12, 15), OutsideWorkingHours),
        ("lee", "long", at(THURSDAY, 11, 45), OutsideWorkingHours),
        ("lee", "standard", at(THURSDAY, 10, 5), OutsideWorkingHours),
        ("lee", "standard", at(date(2026, 12, 5), 10), OutsideWorkingHours),
    ],
)
def test_check_bookable_rejects(
    make_clinic: ClinicFactory,
    practitioner: str,
    type_id: str,
    starts_at: datetime,
    error: type[Exception],
) -> None:
    """Each broken rule raises its own error with a plain message."""
    with pytest.raises(error) as caught:
        check_bookable(
            make_clinic(),
            appointment_type_id=type_id,
            practitioner_id=practitioner,
            starts_at=starts_at,
            now=NOW,
        )
    assert "Traceback" not in str(caught.value)
    assert str(caught.value)


def test_staff_may_book_inside_notice(make_clinic: ClinicFactory) -> None:
    """Without the notice check a time inside the minimum notice is accepted."""
    slot = check_bookable(
        make_clinic(),
        appointment_type_id="standard",
        practitioner_id="lee",
        starts_at=at(WEDNESDAY, 8, 45) + timedelta(minutes=15),
        now=at(WEDNESDAY, 8, 30),
        enforce_notice=False,
    )
    assert slot.starts_at == at(WEDNESDAY, 9)
