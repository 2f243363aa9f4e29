"""Tests of the clinic-file parser and the shipped demo clinic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.clinic import Clinic, OverrideKind, Session
from booking.clinic_file import DEMO_CLINIC, load_clinic_file, parse_clinic_file
from booking.errors import ClinicFileError, UnknownAppointmentType, UnknownPractitioner
from booking.localtime import local_date
from booking.profiles import load_profile

ClinicFactory = Callable[..., Clinic]
TextFactory = Callable[..., str]

# A Wednesday morning in Sydney (Wed 2 Dec 2026 08:00 AEDT).
WEDNESDAY_MORNING = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


def test_demo_clinic_shape() -> None:
    """The demo has three practitioners, four appointment types and lunch breaks."""
    clinic = load_clinic_file(DEMO_CLINIC, now=WEDNESDAY_MORNING)
    assert len(clinic.practitioners) == 3
    assert len(clinic.appointment_types) == 4
    assert clinic.time_zone == "Australia/Sydney"
    assert clinic.profile.name == "medical"
    for practitioner in clinic.practitioners:
        days_with_lunch = [day for day in practitioner.weekly_sessions if len(day) >= 2]
        assert len(days_with_lunch) >= 3


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31)))
def test_demo_leave_is_always_next_week(naive_now: datetime) -> None:
    """Whenever the demo is loaded, one practitioner is on leave on a workday next week."""
    now = naive_now.replace(tzinfo=UTC)
    clinic = load_clinic_file(DEMO_CLINIC, now=now)
    today = local_date(now, clinic.zone)
    next_monday = today + timedelta(days=7 - today.weekday())
    leave = [o for o in clinic.overrides if o.kind is OverrideKind.CLOSED and o.practitioner_id]
    assert len(leave) == 1
    assert next_monday <= leave[0].day < next_monday + timedelta(days=7)
    on_leave = leave[0].practitioner_id
    assert on_leave is not None
    weekly = clinic.practitioner(on_leave).weekly_sessions[leave[0].day.weekday()]
    assert weekly != ()
    assert clinic.sessions_on(on_leave, leave[0].day) == ()


def test_demo_extra_session_covers_leave() -> None:
    """The extra session of the demo adds to the covering practitioner's weekly hours."""
    clinic = load_clinic_file(DEMO_CLINIC, now=WEDNESDAY_MORNING)
    leave_day = date(2026, 12, 9)
    assert clinic.sessions_on("okafor", leave_day) == (Session(time(13, 0), time(17, 0)),)
    assert clinic.sessions_on("okafor", date(2026, 12, 25)) == ()


def test_rules_override_profile_defaults(make_clinic: ClinicFactory) -> None:
    """Keys in [rules] replace the profile's value and the rest keep the profile's."""
    clinic = make_clinic(extra_rules="cancel_cutoff_hours = 12")
    profile_rules = load_profile("medical").rules
    assert clinic.rules.cancel_cutoff_hours == 12
    assert clinic.rules.horizon_days == 30
    assert clinic.rules.move_cutoff_hours == profile_rules.move_cutoff_hours
    assert clinic.running_late == load_profile("medical").running_late


def test_types_default_to_profile(small_clinic_text: TextFactory) -> None:
    """A clinic file without appointment types offers the profile's, by everyone."""
    text = small_clinic_text()
    text = text[: text.index("[[appointment_types]]")]
    clinic = parse_clinic_file(
        text.replace('phone = "02 9000 0000"', 'phone = "02 9000 0000"\nprofile = "law-practice"'),
        now=WEDNESDAY_MORNING,
    )
    assert [t.id for t in clinic.appointment_types] == ["initial", "advice"]
    assert clinic.appointment_types[0].practitioner_ids == ("lee", "okafor")


def test_lookup_errors(make_clinic: ClinicFactory) -> None:
    """Unknown practitioner and type ids raise their own errors."""
    clinic = make_clinic()
    with pytest.raises(UnknownPractitioner):
        clinic.practitioner("nobody")
    with pytest.raises(UnknownAppointmentType):
        clinic.appointment_type("massage")


def test_override_kinds(make_clinic: ClinicFactory) -> None:
    """Closed, replace and extra overrides change only their own date."""
    overrides = """
[[overrides]]
date = 2026-12-07
kind = "closed"
reason = "public holiday"

[[overrides]]
practitioner = "lee"
date = 2026-12-07
kind = "extra"
sessions = ["10:00-11:00"]

[[overrides]]
practitioner = "okafor"
date = "2026-12-09"
kind = "replace"
sessions = ["13:00-14:00"]

[[overrides]]
practitioner = "lee"
date = 2026-12-10
kind = "extra"
sessions = ["11:30-13:30"]
"""
    clinic = make_clinic(overrides=overrides)
    assert clinic.sessions_on("okafor", date(2026, 12, 7)) == ()
    assert clinic.sessions_on("lee", date(2026, 12, 7)) == (Session(time(10), time(11)),)
    assert clinic.sessions_on("okafor", date(2026, 12, 9)) == (Session(time(13), time(14)),)
    assert clinic.sessions_on("okafor", date(2026, 12, 16)) == (
        Session(time(9), time(12)),
        Session(time(17), time(20)),
    )
    assert clinic.sessions_on("lee", date(2026, 12, 10)) == (Session(time(9), time(17)),)


