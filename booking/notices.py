"""Outbox notices and audit entries written in the transaction of each booking change.

Book, move and cancel each enqueue a notice for the booking's contact and
append an audit entry, in the caller's transaction, so both commit or roll
back with the change. A booking also gets one reminder, timed by the
profile's reminder rules. A move or cancel withdraws it, and a move makes
a new one for the new time. Notice parameters and audit details hold ids,
names of practitioners and types, and times, never a contact detail.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session as DbSession

from booking.clinic import Clinic
from booking.localtime import format_local, local_date, local_to_utc, to_local
from booking.wording import vocabulary_params
from storage.audit import record_audit
from storage.models.bookings import BookingRow
from storage.outbox import enqueue_notice, withdraw_notices

BOOKING_CONFIRMED = "booking_confirmed"
BOOKING_MOVED = "booking_moved"
BOOKING_CANCELLED = "booking_cancelled"
REMINDER = "reminder"

# An actor names who made a change: "patient", "relay", "system" or
# "staff:NAME". Names of up to 48 letters, digits, spaces, dots and dashes;
# no "@" or "+", and too few digits to spell a phone number.
_ACTOR = re.compile(r"^(patient|relay|system|staff:[A-Za-z0-9 ._'-]{1,48})$")


def check_actor(actor: str) -> str:
    """Return `actor` if it is a valid actor name, else raise `ValueError`."""
    if _ACTOR.match(actor) is None or sum(ch.isdigit() for ch in actor) >= 6:
        raise ValueError("actor must be 'patient', 'relay', 'system' or 'staff:NAME', never a contact detail")
    return actor


def is_staff(actor: str) -> bool:
    """Return whether the actor is a staff member or the system acting for staff."""
    return actor.startswith("staff:") or actor == "system"


def _role(actor: str) -> str:
    return actor.split(":", 1)[0]


def reminder_due_at(clinic: Clinic, starts_at: datetime, now: datetime) -> datetime | None:
    """Return when the reminder for an appointment is due, or None if none should be sent.

    The reminder goes `days_before` local days before the appointment, at
    the profile's local time, moved to the end of quiet hours if it falls
    inside them. None when that moment has passed or is not before the
    appointment, because the confirmation already covers it.
    """
    rules = clinic.reminders
    zone = clinic.zone
    day = local_date(starts_at, zone) - timedelta(days=rules.days_before)
    due = local_to_utc(zone, day, rules.local_time)
    if rules.is_quiet(to_local(due, zone).time()):
        quiet_end = local_to_utc(zone, day, rules.quiet_end)
        due = quiet_end if quiet_end > due else local_to_utc(zone, day + timedelta(days=1), rules.quiet_end)
    if due <= now or due >= starts_at:
        return None
    return due


def booking_params(
    clinic: Clinic, row: BookingRow, *, practitioner_name: str, type_name: str, actor: str
) -> dict[str, Any]:
    """Return the template values of a notice about one booking."""
    return {
        "reference": row.reference,
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone,
        "profile": clinic.profile.name,
        "practitioner_name": practitioner_name,
        "appointment_type": type_name,
        "starts_at": row.starts_at.isoformat(),
        "starts_local": format_local(row.starts_at, clinic.zone),
        "changed_by": _role(actor),
        "vocabulary": vocabulary_params(clinic),
    }


def record_booked(
    session: DbSession, clinic: Clinic, row: BookingRow, params: dict[str, Any], now: datetime, actor: str
) -> None:
    """Enqueue the confirmation and the reminder of a new booking, and audit it."""
    _enqueue(session, row, BOOKING_CONFIRMED, params, due_at=now, now=now)
    _enqueue_reminder(session, clinic, row, params, now)
    record_audit(
        session,
        at=now,
        actor=actor,
        action="book",
        reference=row.reference,
        outcome="ok",
        detail=f"starts_at={row.starts_at.isoformat()} ends_at={row.ends_at.isoformat()}",
    )


def record_moved(
    session: DbSession,
    clinic: Clinic,
    row: BookingRow,
    params: dict[str, Any],
    previous_starts_at: datetime,
    now: datetime,
    actor: str,
) -> None:
    """Withdraw the old reminder, enqueue the move notice and a new reminder, and audit."""
    withdraw_notices(session, row.id, [REMINDER], finished_at=now)
    moved = params | {
        "previous_starts_at": previous_starts_at.isoformat(),
        "previous_starts_local": format_local(previous_starts_at, clinic.zone),
    }
    _enqueue(session, row, BOOKING_MOVED, moved, due_at=now, now=now)
    _enqueue_reminder(session, clinic, row, params, now)
    record_audit(
        session,
        at=now,
        actor=actor,
        action="move",
        reference=row.reference,
        outcome="ok",
        detail=f"from={previous_starts_at.isoformat()} to={row.starts_at.isoformat()}",
    )


def record_cancelled(
    session: DbSession, row: BookingRow, params: dict[str, Any], now: datetime, actor: str
) -> None:
    """Withdraw the reminder, enqueue the cancellation notice, and audit."""
    withdraw_notices(session, row.id, [REMINDER], finished_at=now)
    _enqueue(session, row, BOOKING_CANCELLED, params, due_at=now, now=now)
    record_audit(
        session,
        at=now,
        actor=actor,
        action="cancel",
        reference=row.reference,
        outcome="ok",
        detail=f"starts_at={row.starts_at.isoformat()}",
    )


def record_step(session: DbSession, row: BookingRow, action: str, now: datetime, actor: str) -> None:
    """Audit a step of the visit (check-in, consult start or finish, no-show)."""
    record_audit(
        session,
        at=now,
        actor=actor,
        action=action,
        reference=row.reference,
        outcome="ok",
        detail=f"status={row.status}",
    )


def _enqueue(
    session: DbSession,
    row: BookingRow,
    kind: str,
    params: dict[str, Any],
    *,
    due_at: datetime,
    now: datetime,
) -> None:
    enqueue_notice(
        session,
        kind=kind,
        contact_id=row.contact_id,
        booking_id=row.id,
        reference=row.reference,
        params=params,
        due_at=due_at,
        priority_at=row.starts_at,
        created_at=now,
    )


def _enqueue_reminder(
    session: DbSession, clinic: Clinic, row: BookingRow, params: dict[str, Any], now: datetime
) -> None:
    due_at = reminder_due_at(clinic, row.starts_at, now)
    if due_at is not None:
        _enqueue(session, row, REMINDER, params, due_at=due_at, now=now)
