"""Booking statuses, their one-to-one mapping onto FHIR Appointment statuses, and allowed steps.

A booking's life:

    booked --check_in--> arrived --finish_consult--> fulfilled
      |  \\                 (start_consult sets consult_started_at and keeps arrived;
      |   \\                 from booked it checks the patient in as well)
      |    --mark_no_show--> noshow   (once the start time has passed)
      --cancel--> cancelled         (the booking's time is freed at once)

Only a booked booking can be moved. Cancelled, fulfilled and noshow are
final, and a booking in any of them holds no time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class BookingStatus(StrEnum):
    """Stage of a booking's life, as stored in `bookings.status`."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    ARRIVED = "arrived"
    FULFILLED = "fulfilled"
    NOSHOW = "noshow"

    @property
    def fhir(self) -> str:
        """The FHIR R4/R5 `Appointment.status` code of this status."""
        return FHIR_APPOINTMENT_STATUS[self]


# One-to-one onto codes of the FHIR value set appointmentstatus
# (http://hl7.org/fhir/valueset-appointmentstatus.html). The words match
# on purpose; this table is the written contract.
FHIR_APPOINTMENT_STATUS: dict[BookingStatus, str] = {
    BookingStatus.BOOKED: "booked",
    BookingStatus.CANCELLED: "cancelled",
    BookingStatus.ARRIVED: "arrived",
    BookingStatus.FULFILLED: "fulfilled",
    BookingStatus.NOSHOW: "noshow",
}

# Statuses whose booking still holds its practitioner's time. A finished
# consult or a no-show frees the rest of its time, as a cancel does.
HOLDS_TIME = frozenset({BookingStatus.BOOKED, BookingStatus.ARRIVED})

# Statuses of a booking that is still to happen or under way.
ACTIVE = frozenset({BookingStatus.BOOKED, BookingStatus.ARRIVED})


def status_words(status: str, consult_started_at: datetime | None) -> str:
    """Return a stored status as reception names it: ``in consult`` for an arrived patient being seen."""
    if status == BookingStatus.ARRIVED.value and consult_started_at is not None:
        return "in consult"
    return status
