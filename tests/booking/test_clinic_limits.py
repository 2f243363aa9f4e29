"""Tests of the clinic file's limits: numbers, string lengths, phone, zone and file encoding.

A file that passes the parser must import on both databases and leave every
date computed from its rules in range, so each limit is checked here at
its bound and just past it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from booking import book, cancel, find_slots, import_clinic, load_clinic
from booking.clinic_file import DEMO_CLINIC, load_clinic_file, parse_clinic_file
from booking.errors import ClinicFileError, PastCutOff

NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # Wed 2 Dec 2026 08:00 AEDT
DEMO = DEMO_CLINIC.read_text(encoding="utf-8")
RULES_LINE = "horizon_days = 60"


def demo_with(old: str, new: str) -> str:
    """Return the demo clinic's text with the first `old` replaced by `new`."""
    assert old in DEMO
    return DEMO.replace(old, new, 1)


def with_rules(*lines: str) -> str:
    """Return the demo clinic with extra lines in its [rules] table."""
    return demo_with(RULES_LINE, "\n".join((RULES_LINE, *lines)))


REJECTED = [
    ("zone folder", demo_with('"Australia/Sydney"', '"Australia"'), "clinic.time_zone"),
    ("zone 5000 chars", demo_with('"Australia/Sydney"', '"' + "A" * 5000 + '"'), "clinic.time_zone"),
    ("horizon 731", demo_with(RULES_LINE, "horizon_days = 731"), "rules.horizon_days"),
    ("horizon huge", demo_with(RULES_LINE, "horizon_days = 100000000"), "rules.horizon_days"),
    ("move cut-off", with_rules("move_cutoff_hours = 99999999999"), "rules.move_cutoff_hours"),
    ("cancel cut-off", with_rules("cancel_cutoff_hours = 721"), "rules.cancel_cutoff_hours"),
    (
        "notice huge",
        demo_with("minimum_notice_minutes = 60", "minimum_notice_minutes = 1000000000000000"),
        "rules.minimum_notice_minutes",
    ),
    ("buffer huge", with_rules("buffer_minutes = 1000000000000"), "rules.buffer_minutes"),
    ("buffer 245", with_rules("buffer_minutes = 245"), "rules.buffer_minutes"),
    ("interval huge", with_rules("slot_interval_minutes = 1000000000000"), "rules.slot_interval_minutes"),
    (
        "notice not below horizon",
        demo_with(
            "minimum_notice_minutes = 60\nhorizon_days = 60",
            "minimum_notice_minutes = 28800\nhorizon_days = 20",
        ),
        "rules.minimum_notice_minutes",
    ),
    (
        "duration huge",
        demo_with("duration_minutes = 15", "duration_minutes = 9223372036854775805"),
        "appointment_types#1.duration_minutes",
    ),
    (
        "duration 725",
        demo_with("duration_minutes = 15", "duration_minutes = 725"),
        "appointment_types#1.duration_minutes",
    ),
    (
        "duration fits no session",
        demo_with("duration_minutes = 15", "duration_minutes = 300"),
        "appointment_types#1.duration_minutes",
    ),
    ("clinic name 201", demo_with("Harbourside Family Practice", "N" * 201), "clinic.name"),
    ("practitioner name 201", demo_with("Dr Mei Lee", "N" * 201), "practitioners#1.name"),
    ("type name 201", demo_with("Standard consultation", "T" * 201), "appointment_types#1.name"),
    ("reason 201", demo_with('reason = "leave"', 'reason = "' + "R" * 201 + '"'), "overrides#1.reason"),
    ("phone 33 chars", demo_with('"02 9000 0000"', '"' + "0" * 33 + '"'), "clinic.phone"),
    ("phone of brackets", demo_with('"02 9000 0000"', '"+(((((((((((((((((((("'), "clinic.phone"),
    ("phone of 5 digits", demo_with('"02 9000 0000"', '"02 900"'), "clinic.phone"),
    ("phone with words", demo_with('"02 9000 0000"', '"02 9000 0000 ext 12"'), "clinic.phone"),
    ("phone 16 digits", demo_with('"02 9000 0000"', '"0290000000000000"'), "clinic.phone"),
    (
        "late threshold",
        "\n".join((DEMO, "[running_late]", "threshold_minutes = 1000000")),
        "threshold_minutes",
    ),
    ("reminder days", "\n".join((DEMO, "[reminders]", "days_before = 31")), "reminders.days_before"),
    ("dialogue expiry", "\n".join((DEMO, "[dialogue]", "sms_expiry_minutes = 100000")), "sms_expiry_minutes"),
]


