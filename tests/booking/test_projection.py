"""The projection of a practitioner's day from bookings, the declared delay and now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.projection import DayBooking, Phase, delay_minutes, project_day, reach_of_away

NINE = datetime(2027, 3, 9, 22, 0, tzinfo=UTC)  # 09:00 in Sydney on 10 March 2027
QUARTER = timedelta(minutes=15)


def booking(number: int, status: str = "booked", **instants: datetime) -> DayBooking:
    """Return booking ``number`` of a day of 15-minute appointments from 09:00."""
    return DayBooking(
        booking_id=number,
        reference=f"B{number:02d}",
        starts_at=NINE + QUARTER * (number - 1),
        duration=QUARTER,
        status=status,
        **instants,
    )


def minutes(count: int) -> timedelta:
    """Return ``count`` minutes."""
    return timedelta(minutes=count)


def test_on_time_day_has_no_delay() -> None:
    """Before the day starts every booking is expected at its scheduled time."""
    projection = project_day([booking(n) for n in range(1, 5)], NINE - minutes(30))

    assert [item.delay_minutes for item in projection.bookings] == [0, 0, 0, 0]
    assert projection.free_at == NINE - minutes(30)
    assert projection.current_delay_minutes == 0


def test_overrunning_consult_pushes_everyone() -> None:
    """A consult past its planned end frees the practitioner only now, so later bookings slip."""
    day = [booking(1, "arrived", checked_in_at=NINE, started_at=NINE), booking(2), booking(3)]

    projection = project_day(day, NINE + minutes(22))

    assert projection.in_progress_reference == "B01"
    assert projection.free_at == NINE + minutes(22)
    assert [item.expected_at for item in projection.bookings] == [NINE + minutes(22), NINE + minutes(37)]
    assert [item.delay_minutes for item in projection.bookings] == [7, 7]


def test_consult_in_time_frees_at_planned_end() -> None:
    """A consult still inside its duration frees the practitioner at its start plus duration."""
    day = [booking(1, "arrived", started_at=NINE + minutes(5)), booking(2)]

    projection = project_day(day, NINE + minutes(10))

    assert projection.free_at == NINE + minutes(20)
    assert projection.bookings[0].delay_minutes == 5


def test_finished_consult_frees_at_finish() -> None:
    """A finished consult frees the practitioner at its finish time, not at its planned end."""
    day = [
        booking(1, "fulfilled", started_at=NINE, finished_at=NINE + minutes(8)),
        booking(2, "arrived", checked_in_at=NINE),
    ]

    projection = project_day(day, NINE + minutes(8))

    assert projection.in_progress_reference is None
    assert projection.bookings[0].expected_at == NINE + QUARTER
    assert projection.bookings[0].phase is Phase.CHECKED_IN


def test_cancelled_and_noshow_take_no_time() -> None:
    """Cancelled and no-show bookings leave the sequence, so the gap absorbs the delay."""
    day = [
        booking(1, "arrived", started_at=NINE),
        booking(2, "cancelled"),
        booking(3, "noshow"),
        booking(4),
    ]

    projection = project_day(day, NINE + minutes(40))

    assert [item.reference for item in projection.bookings] == ["B04"]
    assert projection.bookings[0].expected_at == NINE + minutes(45)
    assert projection.bookings[0].delay_minutes == 0


def test_checked_in_patient_waits_in_sequence() -> None:
    """A checked-in patient keeps their place and does not jump ahead of an earlier booking."""
    day = [booking(1, "arrived", started_at=NINE), booking(2), booking(3, "arrived", checked_in_at=NINE)]

    projection = project_day(day, NINE + minutes(20))

    assert [(item.reference, item.delay_minutes) for item in projection.bookings] == [("B02", 5), ("B03", 5)]


def test_declared_delay_is_a_floor() -> None:
    """A declared delay lifts bookings that would otherwise be on time, and no further."""
    day = [booking(1), booking(2)]

    projection = project_day(day, NINE - minutes(60), declared_delay_minutes=20)

    assert [item.delay_minutes for item in projection.bookings] == [20, 20]
    assert projection.declared_delay_minutes == 20


def test_computed_delay_beyond_declared_wins() -> None:
    """When consults run later than the declaration, the computed delay is kept."""
    day = [booking(1, "arrived", started_at=NINE), booking(2)]

    projection = project_day(day, NINE + minutes(50), declared_delay_minutes=10)

    assert projection.bookings[0].delay_minutes == 35


def test_timestamp_wins_over_lagging_status() -> None:
    """A booking with a start time but status still booked counts as in consult."""
    assert booking(1, "booked", started_at=NINE).phase is Phase.IN_PROGRESS
    assert booking(1, "booked", checked_in_at=NINE).phase is Phase.CHECKED_IN
    assert booking(1, "arrived", started_at=NINE, finished_at=NINE).phase is Phase.FINISHED


def test_naive_now_rejected() -> None:
    """A naive ``now`` is a programming error."""
    with pytest.raises(ValueError, match="aware"):
        project_day([], datetime(2027, 3, 10, 9, 0))


def test_negative_declaration_rejected() -> None:
    """A negative declared delay is a programming error."""
    with pytest.raises(ValueError, match="negative"):
        project_day([], NINE, declared_delay_minutes=-5)


def test_delay_rounds_down() -> None:
    """Delays are whole minutes, rounded down, never negative."""
    assert delay_minutes(NINE, NINE + timedelta(seconds=89)) == 1
    assert delay_minutes(NINE, NINE - minutes(3)) == 0


def test_away_reaches_scheduled_and_projected() -> None:
    """Leaving at 10:00 reaches bookings scheduled from 10:00 and earlier ones projected after it.

    The first consult (09:00) is still going at 09:50, so booking 2 starts at
    09:50, booking 3 at 10:05 and booking 4 at 10:20; the session ends at 10:45.
    """
    day = [booking(n) for n in range(1, 9)]
    day[0] = booking(1, "arrived", started_at=NINE)
    projection = project_day(day, NINE + minutes(50))

    reach = reach_of_away(projection, NINE + minutes(60), until_at=NINE + minutes(105))

    assert [item.reference for item in reach.scheduled_after] == ["B05", "B06", "B07"]
    assert [item.reference for item in reach.projected_after] == ["B03", "B04"]
    assert [item.reference for item in reach.all] == ["B03", "B04", "B05", "B06", "B07"]


STATUSES = st.sampled_from(["booked", "arrived", "fulfilled", "cancelled", "noshow"])


@st.composite
def days(draw: st.DrawFn) -> tuple[list[DayBooking], datetime, int | None]:
    """Draw a day of up to 12 bookings with random statuses, a now and a declaration."""
    count = draw(st.integers(min_value=0, max_value=12))
    day: list[DayBooking] = []
    for number in range(1, count + 1):
        status = draw(STATUSES)
        offset = draw(st.integers(min_value=0, max_value=600))
        length = draw(st.sampled_from([5, 10, 15, 30]))
        started = draw(st.none() | st.integers(min_value=-30, max_value=120)) if status == "arrived" else None
        day.append(
            DayBooking(
                booking_id=number,
                reference=f"B{number:02d}",
                starts_at=NINE + minutes(offset),
                duration=minutes(length),
                status=status,
                started_at=None if started is None else NINE + minutes(offset + started),
            )
        )
    now = NINE + minutes(draw(st.integers(min_value=-60, max_value=700)))
    declared = draw(st.none() | st.integers(min_value=0, max_value=90))
    return day, now, declared


@settings(max_examples=200, deadline=None)
@given(days())
def test_projection_invariants(drawn: tuple[list[DayBooking], datetime, int | None]) -> None:
    """Remaining bookings start no earlier than scheduled, now, the floor or the previous end."""
    day, now, declared = drawn
    by_id = {item.booking_id: item for item in day}

    projection = project_day(day, now, declared)

    remaining = {item.booking_id for item in day if item.phase in (Phase.WAITING, Phase.CHECKED_IN)}
    assert {item.booking_id for item in projection.bookings} == remaining
    previous_end = projection.free_at
    for item in projection.bookings:
        assert item.expected_at >= item.scheduled_at
        assert item.expected_at >= now
        assert item.expected_at >= previous_end
        assert item.delay_minutes >= (declared or 0)
        previous_end = item.expected_at + by_id[item.booking_id].duration
