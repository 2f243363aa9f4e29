"""Tests of the domain profiles and their loader."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from booking.errors import ProfileError
from booking.profiles import DEFAULT_PROFILE, load_profile, parse_profile, profile_names

MINIMAL = """
name = "tiny"
title = "Tiny"
[vocabulary]
practitioner = "coach"
practitioners = "coaches"
appointment = "session"
appointments = "sessions"
patient = "athlete"
patients = "athletes"
[[appointment_types]]
id = "run"
name = "Run"
duration_minutes = 20
[rules]
slot_interval_minutes = 10
buffer_minutes = 0
minimum_notice_minutes = 0
horizon_days = 7
move_cutoff_hours = 1
cancel_cutoff_hours = 1
[running_late]
threshold_minutes = 10
step_minutes = 5
max_notices_per_booking = 1
[reminders]
days_before = 1
local_time = "09:00"
quiet_start = "21:00"
quiet_end = "07:00"
[dialogue]
sms_expiry_minutes = 60
telegram_expiry_minutes = 20
"""


def test_shipped_profiles() -> None:
    """The three domain profiles ship, and medical is the default."""
    assert profile_names() == ["law-practice", "medical", "student-consultations"]
    assert DEFAULT_PROFILE == "medical"


@pytest.mark.parametrize(
    ("name", "practitioner", "appointment", "patient"),
    [
        ("medical", "practitioner", "appointment", "patient"),
        ("student-consultations", "tutor", "consultation", "student"),
        ("law-practice", "lawyer", "meeting", "client"),
    ],
)
def test_profile_vocabulary(name: str, practitioner: str, appointment: str, patient: str) -> None:
    """Each profile names the three roles in its own words."""
    vocabulary = load_profile(name).vocabulary
    assert vocabulary.practitioner == practitioner
    assert vocabulary.appointment == appointment
    assert vocabulary.patient == patient


def test_medical_running_late_defaults() -> None:
    """The medical profile notifies patients at 30 minutes late, in 15-minute steps."""
    profile = load_profile("medical")
    assert profile.running_late.threshold_minutes == 30
    assert profile.running_late.step_minutes == 15
    assert profile.running_late.max_notices_per_booking >= 1


@pytest.mark.parametrize("name", ["medical", "student-consultations", "law-practice"])
def test_sms_dialogue_outlives_telegram(name: str) -> None:
    """An SMS conversation is kept longer than a Telegram one."""
    dialogue = load_profile(name).dialogue
    assert dialogue.expiry_for("sms") > dialogue.expiry_for("telegram")


def test_medical_reminder_day_before_outside_quiet_hours() -> None:
    """Medical reminders go the day before at a local hour outside quiet hours."""
    reminders = load_profile("medical").reminders
    assert reminders.days_before == 1
    assert reminders.is_quiet(reminders.local_time) is False
    assert reminders.is_quiet(time(23, 0)) is True
    assert reminders.is_quiet(time(3, 0)) is True
    assert reminders.is_quiet(time(12, 0)) is False


def test_profile_rules_as_durations() -> None:
    """Rule minutes are also available as timedeltas."""
    rules = load_profile("medical").rules
    assert rules.slot_interval == timedelta(minutes=rules.slot_interval_minutes)
    assert rules.minimum_notice == timedelta(minutes=rules.minimum_notice_minutes)


def test_unknown_profile() -> None:
    """Loading a profile that does not ship lists the ones that do."""
    with pytest.raises(ProfileError) as caught:
        load_profile("dentistry")
    assert "medical" in str(caught.value)


def test_parse_minimal_profile_with_templates() -> None:
    """Nested template tables flatten to dotted keys."""
    text = MINIMAL + '[templates]\ngreeting = "Hi"\n[templates.sms]\nconfirm = "Booked {reference}"\n'
    profile = parse_profile(text, source="tiny.toml")
    assert dict(profile.templates) == {"greeting": "Hi", "sms.confirm": "Booked {reference}"}
    assert profile.vocabulary.practitioners == "coaches"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('patient = "athlete"\n', ""), "vocabulary.patient"),
        (("slot_interval_minutes = 10", "slot_interval_minutes = 7"), "multiple of 5"),
        (("horizon_days = 7", "horizon_days = 0"), "at least 1"),
        (('local_time = "09:00"', 'local_time = "9am"'), "HH:MM"),
        (("[dialogue]\n", "[dialogue]\nsms_expiry = 3\n"), "unknown field 'sms_expiry'"),
    ],
)
def test_parse_profile_rejects_bad_fields(change: tuple[str, str], expected: str) -> None:
    """A missing, misspelt or out-of-range profile field raises ProfileError naming it."""
    with pytest.raises(ProfileError) as caught:
        parse_profile(MINIMAL.replace(*change), source="tiny.toml")
    assert expected in str(caught.value)
