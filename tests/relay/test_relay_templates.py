"""Notice texts per kind and channel: GSM-7 SMS within two segments, vocabulary, placeholders."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.profiles import load_profile
from relay.channels.base import ChannelKind, OutgoingMessage
from relay.channels.console import ConsoleSender
from relay.templates import (
    NoticeFacts,
    NoticeKind,
    fill_staff_placeholders,
    format_time,
    format_when,
    render,
)
from sealbook import gsm7
from tests.sms_words import RESERVED_SMS_WORDS, invited_words, questioned_verbs, shouted_words

SYDNEY = ZoneInfo("Australia/Sydney")
APOSTROPHE = "\u2019"  # the curly apostrophe phones insert, outside GSM-7
STARTS_AT = dt.datetime(2026, 12, 8, 14, 30, tzinfo=SYDNEY)
LONG_STAFF_TEXT = (
    "Dr O'Brien's clinic has a burst water pipe - we're so sorry. Your {ref} booking at "
    "{time} with {practitioner} can't go ahead in the usual room; please come to the "
    "side entrance on Smith St, next to the pharmacy, and tell reception you're here for "
    "{practitioner}. Parking is free in the council car park opposite until 6pm today."
).replace("'", APOSTROPHE)
MEDICAL = load_profile("medical").vocabulary
LAW = load_profile("law-practice").vocabulary


def facts(kind: NoticeKind, **overrides: object) -> NoticeFacts:
    """Build the facts of one notice about booking K7QM-4X2P with Dr Lee."""
    values: dict[str, object] = {
        "kind": kind,
        "reference": "K7QM-4X2P",
        "clinic_name": "Harbour Family Clinic",
        "practitioner_name": "Dr Lee",
        "appointment_type": "Standard consult",
        "starts_at": STARTS_AT,
        "previous_starts_at": STARTS_AT - dt.timedelta(days=1),
        "expected_at": STARTS_AT + dt.timedelta(minutes=45),
        "staff_text": LONG_STAFF_TEXT,
    }
    values.update(overrides)
    return NoticeFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_sms_texts_are_gsm7_within_two_segments(kind: NoticeKind) -> None:
    """Every kind's SMS text is pure GSM-7, fits two segments and names the reference."""
    text = render(facts(kind), ChannelKind.SMS, MEDICAL).text

    assert gsm7.is_gsm7(text)
    assert gsm7.measure_sms(text).segments <= 2
    assert "K7QM-4X2P" in text


@pytest.mark.parametrize("kind", [kind for kind in NoticeKind if kind is not NoticeKind.STAFF_MESSAGE])
def test_sms_texts_invite_no_reserved_word(kind: NoticeKind) -> None:
    """No notice requests a reply that carriers or Twilio act on; changes are made by replying LIST."""
    text = render(facts(kind), ChannelKind.SMS, MEDICAL).text

    assert invited_words(text) & RESERVED_SMS_WORDS == set()
    assert shouted_words(text) & RESERVED_SMS_WORDS == set()
    assert questioned_verbs(text) & RESERVED_SMS_WORDS == set()
    if "move or cancel" in text:
        assert "To move or cancel, reply LIST." in text


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_email_has_subject_and_details(kind: NoticeKind) -> None:
    """Every kind's e-mail has a subject with the reference and lists the booking's details."""
    rendered = render(facts(kind), ChannelKind.EMAIL, MEDICAL)

    assert "K7QM-4X2P" in rendered.subject
    assert "Reference: K7QM-4X2P" in rendered.text
    assert "Practitioner: Dr Lee" in rendered.text
    assert "When: Tue 8 Dec at 2:30pm AEDT" in rendered.text


def test_running_late_gives_scheduled_and_expected_times() -> None:
    """A running-late notice states the booked time and the new expected time."""
    text = render(facts(NoticeKind.RUNNING_LATE), ChannelKind.TELEGRAM, MEDICAL).text

    assert "booked for 2:30pm" in text
    assert "expected at about 3:15pm" in text


def test_moved_names_old_and_new_time() -> None:
    """A move notice gives the new time and the one it replaces."""
    text = render(facts(NoticeKind.BOOKING_MOVED), ChannelKind.TELEGRAM, MEDICAL).text

    assert "is now Tue 8 Dec at 2:30pm (was Mon 7 Dec at 2:30pm)" in text


@pytest.mark.parametrize("channel", [ChannelKind.SMS, ChannelKind.TELEGRAM, ChannelKind.EMAIL])
def test_moved_to_other_practitioner_same_time(channel: ChannelKind) -> None:
    """A move to another practitioner at the same time names the new one and gives no "was" time."""
    moved = facts(NoticeKind.BOOKING_MOVED, previous_starts_at=STARTS_AT, practitioner_name="Dr Okafor")

    rendered = render(moved, channel, MEDICAL)

    assert "appointment K7QM-4X2P on Tue 8 Dec at 2:30pm is now with Dr Okafor." in rendered.text
    assert "(was" not in rendered.text