@pytest.mark.parametrize(("case", "text", "path"), REJECTED, ids=[case[0] for case in REJECTED])
def test_out_of_range_value_rejected(case: str, text: str, path: str) -> None:
    """A value past its limit raises ClinicFileError naming the field, in a short message."""
    with pytest.raises(ClinicFileError) as caught:
        parse_clinic_file(text, now=NOW)
    assert path in str(caught.value), case
    assert len(str(caught.value)) < 400


def test_duration_longer_than_sessions_names_the_longest() -> None:
    """An appointment type that fits no session says how long the longest session is."""
    with pytest.raises(ClinicFileError) as caught:
        parse_clinic_file(demo_with("duration_minutes = 15", "duration_minutes = 300"), now=NOW)
    assert "longest is 270 minutes" in str(caught.value)


@pytest.mark.parametrize("phone", ["+61 (0)2 9000 0000", "(02) 9000-0000", "13 00 00", "+61290000000"])
def test_phone_numbers_accepted(phone: str) -> None:
    """Ordinary ways of writing a phone number pass the check."""
    clinic = parse_clinic_file(demo_with('"02 9000 0000"', f'"{phone}"'), now=NOW)
    assert clinic.phone == phone


def test_values_at_limits_import_and_work(
    session_factory: sessionmaker[Session], add_contacts: Callable[[int], list[int]]
) -> None:
    """Rules and strings at their maximum import, and slot search, booking and cut-offs still work."""
    text = demo_with(
        "minimum_notice_minutes = 60\nhorizon_days = 60",
        "minimum_notice_minutes = 43200\nhorizon_days = 730\nmove_cutoff_hours = 720\n"
        "cancel_cutoff_hours = 720\nbuffer_minutes = 240\nslot_interval_minutes = 720",
    )
    text = text.replace("Harbourside Family Practice", "N" * 200).replace("Dr Mei Lee", "L" * 200)
    text = text.replace('reason = "leave"', 'reason = "' + "R" * 200 + '"')
    longest_phone = "+61 (2) 9000" + " " * 16 + "0000"
    text = text.replace('"02 9000 0000"', f'"{longest_phone}"')
    parsed = parse_clinic_file(text, now=NOW)
    assert len(parsed.phone) == 32
    (contact,) = add_contacts(1)

    with session_factory() as session, session.begin():
        import_clinic(session, parsed, NOW)
    with session_factory() as session, session.begin():
        clinic = load_clinic(session)
        slots = find_slots(session, clinic, appointment_type_id="standard", now=NOW, limit=2)
        view = book(
            session,
            clinic,
            contact_id=contact,
            appointment_type_id="standard",
            practitioner_id=slots[0].practitioner_id,
            starts_at=slots[0].starts_at,
            now=NOW,
            actor="patient",
        )
    assert clinic.name == "N" * 200
    assert len(slots) == 2
    # The first slot is 30 days ahead, and the cut-off 720 hours before it.
    with session_factory() as session, session.begin(), pytest.raises(PastCutOff):
        cancel(
            session,
            clinic,
            reference=view.reference,
            contact_id=contact,
            now=NOW + timedelta(days=2),
            actor="patient",
        )
    with session_factory() as session, session.begin():
        cancel(session, clinic, reference=view.reference, contact_id=contact, now=NOW, actor="patient")


def test_byte_order_mark_accepted(tmp_path: Path) -> None:
    """A UTF-8 file that starts with a byte-order mark reads like one without it."""
    path = tmp_path / "clinic.toml"
    path.write_bytes(b"\xef\xbb\xbf" + DEMO.encode("utf-8"))
    assert load_clinic_file(path, now=NOW) == load_clinic_file(DEMO_CLINIC, now=NOW)


@pytest.mark.parametrize(
    "content",
    [b"\xff" + os.urandom(4096), DEMO.replace("Harbourside", "Harbours\xeede").encode("latin-1")],
    ids=["binary", "latin-1"],
)
def test_non_utf8_file_rejected(tmp_path: Path, content: bytes) -> None:
    """A binary or Latin-1 file raises ClinicFileError that asks for UTF-8."""
    path = tmp_path / "clinic.toml"
    path.write_bytes(content)
    with pytest.raises(ClinicFileError) as caught:
        load_clinic_file(path, now=NOW)
    assert "is not UTF-8 text" in str(caught.value)
    assert "save it as UTF-8" in str(caught.value)


def test_deep_nesting_rejected() -> None:
    """Arrays nested thousands deep raise ClinicFileError instead of RecursionError."""
    text = DEMO + "\nx = " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(ClinicFileError) as caught:
        parse_clinic_file(text, now=NOW)
    assert "too deeply" in str(caught.value)
