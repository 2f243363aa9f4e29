"""Carrying out the dialogue's commands through `booking/`, turning its errors into outcomes.

Everything here runs inside the message's transaction, as the patient
(`actor="patient"`, with the contact's row id), so the booking core applies
the patient's rules: own bookings only, the minimum notice and the move and
cancel cut-offs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from booking import service, views
from booking.availability import PartOfDay, Slot
from booking.errors import (
    BookingNotFound,
    InvalidReference,
    InvalidTransition,
    NotBookable,
    NotYourBooking,
    PastCutOff,
    SlotTaken,
    UnknownAppointmentType,
    UnknownPractitioner,
)
from booking.late_views import contact_bookings_today
from booking.status import BookingStatus
from flows.commands import (
    AttachEmail,
    Book,
    Booked,
    BookingGone,
    BookingsListed,
    BookingView,
    Cancel,
    Cancelled,
    Command,
    EmailAttached,
    EmailRejected,
    EmailUnavailable,
    FindSlots,
    ListBookings,
    Move,
    Moved,
    Outcome,
    SlotGone,
    SlotsFound,
    SlotView,
    TooLate,
)
from flows.dialogue import DialogueContext

if TYPE_CHECKING:
    from flows.runner import ContactActions

logger = logging.getLogger(__name__)

PATIENT = "patient"
ALTERNATIVES = 3
"""Fresh slots offered when a chosen time can no longer be booked."""
BEFORE_TIME_SEARCH = 30
"""Slots fetched to filter for "before 10": enough for several days of mornings."""


def carry_out(
    session: Session,
    ctx: DialogueContext,
    contact_id: int,
    command: Command,
    contact_actions: ContactActions | None,
) -> Outcome:
    """Carry out one command for `contact_id` and return its outcome."""
    if isinstance(command, FindSlots):
        return SlotsFound(find_slots(session, ctx, command, contact_id))
    if isinstance(command, ListBookings):
        return _list(session, ctx, contact_id)
    if isinstance(command, Book):
        return _book(session, ctx, contact_id, command)
    if isinstance(command, Move):
        return _move(session, ctx, contact_id, command)
    if isinstance(command, Cancel):
        return _cancel(session, ctx, contact_id, command)
    return _attach_email(session, ctx, contact_id, command, contact_actions)


def _view(slot: Slot) -> SlotView:
    return SlotView(slot.practitioner_id, slot.starts_at)


def find_slots(
    session: Session, ctx: DialogueContext, command: FindSlots, contact_id: int
) -> tuple[SlotView, ...]:
    """Search free slots as the command asks, leaving out those already offered.

    A booking being moved is looked up as ``contact_id``'s own, so another
    patient's reference reveals nothing.
    """
    extra = len(command.exclude) + (BEFORE_TIME_SEARCH if command.before_time is not None else 0)
    part = PartOfDay(command.part_of_day) if command.part_of_day is not None else None
    try:
        slots = service.find_slots(
            session,
            ctx.clinic,
            appointment_type_id=command.appointment_type_id,
            now=ctx.now,
            practitioner_id=command.practitioner_id,
            from_date=command.from_date,
            part_of_day=part,
            from_time=command.from_time,
            limit=command.limit + extra,
            moving_reference=command.moving_reference,
            contact_id=contact_id,
        )
    except (UnknownAppointmentType, UnknownPractitioner, BookingNotFound, InvalidReference) as exc:
        # The clinic file changed under a conversation; offer nothing rather than fail.
        logger.info("slot search found nothing to search: %s", type(exc).__name__)
        return ()
    excluded = set(command.exclude)
    found = [_view(slot) for slot in slots if _view(slot).key not in excluded]
    if command.before_time is not None:
        limit_time = command.before_time
        found = [s for s in found if s.starts_at.astimezone(ctx.zone).time() < limit_time] or found
    return tuple(found[: command.limit])


def _alternatives(
    session: Session,
    ctx: DialogueContext,
    contact_id: int,
    appointment_type_id: str,
    practitioner_id: str | None,
    rejected: SlotView,
    moving_reference: str | None = None,
) -> tuple[SlotView, ...]:
    local = rejected.starts_at.astimezone(ctx.zone)
    search = FindSlots(
        appointment_type_id=appointment_type_id,
        practitioner_id=practitioner_id,
        from_date=local.date(),
        from_time=local.time(),
        part_of_day=None,
        before_time=None,
        limit=ALTERNATIVES,
        exclude=(rejected.key,),
        moving_reference=moving_reference,
    )
    return find_slots(session, ctx, search, contact_id)


def _slot_gone(
    session: Session,
    ctx: DialogueContext,
    contact_id: int,
    *,
    appointment_type_id: str,
    requested_practitioner_id: str | None,
    rejected: SlotView,
    nearest: Sequence[Slot] = (),
    moving_reference: str | None = None,
) -> SlotGone:
    """Return fresh alternatives to a rejected slot: the requested practitioner's while they have any.

    Only when the requested practitioner has no free time from the rejected
    slot on are other practitioners' times offered, flagged as such.
    `nearest` are the booking core's alternatives when another booking took
    the slot. Otherwise free slots are searched from the rejected time on.
    The rejected slot itself is never among the alternatives.
    """
    # The booking core lists its alternatives nearest first; patients read times in order.
    nearby = sorted(
        (view for view in map(_view, nearest) if view.key != rejected.key),
        key=lambda view: (view.starts_at, view.practitioner_id),
    )

    def search(practitioner_id: str | None) -> tuple[SlotView, ...]:
        return _alternatives(
            session, ctx, contact_id, appointment_type_id, practitioner_id, rejected, moving_reference
        )

    if requested_practitioner_id is None:
        return SlotGone(tuple(nearby) or search(None))

    own = [view for view in nearby if view.practitioner_id == requested_practitioner_id]
    if own:
        return SlotGone(tuple(own))
    own_found = search(requested_practitioner_id)
    if own_found:
        return SlotGone(own_found)

    anyone = nearby or list(search(None))
    others = tuple(view for view in anyone if view.practitioner_id != requested_practitioner_id)
    return SlotGone(others, other_practitioners=True)


def _list(session: Session, ctx: DialogueContext, contact_id: int) -> BookingsListed:
    listed = views.bookings_for_contact(session, contact_id, ctx.now)
    # Today's bookings carry the live running-late projection; later ones
    # are expected at their scheduled start.
    expected_today = {
        projected.reference: projected.expected_at
        for projected in contact_bookings_today(session, contact_id, ctx.now)
        if projected.expected_at is not None
    }
    return BookingsListed(
        tuple(
            BookingView(
                booking_id=view.id,
                reference=view.reference,
                appointment_type_id=view.appointment_type_id,
                practitioner_id=view.practitioner_id,
                starts_at=view.starts_at,
                expected_start=expected_today.get(view.reference, view.starts_at),
                checked_in=view.status is BookingStatus.ARRIVED,
            )
            for view in listed
        )
    )


def _book(session: Session, ctx: DialogueContext, contact_id: int, command: Book) -> Outcome:
    try:
        booked = service.book(
            session,
            ctx.clinic,
            contact_id=contact_id,
            appointment_type_id=command.appointment_type_id,
            practitioner_id=command.practitioner_id,
            starts_at=command.starts_at,
            now=ctx.now,
            actor=PATIENT,
        )
    except SlotTaken as exc:
        nearest: Sequence[Slot] = exc.alternatives
    except (NotBookable, UnknownAppointmentType, UnknownPractitioner) as exc:
        logger.info("chosen slot no longer bookable: %s", type(exc).__name__)
        nearest = ()
    else:
        return Booked(booked.reference, booked.practitioner_id, booked.starts_at)
    return _slot_gone(
        session,
        ctx,
        contact_id,
        appointment_type_id=command.appointment_type_id,
        requested_practitioner_id=command.requested_practitioner_id,
        rejected=SlotView(command.practitioner_id, command.starts_at),
        nearest=nearest,
    )


def _move(session: Session, ctx: DialogueContext, contact_id: int, command: Move) -> Outcome:
    try:
        moved = service.move(
            session,
            ctx.clinic,
            reference=command.reference,
            contact_id=contact_id,
            starts_at=command.starts_at,
            now=ctx.now,
            actor=PATIENT,
            practitioner_id=command.practitioner_id,
        )
    except PastCutOff:
        return TooLate("move", command.reference)
    except (BookingNotFound, NotYourBooking, InvalidTransition, InvalidReference) as exc:
        logger.info("booking %s not movable: %s", command.reference, type(exc).__name__)
        return BookingGone(command.reference)
    except SlotTaken as exc:
        nearest: Sequence[Slot] = exc.alternatives
    except (NotBookable, UnknownAppointmentType, UnknownPractitioner) as exc:
        logger.info("chosen slot for %s no longer bookable: %s", command.reference, type(exc).__name__)
        nearest = ()
    else:
        return Moved(moved.reference, moved.practitioner_id, moved.starts_at)
    return _slot_gone(
        session,
        ctx,
        contact_id,
        appointment_type_id=views.get_booking(session, command.reference).appointment_type_id,
        requested_practitioner_id=command.requested_practitioner_id,
        rejected=SlotView(command.practitioner_id, command.starts_at),
        nearest=nearest,
        moving_reference=command.reference,
    )


def _cancel(session: Session, ctx: DialogueContext, contact_id: int, command: Cancel) -> Outcome:
    try:
        service.cancel(
            session,
            ctx.clinic,
            reference=command.reference,
            contact_id=contact_id,
            now=ctx.now,
            actor=PATIENT,
        )
    except PastCutOff:
        return TooLate("cancel", command.reference)
    except (BookingNotFound, NotYourBooking, InvalidTransition, InvalidReference) as exc:
        logger.info("booking %s not cancellable: %s", command.reference, type(exc).__name__)
        return BookingGone(command.reference)
    return Cancelled(command.reference)


def _attach_email(
    session: Session,
    ctx: DialogueContext,
    contact_id: int,
    command: AttachEmail,
    contact_actions: ContactActions | None,
) -> Outcome:
    if contact_actions is None:
        return EmailUnavailable()
    if not contact_actions.attach_email(session, contact_id, command.address, ctx.now):
        return EmailRejected()
    return EmailAttached()