def test_moved_to_other_practitioner_subject() -> None:
    """The e-mail subject of a same-time move names the new practitioner, not a new date."""
    moved = facts(NoticeKind.BOOKING_MOVED, previous_starts_at=STARTS_AT, practitioner_name="Dr Okafor")

    subject = render(moved, ChannelKind.EMAIL, MEDICAL).subject

    assert subject == "Harbour Family Clinic: Appointment on Tue 8 Dec now with Dr Okafor (K7QM-4X2P)"


def test_moved_to_other_practitioner_fits_sms() -> None:
    """With long names, the same-time move notice is GSM-7 within two segments and kept whole."""
    moved = facts(
        NoticeKind.BOOKING_MOVED,
        previous_starts_at=STARTS_AT,
        clinic_name="Northern Beaches Family Medical Practice",
        practitioner_name="Dr Alexandra Papadopoulos",
    )

    text = render(moved, ChannelKind.SMS, MEDICAL).text

    assert gsm7.is_gsm7(text)
    assert gsm7.measure_sms(text).segments <= 2
    assert text.endswith("is now with Dr Alexandra Papadopoulos. To move or cancel, reply LIST.")


def test_vocabulary_changes_wording() -> None:
    """The law-practice profile's nouns replace the medical ones with no code change."""
    medical = render(facts(NoticeKind.REMINDER), ChannelKind.EMAIL, MEDICAL)
    law = render(facts(NoticeKind.REMINDER), ChannelKind.EMAIL, LAW)

    assert "your appointment" in medical.text
    assert "your meeting" in law.text
    assert "Lawyer: Dr Lee" in law.text
    assert "appointment" not in law.text.lower()
    assert "Reminder: meeting on Tue 8 Dec" in law.subject


def test_staff_placeholders_filled_per_booking() -> None:
    """`{ref}`, `{time}` and `{practitioner}` are filled; other braces stay as written."""
    text = fill_staff_placeholders(
        "Re {ref} at {time} with {practitioner}: bring {0.__class__} and {name}.",
        facts(NoticeKind.STAFF_MESSAGE),
    )

    assert text == "Re K7QM-4X2P at Tue 8 Dec 2:30pm with Dr Lee: bring {0.__class__} and {name}."


def test_long_staff_message_is_shortened_for_sms_only() -> None:
    """A staff message over two segments is cut for SMS but kept whole on Telegram."""
    sms = render(facts(NoticeKind.STAFF_MESSAGE), ChannelKind.SMS, MEDICAL).text
    chat = render(facts(NoticeKind.STAFF_MESSAGE), ChannelKind.TELEGRAM, MEDICAL).text

    assert sms.endswith("...")
    assert gsm7.measure_sms(sms).segments == 2
    assert "Dr O'Brien's clinic" in sms
    assert chat.endswith("(ref K7QM-4X2P)")
    assert f"Dr O{APOSTROPHE}Brien{APOSTROPHE}s clinic" in chat


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [(9, 0, "9am"), (12, 0, "12pm"), (0, 5, "12:05am"), (14, 30, "2:30pm"), (23, 59, "11:59pm")],
)
def test_format_time(hour: int, minute: int, expected: str) -> None:
    """Times read the Australian way, without a leading zero."""
    assert format_time(dt.datetime(2026, 12, 8, hour, minute, tzinfo=SYDNEY)) == expected


def test_local_time_follows_daylight_saving() -> None:
    """One UTC hour reads as different local hours either side of the April change."""
    before = dt.datetime(2026, 4, 3, 23, 0, tzinfo=dt.UTC).astimezone(SYDNEY)
    after = dt.datetime(2026, 4, 6, 23, 0, tzinfo=dt.UTC).astimezone(SYDNEY)

    assert format_when(before) == "Sat 4 Apr at 10am"
    assert format_when(after) == "Tue 7 Apr at 9am"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=600))
def test_any_staff_text_fits_sms(staff_text: str) -> None:
    """Whatever staff type, the SMS text is GSM-7 and at most two segments."""
    text = render(facts(NoticeKind.STAFF_MESSAGE, staff_text=staff_text), ChannelKind.SMS, MEDICAL).text

    assert gsm7.is_gsm7(text)
    assert gsm7.measure_sms(text).segments <= 2


@pytest.mark.asyncio
async def test_console_prints_reference_and_text_not_address() -> None:
    """The console transport shows the delivery without the address it would go to."""
    stream = io.StringIO()
    sender = ConsoleSender(stream)
    message = OutgoingMessage(notice_id=3, reference="K7QM-4X2P", text="Line one\nLine two")

    await sender.send("+61412345678", message)

    printed = stream.getvalue()
    assert printed == "[relay] notice 3 for K7QM-4X2P\n    Line one\n    Line two\n"