BAD_FILES = [
    ("missing clinic name", ('name = "Test Clinic"\n', ""), ["line 2", "clinic.name", "missing"]),
    ("missing practitioner name", ('name = "Dr Lee"\n', ""), ["line 12", "practitioners#1.name"]),
    (
        "impossible hour",
        ('monday = ["09:00-12:00", "13:00-17:00"]', 'monday = ["09:00-12:00", "13:00-25:00"]'),
        ["line 17", "practitioners#1.hours.monday", "13:00-25:00"],
    ),
    (
        "end before start",
        ('tuesday = ["09:00-12:00", "13:00-17:00"]', 'tuesday = ["12:00-09:00"]'),
        ["line 18", "practitioners#1.hours.tuesday", "ends before it starts"],
    ),
    (
        "overlapping sessions",
        (
            'wednesday = ["09:00-12:00", "17:00-20:00"]',
            'wednesday = ["09:00-12:00", "11:00-20:00"]',
        ),
        ["practitioners#2.hours.wednesday", "overlap"],
    ),
    (
        "off-grid session",
        ('monday = ["09:00-12:00"]\n', 'monday = ["09:03-12:00"]\n'),
        ["practitioners#2.hours.monday", "multiple of 5"],
    ),
    (
        "misspelt weekday",
        ("thursday =", "thursdy ="),
        ["practitioners#1.hours.thursdy", "unknown field"],
    ),
    (
        "bad zone",
        ('phone = "02 9000 0000"', 'phone = "02 9000 0000"\ntime_zone = "Sydney"'),
        ["clinic.time_zone"],
    ),
    (
        "bad profile",
        ('phone = "02 9000 0000"', 'phone = "02 9000 0000"\nprofile = "vet"'),
        ["clinic.profile"],
    ),
    (
        "bad duration",
        ("duration_minutes = 45", "duration_minutes = 44"),
        ["appointment_types#3.duration_minutes"],
    ),
    ("zero duration", ("duration_minutes = 45", "duration_minutes = 0"), ["at least 5"]),
    (
        "unknown practitioner in type",
        ('practitioners = ["lee"]', 'practitioners = ["lea"]'),
        ["appointment_types#3.practitioners", "'lea'"],
    ),
    (
        "duplicate practitioner",
        ('id = "okafor"', 'id = "lee"'),
        ["practitioners#2.id", "used twice"],
    ),
    ("bad slug", ('id = "okafor"', 'id = "Dr Okafor"'), ["practitioners#2.id", "not a valid id"]),
    ("bad rule", ("horizon_days = 30", "horizon_days = -1"), ["rules.horizon_days"]),
    (
        "unknown rule",
        ("horizon_days = 30", "horizon_days = 30\nhorizon = 3"),
        ["rules.horizon", "unknown field"],
    ),
    ("bad phone", ('phone = "02 9000 0000"', 'phone = "call us"'), ["clinic.phone"]),
]


@pytest.mark.parametrize(("case", "change", "expected"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_clinic_file(
    case: str, change: tuple[str, str], expected: list[str], small_clinic_text: TextFactory
) -> None:
    """Each broken clinic file raises ClinicFileError naming the line or field."""
    text = small_clinic_text()
    assert change[0] in text, case
    with pytest.raises(ClinicFileError) as caught:
        parse_clinic_file(text.replace(change[0], change[1], 1), now=WEDNESDAY_MORNING)
    for part in expected:
        assert part in str(caught.value)


BAD_OVERRIDES = [
    ("no kind", "[[overrides]]\ndate = 2026-12-07\n", "missing field 'kind'"),
    ("unknown kind", '[[overrides]]\ndate = 2026-12-07\nkind = "holiday"\n', "unknown kind"),
    (
        "closed with sessions",
        '[[overrides]]\ndate = 2026-12-07\nkind = "closed"\nsessions = ["09:00-10:00"]\n',
        "takes no sessions",
    ),
    (
        "extra without sessions",
        '[[overrides]]\ndate = 2026-12-07\nkind = "extra"\n',
        "needs sessions",
    ),
    ("no date", '[[overrides]]\nkind = "closed"\n', 'exactly one of "date"'),
    (
        "both dates",
        '[[overrides]]\ndate = 2026-12-07\nnext_week = "monday"\nkind = "closed"\n',
        'exactly one of "date"',
    ),
    ("impossible date", '[[overrides]]\ndate = "2026-02-30"\nkind = "closed"\n', "real date"),
    ("bad weekday", '[[overrides]]\nnext_week = "someday"\nkind = "closed"\n', "not a weekday"),
    (
        "unknown practitioner",
        '[[overrides]]\npractitioner = "nobody"\ndate = 2026-12-07\nkind = "closed"\n',
        "unknown practitioner",
    ),
]


@pytest.mark.parametrize(("case", "override", "expected"), BAD_OVERRIDES, ids=[c[0] for c in BAD_OVERRIDES])
def test_bad_override(case: str, override: str, expected: str, small_clinic_text: TextFactory) -> None:
    """Each broken date override raises ClinicFileError naming the overrides entry."""
    with pytest.raises(ClinicFileError) as caught:
        parse_clinic_file(small_clinic_text(overrides=override), now=WEDNESDAY_MORNING)
    message = str(caught.value)
    assert "overrides#1" in message, case
    assert expected in message


def test_not_toml() -> None:
    """Text that is not TOML raises ClinicFileError, not a parser exception."""
    with pytest.raises(ClinicFileError) as caught:
        parse_clinic_file("[clinic\nname = 1", now=WEDNESDAY_MORNING)
    assert "not valid TOML" in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    """A clinic file that does not exist raises ClinicFileError."""
    with pytest.raises(ClinicFileError):
        load_clinic_file(tmp_path / "absent.toml", now=WEDNESDAY_MORNING)
