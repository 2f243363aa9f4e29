"""Commands the dialogue asks the runner to carry out, and the outcomes fed back to it.

A step never touches the database: it returns a command, the runner carries
it out through `booking/` inside the message's transaction, and the outcome
comes back to the same step as an event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

# Commands.


@dataclass(frozen=True)
class FindSlots:
    """Search free slots, nearest first, from a local date and time or part of the day."""

    appointment_type_id: str
    practitioner_id: str | None
    from_date: dt.date | None
    from_time: dt.time | None
    part_of_day: str | None
    before_time: dt.time | None
    """Latest local start wanted ("before 10"); None for no limit."""
    limit: int
    exclude: tuple[str, ...] = ()
    """Slot keys already offered, left out of the result."""
    moving_reference: str | None = None
    """The booking being moved, whose own time counts as free."""


@dataclass(frozen=True)
class ListBookings:
    """List the contact's bookings still ahead or under way, soonest first.

    Today's active bookings stay listed past their scheduled end until they
    are finished, marked a no-show or the day ends (see
    `booking.views.bookings_for_contact`).
    """


@dataclass(frozen=True)
class Book:
    """Book a slot for the contact."""

    appointment_type_id: str
    practitioner_id: str
    starts_at: dt.datetime
    requested_practitioner_id: str | None = None
    """The practitioner the patient requested, or None for "first available". Alternatives stay with them."""


@dataclass(frozen=True)
class Move:
    """Move one of the contact's bookings to a new start; the reference stays."""

    reference: str
    practitioner_id: str
    starts_at: dt.datetime
    requested_practitioner_id: str | None = None
    """The practitioner whose times the patient was shown, the booking's own. Alternatives stay with them."""


@dataclass(frozen=True)
class Cancel:
    """Cancel one of the contact's bookings."""

    reference: str


@dataclass(frozen=True)
class AttachEmail:
    """Attach an e-mail address to the contact for confirmations with a calendar file.

    The address lives only in this object, for the length of one message:
    it is never saved in the dialogue state or logged. The contact layer
    pseudonymises and seals it like any other contact.
    """

    address: str

    def __repr__(self) -> str:
        return "AttachEmail(address=<hidden>)"


Command = FindSlots | ListBookings | Book | Move | Cancel | AttachEmail

# Outcomes.


@dataclass(frozen=True)
class SlotView:
    """A free slot as offered to a patient."""

    practitioner_id: str
    starts_at: dt.datetime

    @property
    def key(self) -> str:
        """Stable text key of this slot, used to skip slots already offered."""
        return f"{self.practitioner_id}|{self.starts_at.astimezone(dt.UTC).isoformat()}"


@dataclass(frozen=True)
class BookingView:
    """One of the contact's active bookings as listed to them."""

    booking_id: int
    reference: str
    appointment_type_id: str
    practitioner_id: str
    starts_at: dt.datetime
    expected_start: dt.datetime
    """Current projected start; the scheduled start until a delay is known."""
    checked_in: bool = False
    """True once the patient has checked in or the consult has started, after which no move or cancel is allowed."""


@dataclass(frozen=True)
class SlotsFound:
    """Free slots found by `FindSlots`, possibly none."""

    slots: tuple[SlotView, ...]


@dataclass(frozen=True)
class BookingsListed:
    """The contact's active bookings."""

    bookings: tuple[BookingView, ...]


@dataclass(frozen=True)
class Booked:
    """A booking was made."""

    reference: str
    practitioner_id: str
    starts_at: dt.datetime


@dataclass(frozen=True)
class Moved:
    """A booking was moved."""

    reference: str
    practitioner_id: str
    starts_at: dt.datetime


@dataclass(frozen=True)
class Cancelled:
    """A booking was cancelled."""

    reference: str


@dataclass(frozen=True)
class SlotGone:
    """The chosen time can no longer be booked. `alternatives` are fresh free slots, never the rejected one."""

    alternatives: tuple[SlotView, ...]
    other_practitioners: bool = False
    """True when the requested practitioner has no free time from the rejected slot on,
    so `alternatives` are other practitioners' times."""


@dataclass(frozen=True)
class TooLate:
    """A move or cancel came after the clinic's cut-off for that booking."""

    action: Literal["move", "cancel"]
    reference: str


@dataclass(frozen=True)
class BookingGone:
    """The booking is no longer active (cancelled meanwhile) or is not the contact's."""

    reference: str


@dataclass(frozen=True)
class EmailAttached:
    """The e-mail address was attached to the contact."""


@dataclass(frozen=True)
class EmailRejected:
    """The contact layer rejected the address as invalid."""


@dataclass(frozen=True)
class EmailUnavailable:
    """This deployment has no way to attach e-mail addresses."""


Outcome = (
    SlotsFound
    | BookingsListed
    | Booked
    | Moved
    | Cancelled
    | SlotGone
    | TooLate
    | BookingGone
    | EmailAttached
    | EmailRejected
    | EmailUnavailable
)
