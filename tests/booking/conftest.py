"""Fixtures for the booking core's tests: clinics built from clinic-file text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from booking.clinic import Clinic
from booking.clinic_file import parse_clinic_file

# A Wednesday morning in Sydney (Wed 2 Dec 2026 08:00 AEDT).
WEDNESDAY_MORNING = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)

SMALL_CLINIC = """
[clinic]
name = "Test Clinic"
phone = "02 9000 0000"

[rules]
slot_interval_minutes = 15
minimum_notice_minutes = 60
horizon_days = 30
{extra_rules}

[[practitioners]]
id = "lee"
name = "Dr Lee"

[practitioners.hours]
monday = ["09:00-12:00", "13:00-17:00"]
tuesday = ["09:00-12:00", "13:00-17:00"]
wednesday = ["09:00-12:00", "13:00-17:00"]
thursday = ["09:00-12:00", "13:00-17:00"]
friday = ["09:00-12:00", "13:00-17:00"]
sunday = {sunday}

[[practitioners]]
id = "okafor"
name = "Dr Okafor"

[practitioners.hours]
monday = ["09:00-12:00"]
wednesday = ["09:00-12:00", "17:00-20:00"]

[[appointment_types]]
id = "standard"
name = "Standard consultation"
duration_minutes = 15

[[appointment_types]]
id = "long"
name = "Long consultation"
duration_minutes = 30

[[appointment_types]]
id = "procedure"
name = "Procedure"
duration_minutes = 45
practitioners = ["lee"]
{overrides}
"""

ClinicFactory = Callable[..., Clinic]


@pytest.fixture
def small_clinic_text() -> Callable[..., str]:
    """Return a function that fills in the small test clinic's text."""

    def fill(extra_rules: str = "", overrides: str = "", sunday: str = "[]") -> str:
        return SMALL_CLINIC.format(extra_rules=extra_rules, overrides=overrides, sunday=sunday)

    return fill


@pytest.fixture
def make_clinic() -> ClinicFactory:
    """Return a factory for the small test clinic with optional rule lines and overrides."""

    def build(
        *,
        extra_rules: str = "",
        overrides: str = "",
        sunday: str = "[]",
        now: datetime = WEDNESDAY_MORNING,
        time_zone: str | None = None,
    ) -> Clinic:
        text = SMALL_CLINIC.format(extra_rules=extra_rules, overrides=overrides, sunday=sunday)
        if time_zone is not None:
            text = text.replace(
                'phone = "02 9000 0000"', f'phone = "02 9000 0000"\ntime_zone = "{time_zone}"'
            )
        return parse_clinic_file(text, now=now)

    return build
