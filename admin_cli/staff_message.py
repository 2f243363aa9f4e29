"""Checking a staff message's text and queueing it as one ``staff_message`` notice per booking.

The text is stored with its placeholders unfilled; the relay fills ``{ref}``,
``{time}`` and ``{practitioner}`` for each booking when it delivers. The
length check here fills them with the values each booking will get, so a
message that passes fits two SMS segments as the relay sends it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from admin_cli.errors import InvalidInput
from sealbook.gsm7 import GSM7_MULTI_SEGMENT, measure_sms, to_gsm7
from storage.audit import record_audit
from storage.outbox import enqueue_notice

logger = logging.getLogger(__name__)

NOTICE_KIND = "staff_message"
PARAM_KEY = "text"  # the key the relay reads (relay/params.py)
AUDIT_ACTION = "staff_message"
PLACEHOLDERS = ("ref", "time", "practitioner")
_PLACEHOLDER = re.compile(r"\{(?:ref|time|practitioner)\}")
MAX_SEGMENTS = 2

# The relay sends a staff message by SMS as "CLINIC: TEXT (ref REFERENCE)"
# and fills {time} as "Wed 10 Mar 12:45pm"; the check uses the longest such
# value. NOTE: both mirror the relay's templates; change them together.
SMS_FRAME = "{clinic}: {text} (ref {ref})"
LONGEST_TIME_TEXT = "Wed 10 Mar 12:45pm"

MAX_TEXT_CHARACTERS = 2 * GSM7_MULTI_SEGMENT


@dataclass(frozen=True)
class MessageTarget:
    """A booking that a staff message goes to, with the values the relay fills in.

    ``base_params`` are the booking's template values (names, times), to
    which the notice adds the staff text.
    """

    booking_id: int
    reference: str
    contact_id: int
    starts_at: datetime
    practitioner_name: str
    base_params: Mapping[str, Any] = field(default_factory=dict)


def check_staff_text(text: str) -> str:
    """Return the message text trimmed, or raise ``InvalidInput`` naming what is wrong and where.

    Errors give character positions, never the text itself.
    """
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("the message is empty; write the text to send")
    if len(cleaned) > MAX_TEXT_CHARACTERS:
        raise InvalidInput(
            f"the message has {len(cleaned)} characters, more than the {MAX_TEXT_CHARACTERS} "
            "that fit in two SMS; shorten it"
        )
    for position, character in enumerate(cleaned, start=1):
        if character != "\n" and (ord(character) < 0x20 or 0x7F <= ord(character) < 0xA0):
            raise InvalidInput(f"the message has a control character at position {position}; remove it")

    # Blank out the allowed placeholders; any brace left over is an unknown
    # placeholder or a stray brace, which the relay would send as written.
    remainder = _PLACEHOLDER.sub(lambda match: "_" * len(match.group(0)), cleaned)
    for position, character in enumerate(remainder, start=1):
        if character in "{}":
            raise InvalidInput(
                f"the message has an unknown placeholder or a stray brace at position {position}; "
                "the only placeholders are {ref}, {time} and {practitioner}"
            )
    return cleaned


def sms_septets(text: str) -> int:
    """Count the GSM-7 septets of ``text`` as the relay sends it by SMS, after the same folding."""
    return measure_sms(to_gsm7(text)).units


def sms_segments(text: str) -> int:
    """Count the SMS segments of ``text`` as the relay sends it by SMS; an empty text still takes one."""
    return max(1, measure_sms(to_gsm7(text)).segments)


def fill_for_check(text: str, target: MessageTarget) -> str:
    """Fill the placeholders with this booking's values, the time at its longest form."""
    values = {
        "{ref}": target.reference,
        "{time}": LONGEST_TIME_TEXT,
        "{practitioner}": target.practitioner_name,
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(0)], text)


def check_fits(text: str, targets: Sequence[MessageTarget], clinic_name: str) -> None:
    """Raise ``InvalidInput`` unless the message fits two SMS segments for every booking."""
    for target in targets:
        framed = SMS_FRAME.format(clinic=clinic_name, text=fill_for_check(text, target), ref=target.reference)
        if sms_segments(framed) > MAX_SEGMENTS:
            over = sms_septets(framed) - MAX_SEGMENTS * GSM7_MULTI_SEGMENT
            raise InvalidInput(
                f"the message is too long for two SMS once the clinic's name, the reference and "
                f"the placeholders are filled in (booking {target.reference}); "
                f"shorten it by at least {max(over, 1)} characters"
            )


def queue_staff_messages(
    session: Session,
    *,
    text: str,
    targets: Sequence[MessageTarget],
    actor: str,
    now: datetime,
) -> list[int]:
    """Queue one notice per booking and audit each, in the caller's transaction; return the notice ids.

    The audit entry records the notice id and never the text.
    """
    notice_ids: list[int] = []
    for target in targets:
        notice = enqueue_notice(
            session,
            kind=NOTICE_KIND,
            contact_id=target.contact_id,
            booking_id=target.booking_id,
            reference=target.reference,
            params={**target.base_params, PARAM_KEY: text},
            due_at=now,
            priority_at=target.starts_at,
            created_at=now,
        )
        if notice is None:
            raise AssertionError("a notice without a dedupe key is always added")
        record_audit(
            session,
            at=now,
            actor=actor,
            action=AUDIT_ACTION,
            reference=target.reference,
            outcome="queued",
            detail=f"notice {notice.id}",
        )
        notice_ids.append(notice.id)
    logger.debug("queued %s staff messages for %s", len(notice_ids), actor)
    return notice_ids
