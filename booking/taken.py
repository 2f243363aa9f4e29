"""Lost claims on time: a clash in the database becomes `SlotTaken` with the nearest free slots.

A claim runs inside a savepoint and can lose in two ways. The primary key
of `booking_cells` rejects a cell that another booking holds
(`IntegrityError`). Or PostgreSQL aborts the statement because it waited
on cells that another transaction was changing: a deadlock (SQLSTATE
40P01), as when two moves swap two bookings' times, or a serialization
failure (40001). Either way the savepoint is rolled back, the caller's
transaction stays usable, and the caller gets `SlotTaken`, never a
database error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session as DbSession

from booking import availability
from booking.availability import BusyLookup, Slot
from booking.claims import busy_lookup, cells_taken
from booking.clinic import Clinic
from booking.errors import SlotTaken
from booking.localtime import local_date

logger = logging.getLogger(__name__)

ALTERNATIVES = 3
"""How many free slots a `SlotTaken` error offers."""

# PostgreSQL's deadlock_detected and serialization_failure.
_LOST_TO_CONCURRENT_CHANGE = frozenset({"40P01", "40001"})

# More slots than any practitioner can have in one local day (24 hours of
# 5-minute cells), so a one-day search returns the whole day.
_WHOLE_DAY = 24 * 12


def claim_or_raise_taken(
    session: DbSession,
    clinic: Clinic,
    *,
    slot: Slot,
    practitioner_row_id: int,
    occupied_until: datetime,
    now: datetime,
    moving_booking_id: int | None,
    write: Callable[[], None],
) -> None:
    """Run `write` in a savepoint; if it loses the claim on `slot`, roll it back and raise `SlotTaken`.

    An `IntegrityError` while no other booking holds any of the slot's
    cells is a different fault, such as a broken foreign key, and is
    re-raised. `moving_booking_id` names a booking being moved, whose own
    time counts as free when alternatives are chosen.
    """
    try:
        with session.begin_nested():
            write()
    except IntegrityError as error:
        if not cells_taken(
            session,
            practitioner_row_id=practitioner_row_id,
            starts_at=slot.starts_at,
            occupied_until=occupied_until,
        ):
            raise
        logger.info("slot taken for practitioner %s at %s", slot.practitioner_id, slot.starts_at.isoformat())
        raise SlotTaken(nearest_alternatives(session, clinic, slot, now, moving_booking_id)) from error
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) not in _LOST_TO_CONCURRENT_CHANGE:
            raise
        logger.info(
            "claim for practitioner %s at %s lost to a concurrent change (SQLSTATE %s)",
            slot.practitioner_id,
            slot.starts_at.isoformat(),
            getattr(error.orig, "sqlstate", None),
        )
        raise SlotTaken(nearest_alternatives(session, clinic, slot, now, moving_booking_id)) from error


def nearest_alternatives(
    session: DbSession, clinic: Clinic, slot: Slot, now: datetime, moving_booking_id: int | None
) -> list[Slot]:
    """Return up to `ALTERNATIVES` free slots nearest to a taken one: its practitioner's first, then anyone's."""
    busy = busy_lookup(session, ignore_booking_id=moving_booking_id)
    found = _nearest(clinic, slot, now, busy, slot.practitioner_id, ALTERNATIVES)
    if len(found) < ALTERNATIVES:
        anyone = _nearest(clinic, slot, now, busy, None, 2 * ALTERNATIVES)
        found += [other for other in anyone if other not in found][: ALTERNATIVES - len(found)]
    return found


def _nearest(
    clinic: Clinic, slot: Slot, now: datetime, busy: BusyLookup, practitioner_id: str | None, limit: int
) -> list[Slot]:
    """Return free slots on the taken slot's local day by distance from it, then on later days."""
    day = local_date(slot.starts_at, clinic.zone)
    same_day = availability.find_slots(
        clinic,
        appointment_type_id=slot.appointment_type_id,
        now=now,
        practitioner_id=practitioner_id,
        from_date=day,
        to_date=day,
        limit=_WHOLE_DAY * len(clinic.practitioners),
        busy=busy,
    )
    same_day.sort(key=lambda free: (abs(free.starts_at - slot.starts_at), free.starts_at))
    found = same_day[:limit]
    if len(found) < limit:
        found += availability.find_slots(
            clinic,
            appointment_type_id=slot.appointment_type_id,
            now=now,
            practitioner_id=practitioner_id,
            from_date=day + timedelta(days=1),
            limit=limit - len(found),
            busy=busy,
        )
    return found
