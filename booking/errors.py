"""Errors raised by the booking core, each with a plain message for staff or patients.

Every error here subclasses `sealbook.errors.SealbookError`. Messages name
ids (practitioner slug, appointment type slug, booking reference) and local
times, never a contact detail. When one of these is raised, nothing has been
written: the service raises before it changes anything, or rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from sealbook.errors import SealbookError

if TYPE_CHECKING:
    from booking.availability import Slot


class BookingError(SealbookError):
    """Base of the booking core's errors."""


class ProfileError(BookingError):
    """A domain profile file is missing or invalid."""


class ClinicFileError(BookingError):
    """A clinic file has a missing field, an unknown key or an impossible value."""


class InvalidReference(BookingError):
    """A booking reference is malformed or its check symbol does not match."""


class UnknownPractitioner(BookingError):
    """No practitioner has the given id."""

    def __init__(self, practitioner_id: str) -> None:
        super().__init__(f"unknown practitioner {practitioner_id!r}; choose one listed in the clinic file")
        self.practitioner_id = practitioner_id


class UnknownAppointmentType(BookingError):
    """No appointment type has the given id, or the practitioner does not offer it."""

    def __init__(self, appointment_type_id: str, practitioner_id: str | None = None) -> None:
        if practitioner_id is None:
            message = (
                f"unknown appointment type {appointment_type_id!r}; choose one listed in the clinic file"
            )
        else:
            message = (
                f"practitioner {practitioner_id!r} does not offer appointment type "
                f"{appointment_type_id!r}; choose another practitioner or type"
            )
        super().__init__(message)
        self.appointment_type_id = appointment_type_id
        self.practitioner_id = practitioner_id


class UnknownContact(BookingError):
    """No contact row has the given id, so the booking would have no one to notify."""

    def __init__(self, contact_id: int) -> None:
        super().__init__(f"no contact has row id {contact_id}; resolve the contact before booking for it")
        self.contact_id = contact_id


class NotBookable(BookingError):
    """A requested time breaks a booking rule (base of the time errors below)."""


class OutsideWorkingHours(NotBookable):
    """The requested time is not a slot start inside the practitioner's working hours."""


class InThePast(NotBookable):
    """The requested time has already started."""


class TooSoon(NotBookable):
    """The requested time is inside the clinic's minimum notice."""


class BeyondHorizon(NotBookable):
    """The requested time is further ahead than the clinic's booking horizon."""


class PastCutOff(BookingError):
    """A patient tried to move or cancel later than the clinic's cut-off allows.

    `clinic_phone` is the clinic's public number, so the reply can tell the
    patient to call instead.
    """

    def __init__(self, action: str, reference: str, clinic_phone: str) -> None:
        super().__init__(
            f"booking {reference} can no longer be {action} online because its cut-off "
            f"has passed; call the clinic on {clinic_phone}"
        )
        self.action = action
        self.reference = reference
        self.clinic_phone = clinic_phone


class SlotTaken(BookingError):
    """Another booking claimed the time first; `alternatives` are fresh free slots."""

    def __init__(self, alternatives: Sequence[Slot]) -> None:
        super().__init__("that time was just taken; choose one of the alternatives offered")
        self.alternatives: tuple[Slot, ...] = tuple(alternatives)


class DayHasBookings(BookingError):
    """Closing a practitioner's day would leave bookings on it that are still booked."""

    def __init__(self, practitioner_id: str, day: date, references: Sequence[str]) -> None:
        super().__init__(
            f"practitioner {practitioner_id!r} has {len(references)} booking(s) still booked on "
            f"{day.isoformat()} ({', '.join(references)}); move or cancel them, then close the day again"
        )
        self.practitioner_id = practitioner_id
        self.day = day
        self.references: tuple[str, ...] = tuple(references)


class BookingNotFound(BookingError):
    """No booking has the given reference."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"no booking has reference {reference}; check the reference")
        self.reference = reference


class NotYourBooking(BookingError):
    """The booking was made from another contact, so this contact may not act on it.

    The message is the same as for a missing booking, so a guessed reference
    reveals nothing about whether it exists.
    """

    def __init__(self, reference: str) -> None:
        super().__init__(f"no booking has reference {reference}; check the reference")
        self.reference = reference


class InvalidTransition(BookingError):
    """The booking's status does not allow the requested step."""

    def __init__(self, reference: str, status: str, action: str) -> None:
        super().__init__(f"booking {reference} is {status}, so it cannot be {action}")
        self.reference = reference
        self.status = status
        self.action = action


class InvalidVisitTime(InvalidTransition):
    """A visit step's time is impossible for the booking, such as a check-in a day early.

    A subclass of `InvalidTransition`, so callers that catch that one also
    catch this. The message names the booking, the step and the times.
    """

    def __init__(self, reference: str, status: str, action: str, message: str) -> None:
        BookingError.__init__(self, message)
        self.reference = reference
        self.status = status
        self.action = action


class ClinicNotLoaded(BookingError):
    """The database holds no clinic yet."""

    def __init__(self) -> None:
        super().__init__(
            "no clinic is loaded; run `sealbook-admin import FILE` or `sealbook init --demo-clinic` first"
        )
