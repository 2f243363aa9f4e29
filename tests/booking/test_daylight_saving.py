"""Tests of slots, weekly rules and cut-offs on Sydney's daylight-saving changeover days.

In 2026 Sydney's clocks go back from 03:00 to 02:00 on Sunday 5 April and
forward from 02:00 to 03:00 on Sunday 4 October.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from booking.availability import check_bookable, find_slots, session_starts
from booking.clinic import Clinic
from booking.clinic_file import parse_clinic_file
from booking.localtime import Occurrence, local_to_utc, wall_clock_before

ClinicFactory = Callable[..., Clinic]
SYDNEY = ZoneInfo("Australia/Sydney")
AUTUMN_CHANGE = date(2026, 4, 5)  # 03:00 AEDT becomes 02:00 AEST
SPRING_CHANGE = date(2026, 10, 4)  # 02:00 AEST becomes 03:00 AEDT
BEFORE_AUTUMN = datetime(2026, 3, 20, 0, 0, tzinfo=UTC)
BEFORE_SPRING = datetime(2026, 9, 20, 0, 0, tzinfo=UTC)


def wall_times(clinic: Clinic, day: date, now: datetime) -> list[str]:
    """Return the local wall-clock labels of every standard slot with Dr Lee on `day`."""
    slots = find_slots(
        clinic,
        appointment_type_id="standard",
        practitioner_id="lee",
        now=now,
        from_date=day,
        to_date=day,
        limit=1000,
    )
    return [f"{slot.starts_at.astimezone(SYDNEY):%H:%M}" for slot in slots]


def grid(start: str, end: str) -> list[str]:
    """Return the 15-minute wall-clock labels from `start` up to, not including, `end`."""
    moment = datetime.strptime(start, "%H:%M")
    stop = datetime.strptime(end, "%H:%M")
    labels = []
    while moment < stop:
        labels.append(f"{moment:%H:%M}")
        moment += timedelta(minutes=15)
    return labels


def test_daytime_session_on_both_change_days(make_clinic: ClinicFactory) -> None:
    """A 09:00-17:00 Sunday session offers exactly its wall-clock grid on both change days."""
    for day, now in ((AUTUMN_CHANGE, BEFORE_AUTUMN), (SPRING_CHANGE, BEFORE_SPRING)):
        clinic = make_clinic(sunday='["09:00-17:00"]', now=now)
        assert wall_times(clinic, day, now) == [*grid("09:00", "16:45"), "16:45"]


def test_spring_forward_skips_missing_hour(make_clinic: ClinicFactory) -> None:
    """On the October change, a 01:00-04:00 session has no 02:xx slots and no duplicates."""
    clinic = make_clinic(sunday='["01:00-04:00"]', now=BEFORE_SPRING)
    labels = wall_times(clinic, SPRING_CHANGE, BEFORE_SPRING)
    assert labels == grid("01:00", "02:00") + grid("03:00", "04:00")
    starts = list(session_starts(clinic, "lee", SPRING_CHANGE, 15))
    assert len(set(starts)) == len(starts) == 8
    assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(starts))


def test_fall_back_offers_repeated_hour_twice(make_clinic: ClinicFactory) -> None:
    """On the April change, the repeated 02:xx hour is offered at both of its instants."""
    clinic = make_clinic(sunday='["01:00-04:00"]', now=BEFORE_AUTUMN)
    slots = find_slots(
        clinic,
        appointment_type_id="standard",
        practitioner_id="lee",
        now=BEFORE_AUTUMN,
        from_date=AUTUMN_CHANGE,
        to_date=AUTUMN_CHANGE,
        limit=1000,
    )
    instants = [slot.starts_at for slot in slots]
    assert len(set(instants)) == len(instants) == 16
    labels = sorted(f"{s.astimezone(SYDNEY):%H:%M}" for s in instants)
    assert labels == sorted(grid("01:00", "04:00") + grid("02:00", "03:00"))
    offsets = {s.astimezone(SYDNEY).utcoffset() for s in instants if s.astimezone(SYDNEY).hour == 2}
    assert offsets == {timedelta(hours=11), timedelta(hours=10)}


def test_weekly_rule_keeps_local_start(make_clinic: ClinicFactory) -> None:
    """Monday's 09:00 start stays 09:00 local on both sides of the October change."""
    clinic = make_clinic(now=BEFORE_SPRING)
    before = find_slots(
        clinic,
        appointment_type_id="standard",
        practitioner_id="lee",
        now=BEFORE_SPRING,
        from_date=date(2026, 9, 28),
        limit=1,
    )[0]
    after = find_slots(
        clinic,
        appointment_type_id="standard",
        practitioner_id="lee",
        now=BEFORE_SPRING,
        from_date=date(2026, 10, 5),
        limit=1,
    )[0]
    assert f"{before.starts_at.astimezone(SYDNEY):%a %H:%M}" == "Mon 09:00"
    assert f"{after.starts_at.astimezone(SYDNEY):%a %H:%M}" == "Mon 09:00"
    assert before.starts_at.time() == time(23, 0)
    assert after.starts_at.time() == time(22, 0)
    assert after.starts_at - before.starts_at == timedelta(days=7, hours=-1)


