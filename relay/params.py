"""Reading a notice's stored parameters into the facts its text needs.

The producers of notices write these `params` keys (all optional unless stated):

- every kind: `reference`, `clinic_name`, `practitioner_name`, `appointment_type`,
  `starts_at` (ISO-8601 UTC, required unless the notice names a booking), `vocabulary`
  (the profile's words, as `booking.wording.vocabulary_params` returns them) and
  `changed_by` (`patient`, `staff`, `system` or `relay`);
- `booking_moved`: `previous_starts_at`;
- `running_late`: `expected_at` (ISO-8601 UTC);
- `staff_message`: `text`, which may contain `{ref}`, `{time}` and `{practitioner}`.

The front adds one key after the notice is queued: `chat_reply_delivered_at`
(ISO-8601 UTC), once every chat reply of the dialogue turn that queued the notice
was delivered (`storage.outbox.record_chat_reply_delivered`).

Times are shown in the clinic's zone. A value that is missing falls back to the
booking row, then to the clinic; one that cannot be read makes the notice fail with
`relay.bad_params`, because retrying cannot repair it.

A staff message is the one kind that still goes after its booking is moved, so its
start time and practitioner come from the booking as it is at delivery
(`with_current_booking`), not from `params`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from booking.profiles import Vocabulary
from relay.templates import NoticeFacts, NoticeKind
from sealbook.errors import SealbookError
from storage.models.bookings import BookingRow
from storage.outbox import CHAT_REPLY_DELIVERED_AT


class BadParams(SealbookError):
    """A notice's parameters are missing a required value or hold an unreadable one."""

    def __init__(self, notice_id: int, key: str) -> None:
        self.key = key
        super().__init__(
            f"notice {notice_id} has a missing or invalid parameter {key!r}; it is marked failed "
            "and the code that queued it needs fixing"
        )


def read_facts(
    notice_id: int,
    kind: NoticeKind,
    reference: str | None,
    params: Mapping[str, Any],
    *,
    booking: BookingRow | None,
    clinic_name: str,
    zone: ZoneInfo,
) -> NoticeFacts:
    """Build the facts of one notice from its parameters, its booking row and the clinic."""
    starts_at = _instant(notice_id, params, "starts_at")
    if starts_at is None and booking is not None:
        starts_at = booking.starts_at
    if starts_at is None:
        raise BadParams(notice_id, "starts_at")
    previous = _instant(notice_id, params, "previous_starts_at")
    expected = _instant(notice_id, params, "expected_at")

    return NoticeFacts(
        kind=kind,
        reference=reference or _text(params, "reference") or (booking.reference if booking else ""),
        clinic_name=_text(params, "clinic_name") or clinic_name,
        practitioner_name=_text(params, "practitioner_name"),
        appointment_type=_text(params, "appointment_type"),
        starts_at=starts_at.astimezone(zone),
        previous_starts_at=previous.astimezone(zone) if previous else None,
        expected_at=expected.astimezone(zone) if expected else None,
        staff_text=_text(params, "text") or None,
    )


# Kinds whose text describes the booking as it is at delivery rather than when queued.
CURRENT_BOOKING_KINDS = frozenset({NoticeKind.STAFF_MESSAGE})


def with_current_booking(
    facts: NoticeFacts, booking: BookingRow, *, practitioner_name: str | None, zone: ZoneInfo
) -> NoticeFacts:
    """Replace the start time and practitioner in `facts` with the booking's current ones.

    `practitioner_name` is the name of the booking's practitioner now, or None to
    keep the queued name when the practitioner row is gone.
    """
    return dataclasses.replace(
        facts,
        starts_at=booking.starts_at.astimezone(zone),
        practitioner_name=practitioner_name if practitioner_name is not None else facts.practitioner_name,
    )


def read_vocabulary(params: Mapping[str, Any], default: Vocabulary) -> Vocabulary:
    """Return the profile words stored with the notice, or `default` when absent or incomplete."""
    words = params.get("vocabulary")
    if not isinstance(words, dict):
        return default
    try:
        return Vocabulary(
            practitioner=str(words["practitioner"]),
            practitioners=str(words["practitioners"]),
            appointment=str(words["appointment"]),
            appointments=str(words["appointments"]),
            patient=str(words["patient"]),
            patients=str(words["patients"]),
        )
    except KeyError:
        return default


def changed_by_patient(params: Mapping[str, Any]) -> bool:
    """Tell whether the patient made the change, in a dialogue turn on their chat channel."""
    return params.get("changed_by") == "patient"


def chat_reply_delivered(params: Mapping[str, Any]) -> bool:
    """Tell whether the front recorded that the chat replies of the turn that queued the notice were delivered."""
    return isinstance(params.get(CHAT_REPLY_DELIVERED_AT), str)


def _text(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    return value if isinstance(value, str) else ""


def _instant(notice_id: int, params: Mapping[str, Any], key: str) -> dt.datetime | None:
    raw = params.get(key)
    if raw is None:
        return None
    try:
        instant = dt.datetime.fromisoformat(str(raw))
    except ValueError:
        raise BadParams(notice_id, key) from None
    if instant.tzinfo is None:
        raise BadParams(notice_id, key)
    return instant
