"""Finding what staff name on the command line: the clinic, a practitioner, a booking and its projection."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from admin_cli.errors import NotFound
from booking.clinic import Clinic, Practitioner
from booking.late_views import ProjectedView, projected_day
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


def find_projection(session: Session, view: BookingView, zone: tzinfo, now: datetime) -> ProjectedView | None:
    """Compute the booking's live projection at ``now``, as ``day`` shows it; None for a cancelled booking.

    It reads the booking's day and practitioner as read in this session,
    so a change made earlier in the same transaction is included.
    """
    local_day = view.starts_at.astimezone(zone).date()
    day_projection = projected_day(session, local_day, view.practitioner_id, now=now)
    return next((item for item in day_projection if item.reference == view.reference), None)