def test_booking_made_weeks_before_change_keeps_local_time(make_clinic: ClinicFactory) -> None:
    """A time chosen in September for after the change reads the same local time later."""
    clinic = make_clinic(now=BEFORE_SPRING)
    chosen = datetime(2026, 10, 12, 10, 0, tzinfo=SYDNEY)
    slot = check_bookable(
        clinic,
        appointment_type_id="standard",
        practitioner_id="lee",
        starts_at=chosen,
        now=BEFORE_SPRING,
    )
    stored = slot.starts_at
    assert stored.tzinfo is UTC
    assert stored == datetime(2026, 10, 11, 23, 0, tzinfo=UTC)
    shown_later = stored.astimezone(SYDNEY)
    assert f"{shown_later:%Y-%m-%d %H:%M %z}" == "2026-10-12 10:00 +1100"


def test_cut_off_uses_wall_clock_in_clinic_zone() -> None:
    """A 24-hour cut-off before 09:00 on the change day falls at 09:00 the day before."""
    starts_at = local_to_utc(SYDNEY, SPRING_CHANGE, time(9, 0))
    cut_off = wall_clock_before(starts_at, SYDNEY, timedelta(hours=24))
    assert f"{cut_off.astimezone(SYDNEY):%Y-%m-%d %H:%M}" == "2026-10-03 09:00"
    assert starts_at - cut_off == timedelta(hours=23)

    autumn_start = local_to_utc(SYDNEY, AUTUMN_CHANGE, time(9, 0))
    autumn_cut_off = wall_clock_before(autumn_start, SYDNEY, timedelta(hours=24))
    assert autumn_start - autumn_cut_off == timedelta(hours=25)


def test_minimum_notice_and_horizon_across_change(make_clinic: ClinicFactory) -> None:
    """Horizon days are local days: the last bookable day is today plus the horizon."""
    now = datetime(2026, 9, 20, 1, 0, tzinfo=UTC)  # Sun 20 Sep 11:00 AEST
    clinic = make_clinic(now=now)
    slots = find_slots(clinic, appointment_type_id="standard", now=now, limit=100_000)
    last = slots[-1].starts_at.astimezone(SYDNEY)
    assert last.date() == date(2026, 10, 20)
    assert last.utcoffset() == timedelta(hours=11)


def test_local_to_utc_gap_and_fold() -> None:
    """A wall time in the gap maps to the gap's end; a repeated one to the chosen instant."""
    gap = local_to_utc(SYDNEY, SPRING_CHANGE, time(2, 30))
    assert gap == datetime(2026, 10, 3, 16, 0, tzinfo=UTC)
    first = local_to_utc(SYDNEY, AUTUMN_CHANGE, time(2, 30), Occurrence.FIRST)
    last = local_to_utc(SYDNEY, AUTUMN_CHANGE, time(2, 30), Occurrence.LAST)
    assert last - first == timedelta(hours=1)


change_days = st.sampled_from([date(2026, 4, 5), date(2026, 10, 4), date(2027, 4, 4), date(2027, 10, 3)])
five_minute_marks = st.integers(min_value=0, max_value=(24 * 60 - 5) // 5)


@settings(max_examples=150, deadline=None)
@given(change_days, five_minute_marks, five_minute_marks, st.sampled_from([5, 10, 15, 20, 30]))
def test_session_slots_property(day: date, first: int, second: int, interval: int) -> None:
    """On any change day, slots are distinct, evenly spaced and inside the session's wall hours."""
    start_minute, end_minute = sorted((first * 5, second * 5))
    assume(start_minute < end_minute)
    start = time(start_minute // 60, start_minute % 60)
    end = time(end_minute // 60, end_minute % 60)
    text = f"""
[clinic]
name = "P"
phone = "02 9000 0000"
[rules]
slot_interval_minutes = {interval}
[[practitioners]]
id = "lee"
name = "Dr Lee"
[practitioners.hours]
sunday = ["{start:%H:%M}-{end:%H:%M}"]
# A second practitioner with room for the type, so that a Sunday session
# shorter than the type is still a valid clinic file.
[[practitioners]]
id = "nair"
name = "Dr Nair"
[practitioners.hours]
monday = ["09:00-17:00"]
[[appointment_types]]
id = "short"
name = "Short"
duration_minutes = 15
"""
    clinic = parse_clinic_file(text, now=datetime(2026, 1, 1, tzinfo=UTC))
    duration = timedelta(minutes=15)
    starts = list(session_starts(clinic, "lee", day, 15))

    assert starts == sorted(set(starts))
    assert all((b - a) % timedelta(minutes=interval) == timedelta(0) for a, b in itertools.pairwise(starts))
    for moment in starts:
        for cell in range(3):
            wall = (moment + timedelta(minutes=5 * cell)).astimezone(SYDNEY)
            assert wall.date() == day
            assert start <= wall.time() < end

    # Completeness: every grid time whose appointment does not straddle the
    # clock change, and fits by the wall clock, is offered.
    offered = {moment.astimezone(SYDNEY).replace(tzinfo=None) for moment in starts}
    label = datetime.combine(day, start)
    while label + duration <= datetime.combine(day, end):
        begins = local_to_utc(SYDNEY, day, label.time(), Occurrence.FIRST)
        finishes = (begins + duration).astimezone(SYDNEY).replace(tzinfo=None)
        exists = begins.astimezone(SYDNEY).replace(tzinfo=None) == label
        if exists and finishes == label + duration:
            assert label in offered
        label += timedelta(minutes=interval)
