"""Staff message text checks, SMS length, and queueing with its audit entries in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import exc, func, select
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.errors import InvalidInput
from admin_cli.staff_message import (
    MessageTarget,
    check_fits,
    check_staff_text,
    queue_staff_messages,
    sms_segments,
    sms_septets,
)
from storage import db
from storage.models.audit import AuditEntry
from storage.models.outbox import Notice
from tests.admin_cli.canary import seed_canary_contacts
from tests.conftest import FIXED_START

CLINIC = "Harbour Street Medical"
# "Harbour Street Medical: " plus " (ref K7QM-4X2P)" around the text.
FRAME_SEPTETS = len(CLINIC) + 2 + len(" (ref K7QM-4X2P)")


def _target(reference: str = "K7QM-4X2P", contact_id: int = 1, name: str = "Dr Lee") -> MessageTarget:
    return MessageTarget(
        booking_id=7,
        reference=reference,
        contact_id=contact_id,
        starts_at=FIXED_START + timedelta(hours=3),
        practitioner_name=name,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Dr Lee is away today; we will call about {ref}.",
        "Your {time} visit with {practitioner} moves rooms. Ref {ref}.",
        "Plain text with no placeholder at all.",
        "Two lines\nare fine.",
    ],
)
def test_allowed_text_accepted(text: str) -> None:
    """Text using only the three placeholders passes unchanged."""
    assert check_staff_text(f"  {text} ") == text


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("Hello {name}, see you soon", 7),
        ("Ref {0} today", 5),
        ("Ref {ref.upper} today", 5),
        ("Ref {REF} today", 5),
        ("Stray } brace", 7),
        ("Open { brace", 6),
        ("Doubled {{ref}} braces", 9),
        ("Spaced { ref } placeholder", 8),
    ],
)
def test_unknown_placeholder_rejected(text: str, position: int) -> None:
    """Any other brace is rejected, naming its position and the allowed placeholders, not the text."""
    with pytest.raises(InvalidInput) as raised:
        check_staff_text(text)

    message = str(raised.value)
    assert f"position {position}" in message
    assert "{ref}, {time} and {practitioner}" in message
    assert text not in message


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text_rejected(text: str) -> None:
    """An empty message is rejected."""
    with pytest.raises(InvalidInput, match="empty"):
        check_staff_text(text)


def test_control_character_rejected() -> None:
    """A control character other than a newline is rejected by position."""
    with pytest.raises(InvalidInput, match="position 4"):
        check_staff_text("abc\x07def")


def test_longest_fitting_text_accepted() -> None:
    """Text that fills two segments exactly with the frame passes; one more character fails."""
    room = 2 * 153 - FRAME_SEPTETS
    check_fits("a" * room, [_target()], CLINIC)

    with pytest.raises(InvalidInput, match="shorten it by at least 1 characters"):
        check_fits("a" * (room + 1), [_target()], CLINIC)


def test_placeholders_filled_before_length() -> None:
    """A placeholder counts at its filled length, each booking with its own practitioner's name."""
    room = 2 * 153 - FRAME_SEPTETS
    text = "{practitioner}" + "a" * (room - len("Dr Lee"))
    check_fits(text, [_target(name="Dr Lee")], CLINIC)

    with pytest.raises(InvalidInput, match="booking K7QM-4X2Q"):
        check_fits(text, [_target(name="Dr Lee"), _target("K7QM-4X2Q", name="Dr Leeson")], CLINIC)


def test_time_counted_at_longest() -> None:
    """``{time}`` counts as the longest time text the relay writes, 18 characters."""
    room = 2 * 153 - FRAME_SEPTETS
    check_fits("{time}" + "a" * (room - 18), [_target()], CLINIC)

    with pytest.raises(InvalidInput):
        check_fits("{time}" + "a" * (room - 17), [_target()], CLINIC)


def test_extension_characters_count_double() -> None:
    """GSM-7 extension characters such as the euro sign take two septets."""
    assert sms_septets("€5 [x]") == 9
    assert sms_segments("€" * 80) == 1
    assert sms_segments("€" * 81) == 2


def test_folded_characters_counted_as_sent() -> None:
    """Characters the relay spells out in GSM-7 count at the length it sends."""
    assert sms_septets("\u00a9 \u2026") == 7
    assert sms_septets("\u0141ukasz") == 6
    assert sms_segments("\u00bd" * 53) == 1
    assert sms_segments("\u00bd" * 54) == 2


def test_escape_pair_never_split() -> None:
    """A two-septet character at a segment boundary moves whole to the next segment."""
    assert sms_segments("a" * 152 + "€" + "a" * 153) == 3
    assert sms_segments("a" * 151 + "€" + "a" * 153) == 2


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab€{}~ "), max_size=400))
def test_segments_match_septet_bounds(text: str) -> None:
    """The segment count is never below what the septet count alone requires."""
    septets = sms_septets(text)
    segments = sms_segments(text)

    assert segments >= (1 if septets <= 160 else -(-septets // 153))
    assert segments <= max(1, -(-septets // 152))


def test_queue_writes_notice_and_audit(session_factory: sessionmaker[Session]) -> None:
    """Each booking gets a staff_message notice holding the unfilled text, and an audit entry."""
    with db.session_scope(session_factory) as session:
        canaries = seed_canary_contacts(session, FIXED_START)
    targets = [
        _target("K7QM-4X2P", canaries.sms_id),
        _target("K7QM-4X2Q", canaries.telegram_id),
    ]
    text = "Running 20 minutes behind, sorry. Ref {ref}"

    with db.session_scope(session_factory) as session:
        notice_ids = queue_staff_messages(
            session, text=text, targets=targets, actor="staff:reception", now=FIXED_START
        )

    with session_factory() as session:
        notices = list(session.scalars(select(Notice).order_by(Notice.id)))
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert [notice.id for notice in notices] == notice_ids
    assert [notice.kind for notice in notices] == ["staff_message", "staff_message"]
    assert [notice.params for notice in notices] == [{"text": text}, {"text": text}]
    assert [notice.contact_id for notice in notices] == [canaries.sms_id, canaries.telegram_id]
    assert notices[0].priority_at == targets[0].starts_at
    assert notices[0].due_at == FIXED_START
    assert [entry.reference for entry in entries] == ["K7QM-4X2P", "K7QM-4X2Q"]
    assert [entry.actor for entry in entries] == ["staff:reception", "staff:reception"]
    assert entries[0].detail == f"notice {notice_ids[0]}"
    assert all("Running" not in (entry.detail or "") for entry in entries)


def test_queue_all_or_nothing(session_factory: sessionmaker[Session]) -> None:
    """When one booking's notice cannot be written, no notice and no audit entry is kept."""
    with db.session_scope(session_factory) as session:
        canaries = seed_canary_contacts(session, FIXED_START)
    missing_contact = max(canaries.ids) + 100
    targets = [_target("K7QM-4X2P", canaries.sms_id), _target("K7QM-4X2Q", missing_contact)]

    with pytest.raises(exc.IntegrityError), db.session_scope(session_factory) as session:
        queue_staff_messages(session, text="Hello", targets=targets, actor="staff:x", now=FIXED_START)

    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
