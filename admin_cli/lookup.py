"""Finding what staff name on the command line: the clinic, a practitioner, a booking."""

from __future__ import annotations

from sqlalchemy.orm import Session

from admin_cli.errors import NotFound
from booking.clinic import Clinic, Practitioner
from booking.store import load_clinic
from booking.views import BookingView, get_booking


def require_practitioner(clinic: Clinic, practitioner_id: str) -> Practitioner:
    """Return the practitioner with this id, or raise ``NotFound`` without repeating what was typed."""
    requested = practitioner_id.strip().lower()
    for practitioner in clinic.practitioners:
        if practitioner.id == requested:
            return practitioner
    raise NotFound("no practitioner has that id; `sealbook-admin practitioners` lists them")


def find_booking(session: Session, reference: str) -> BookingView:
    """Return the booking with this reference; a mistyped or unknown one raises a not-found error."""
    return get_booking(session, reference)


def clinic_of(session: Session) -> Clinic:
    """Return the clinic; without one, the booking core's error says to import a clinic file."""
    return load_clinic(session)
