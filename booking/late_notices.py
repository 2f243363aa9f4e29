"""Running-late and session-cancelled notices: their template values, outbox rows and delivery check.

Both kinds are written to the outbox in the transaction of the change that
causes them. Their parameters contain the booking reference, practitioner
and clinic names, times, and the way to move or cancel. They never contain a
contact detail or anything about another patient. The way to move or cancel asks for
MENU, a word that no SMS carrier treats as an opt-out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from booking.availability import Slot
from booking.clinic import Clinic
from booking.late_policy import LateNotice
from booking.localtime import format_local
from booking.notices import BOOKING_CANCELLED, booking_params
from booking.status import BookingStatus
from storage.models.bookings import BookingRow
from storage.models.outbox import Notice
from storage.outbox import NewNotice, enqueue_notice, withdraw_notices

RUNNING_LATE = "running_late"
SESSION_CANCELLED = "session_cancelled"


def change_hint(clinic: Clinic) -> str:
    """Return the sentence on how to move or cancel a booking, in plain GSM-7 text."""
    return f"To move or cancel, reply MENU or call {clinic.phone}."


def running_late_dedupe_key(row: BookingRow, step: int) -> str:
    """Return the outbox dedupe key of one step of one booking, reset by each move."""
    return f"{RUNNING_LATE}:{row.id}:{row.moves}:{step}"


def running_late_notice(
    clinic: Clinic,
    row: BookingRow,
    notice: LateNotice,
    *,
    practitioner_name: str,
    type_name: str,
    now: datetime,
) -> NewNotice:
    """Build the outbox notice of one running-late step of one booking, for `enqueue_notices`."""
    zone = clinic.zone
    params: dict[str, Any] = booking_params(
        clinic, row, practitioner_name=practitioner_name, type_name=type_name, actor="system"
    )
    params.update(
        {
            "scheduled_time_local": f"{row.starts_at.astimezone(zone):%H:%M}",
            "expected_at": notice.expected_at.isoformat(),
            "expected_local": format_local(notice.expected_at, zone),
            "expected_time_local": f"{notice.expected_at.astimezone(zone):%H:%M}",
            "delay_minutes": notice.delay_minutes,
            "step": notice.step,
            "below_threshold": notice.step == 0,
            "moves": row.moves,
            "change_hint": change_hint(clinic),
        }
    )
    return NewNotice(
        kind=RUNNING_LATE,
        contact_id=row.contact_id,
        booking_id=row.id,
        reference=row.reference,
        params=params,
        due_at=now,
        priority_at=row.starts_at,
        created_at=now,
        dedupe_key=running_late_dedupe_key(row, notice.step),
    )


def replace_cancel_notice(
    session: DbSession,
    clinic: Clinic,
    row: BookingRow,
    *,
    practitioner_name: str,
    type_name: str,
    away_from_at: datetime,
    next_free: Slot | None,
    next_free_practitioner_name: str | None,
    now: datetime,
) -> Notice | None:
    """Swap the plain cancellation notice of a booking cancelled by an absence for a session-cancelled one.

    The booking core queues a ``booking_cancelled`` notice with every cancel.
    It is withdrawn here, in the same transaction, so the patient gets one
    message that gives the reason and offers a new time. Pending running-late
    notices of the booking are withdrawn too.
    """
    withdraw_notices(session, row.id, [BOOKING_CANCELLED, RUNNING_LATE], finished_at=now)
    zone = clinic.zone
    params: dict[str, Any] = booking_params(
        clinic, row, practitioner_name=practitioner_name, type_name=type_name, actor="system"
    )
    params.update(
        {
            "away_from_local": f"{away_from_at.astimezone(zone):%H:%M}",
            "next_free_at": next_free.starts_at.isoformat() if next_free is not None else None,
            "next_free_local": format_local(next_free.starts_at, zone) if next_free is not None else None,
            "next_free_practitioner_name": next_free_practitioner_name,
            "rebook_hint": f"To choose a new time, reply MENU or call {clinic.phone}.",
        }
    )
    return enqueue_notice(
        session,
        kind=SESSION_CANCELLED,
        contact_id=row.contact_id,
        booking_id=row.id,
        reference=row.reference,
        params=params,
        due_at=now,
        priority_at=row.starts_at,
        created_at=now,
        dedupe_key=f"{SESSION_CANCELLED}:{row.id}",
    )


def running_late_skip_reason(booking: BookingRow | None, params: Mapping[str, Any]) -> str | None:
    """Return why a running-late notice no longer applies to its booking, or None while it does.

    The reason is ``missing`` when there is no booking and ``checked_in`` once
    the patient is checked in or in consult. Once the booking is no longer
    booked, the reason is its status. It is ``moved`` once the booking's move
    count or start time differs from the one in the notice's parameters. The
    relay calls this with the booking it reads just before sending.
    """
    if booking is None:
        return "missing"
    checked_in = booking.checked_in_at is not None or booking.consult_started_at is not None
    if checked_in or booking.status == BookingStatus.ARRIVED:
        return "checked_in"
    if booking.status != BookingStatus.BOOKED:
        return str(booking.status)
    if _moved_since_queued(booking, params):
        return "moved"
    return None


def _moved_since_queued(booking: BookingRow, params: Mapping[str, Any]) -> bool:
    """Tell whether the booking was moved after the notice with these parameters was queued.

    A parameter that is absent is not compared. A start time that cannot be
    read counts as moved.
    """
    queued_moves = params.get("moves")
    if queued_moves is not None and queued_moves != booking.moves:
        return True
    queued_starts_at = params.get("starts_at")
    if queued_starts_at is None:
        return False
    try:
        return datetime.fromisoformat(str(queued_starts_at)) != booking.starts_at
    except ValueError:
        return True


def running_late_superseded(session: DbSession, notice: Notice) -> bool:
    """Tell whether a later running-late notice of the same booking and move count replaces this one.

    Each recompute that moves a booking onto a new step queues a new notice
    with the new expected time, so of a backlog only the newest is worth
    sending. Notices are compared by id, which grows in queueing order for
    one booking because recomputes of a practitioner's day hold that
    practitioner's lock. A later notice counts whatever its status.
    """
    if notice.kind != RUNNING_LATE or notice.booking_id is None:
        return False
    later_params = session.scalars(
        select(Notice.params).where(
            Notice.booking_id == notice.booking_id,
            Notice.kind == RUNNING_LATE,
            Notice.id > notice.id,
        )
    )
    moves = notice.params.get("moves")
    return any(params.get("moves") == moves for params in later_params)


def running_late_notice_applies(session: DbSession, notice: Notice) -> bool:
    """Return whether a notice may still be delivered, by `running_late_skip_reason` and `running_late_superseded`.

    Notices of other kinds always apply here.
    """
    if notice.kind != RUNNING_LATE:
        return True
    booking = session.get(BookingRow, notice.booking_id) if notice.booking_id is not None else None
    if running_late_skip_reason(booking, notice.params) is not None:
        return False
    return not running_late_superseded(session, notice)
