"""The steps of a visit that reception records: check-in, consult start and finish, no-show.

Each step moves a booking along `booking.status` and stamps the time,
which the running-late projection reads. They are staff actions, so they
take no contact id; each one is audited in the caller's transaction.

Each step locks the booking's row first (`booking.claims.lock_booking`),
so a step racing a cancel or a move reads the status that the other committed.
A finished consult and a no-show release the booking's time cells, as a
cancel does. Check-in and consult start are accepted from the start of
the appointment's local day in the clinic's zone, and a consult cannot
finish before it started.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session as DbSession

from booking.claims import lock_booking, release_cells
from booking.errors import InvalidTransition, InvalidVisitTime
from booking.localtime import day_start_utc, format_local, local_date
from booking.notices import check_actor, record_step
from booking.status import BookingStatus, status_words
from booking.views import BookingView, clinic_zone, view_of
from storage.models.bookings import BookingRow

logger = logging.getLogger(__name__)


class VisitStep(Protocol):
    """The call signature that `check_in`, `start_consult`, `finish_consult` and `mark_no_show` share."""

    def __call__(self, session: DbSession, *, reference: str, now: datetime, actor: str) -> BookingView: ...


def check_in(session: DbSession, *, reference: str, now: datetime, actor: str) -> BookingView:
    """Record that the patient has arrived: booked becomes arrived."""
    row = _load(session, reference, actor)
    if row.status != BookingStatus.BOOKED.value:
        raise InvalidTransition(row.reference, status_words(row.status, row.consult_started_at), "checked in")
    _require_appointment_day(session, row, "checked in", now)
    row.status = BookingStatus.ARRIVED.value
    row.checked_in_at = now
    return _save(session, row, "check_in", now, actor)


def start_consult(session: DbSession, *, reference: str, now: datetime, actor: str) -> BookingView:
    """Record that the consult has started; a patient not yet checked in is checked in too."""
    row = _load(session, reference, actor)
    if row.status not in (BookingStatus.BOOKED.value, BookingStatus.ARRIVED.value):
        raise InvalidTransition(row.reference, status_words(row.status, row.consult_started_at), "started")
    if row.consult_started_at is not None:
        raise InvalidTransition(row.reference, "already in consult", "started again")
    _require_appointment_day(session, row, "started", now)
    if row.checked_in_at is None:
        row.checked_in_at = now
    row.status = BookingStatus.ARRIVED.value
    row.consult_started_at = now
    return _save(session, row, "start_consult", now, actor)


# Reception desks and the machine that recorded a consult's start can
# disagree by a few seconds; a finish that early is a clock difference, not
# a mistake.
CLOCK_SKEW = timedelta(minutes=1)


def finish_consult(session: DbSession, *, reference: str, now: datetime, actor: str) -> BookingView:
    """Record that the consult has finished: arrived becomes fulfilled, and the rest of its time is freed."""
    row = _load(session, reference, actor)
    if row.status != BookingStatus.ARRIVED.value:
        raise InvalidTransition(row.reference, status_words(row.status, row.consult_started_at), "finished")
    if row.consult_started_at is None:
        raise InvalidTransition(row.reference, "not yet in consult; start the consult first", "finished")
    if now < row.consult_started_at - CLOCK_SKEW:
        zone = clinic_zone(session)
        raise InvalidVisitTime(
            row.reference,
            row.status,
            "finished",
            f"booking {row.reference} cannot finish at {format_local(now, zone)}, before its consult "
            f"started at {format_local(row.consult_started_at, zone)}; check the time",
        )
    release_cells(session, row.id)
    row.status = BookingStatus.FULFILLED.value
    # Within the allowed skew, the finish is recorded at the start, so the
    # stored times never run backwards.
    row.consult_finished_at = max(now, row.consult_started_at)
    return _save(session, row, "finish_consult", now, actor)


def mark_no_show(session: DbSession, *, reference: str, now: datetime, actor: str) -> BookingView:
    """Record that the patient did not come: booked becomes noshow once the start has passed, and its time is freed."""
    row = _load(session, reference, actor)
    if row.status != BookingStatus.BOOKED.value:
        raise InvalidTransition(
            row.reference, status_words(row.status, row.consult_started_at), "marked as a no-show"
        )
    if now < row.starts_at:
        raise InvalidTransition(row.reference, "not due yet", "marked as a no-show before its start")
    release_cells(session, row.id)
    row.status = BookingStatus.NOSHOW.value
    row.no_show_at = now
    return _save(session, row, "no_show", now, actor)


def _load(session: DbSession, reference: str, actor: str) -> BookingRow:
    check_actor(actor)
    return lock_booking(session, reference)


def _require_appointment_day(session: DbSession, row: BookingRow, action: str, now: datetime) -> None:
    """Raise `InvalidVisitTime` when `now` is before the local day of the appointment."""
    zone = clinic_zone(session)
    opens_at = day_start_utc(zone, local_date(row.starts_at, zone))
    if now < opens_at:
        raise InvalidVisitTime(
            row.reference,
            row.status,
            action,
            f"booking {row.reference} cannot be {action} at {format_local(now, zone)}: it is on "
            f"{format_local(row.starts_at, zone)}, and visit steps open on that day; record it then",
        )


def _save(session: DbSession, row: BookingRow, action: str, now: datetime, actor: str) -> BookingView:
    row.updated_at = now
    session.flush()
    record_step(session, row, action, now, actor)
    logger.info("%s recorded for %s", action, row.reference)
    return view_of(session, row.id)
