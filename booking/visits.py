"""The steps of a visit that reception records: check-in, consult start and finish, no-show.

Each step moves a booking along `booking.status` and stamps the time,
which the running-late projection reads. They are staff actions, so they
take no contact id; each one is audited in the caller's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from booking.errors import BookingNotFound, InvalidTransition
from booking.notices import check_actor, record_step
from booking.references import parse_reference
from booking.status import BookingStatus
from booking.views import BookingView, view_of
from storage.models.bookings import BookingRow

logger = logging.getLogger(__name__)


def check_in(session: DbSession, *, reference: str, now: datetime, actor: str) -> BookingView:
    """Record that the patient has arrived: booked becomes arrived."""
    row = _load(session, reference, actor)
    if row.status != BookingStatus.BOOKED.value:
        raise InvalidTransition(row.reference, row.status, "checked in")
    row.status = BookingStatus.ARRIVED.value
    row.checked_in_at = now
    return _save(session, row, "check_in", now, actor)


def start_consult(session: DbSession, *, reference: str, now: datetime, actor: str) -> BookingView:
    """Record that the consult has started; a patient not yet checked in is checked in too."""
    row = _load(session, reference, actor)
    if row.status not in (BookingStatus.BOOKED.value, BookingStatus.ARRIVED.value):
        raise InvalidTransition(row.reference, row.status, "started")
    if row.consult_started_at is not None:
        raise InvalidTransition(row.reference, "already in consult", "started again")
    if row.checked_in_at is None:
        row.checked_in_at = now
    row.status = BookingStatus.ARRIVED.value
    row.consult_started_at = now
    return _save(session, row, "start_consult", now, actor)


def finish_consult(session: DbSession, *, reference: str, now: datetime, actor: str) -> BookingView:
    """Record that the consult has finished: arrived becomes fulfilled."""
    row = _load(session, reference, actor)
    if row.status != BookingStatus.ARRIVED.value:
        raise InvalidTransition(row.reference, row.status, "finished")
    if row.consult_started_at is None:
        raise InvalidTransition(row.reference, "not yet in consult; start the consult first", "finished")
    row.status = BookingStatus.FULFILLED.value
    row.consult_finished_at = now
    return _save(session, row, "finish_consult", now, actor)


def mark_no_show(session: DbSession, *, reference: str, now: datetime, actor: str) -> BookingView:
    """Record that the patient did not come: booked becomes noshow, once the start has passed."""
    row = _load(session, reference, actor)
    if row.status != BookingStatus.BOOKED.value:
        raise InvalidTransition(row.reference, row.status, "marked as a no-show")
    if now < row.starts_at:
        raise InvalidTransition(row.reference, "not due yet", "marked as a no-show before its start")
    row.status = BookingStatus.NOSHOW.value
    row.no_show_at = now
    return _save(session, row, "no_show", now, actor)


def _load(session: DbSession, reference: str, actor: str) -> BookingRow:
    check_actor(actor)
    canonical = parse_reference(reference)
    row = session.scalars(select(BookingRow).where(BookingRow.reference == canonical)).first()
    if row is None:
        raise BookingNotFound(canonical)
    return row


def _save(session: DbSession, row: BookingRow, action: str, now: datetime, actor: str) -> BookingView:
    row.updated_at = now
    session.flush()
    record_step(session, row, action, now, actor)
    logger.info("%s recorded for %s", action, row.reference)
    return view_of(session, row.id)
