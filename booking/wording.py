"""Plain-text wording of bookings in the clinic profile's own words.

Front ends own their templates. These helpers give them, staff tools and
tests one sentence per booking in the vocabulary of the clinic's domain
profile, so swapping the profile changes the words with no code change.
The fixed words are plain GSM-7 text (no curly quotes); practitioner and
type names appear as the clinic file writes them.
"""

from __future__ import annotations

from booking.clinic import Clinic
from booking.localtime import format_local
from booking.views import BookingView


def describe_booking(clinic: Clinic, booking: BookingView) -> str:
    """Return one sentence naming the booking's type, practitioner, local time and reference."""
    words = clinic.vocabulary
    when = format_local(booking.starts_at, clinic.zone)
    return (
        f"Your {words.appointment} ({booking.appointment_type_name}) with "
        f"{words.practitioner} {booking.practitioner_name} is on {when}. "
        f"Reference {booking.reference}."
    )


def vocabulary_params(clinic: Clinic) -> dict[str, str]:
    """Return the profile's words as template values, such as {"appointment": "meeting"}."""
    words = clinic.vocabulary
    return {
        "practitioner": words.practitioner,
        "practitioners": words.practitioners,
        "appointment": words.appointment,
        "appointments": words.appointments,
        "patient": words.patient,
        "patients": words.patients,
    }
