"""The plug-in booking core: clinics, availability, slot search, references and bookings.

Front ends drive it through the names below; each takes the caller's
SQLAlchemy session and works inside the caller's transaction. See
`booking.service` for the rules of book, move and cancel, and
`booking.status` for the statuses and their FHIR codes.
"""

from booking.availability import PartOfDay, Slot
from booking.clinic import AppointmentType, Clinic, Practitioner
from booking.clinic_file import DEMO_CLINIC, load_clinic_file, parse_clinic_file
from booking.references import new_reference, parse_reference
from booking.service import book, cancel, find_slots, move
from booking.status import FHIR_APPOINTMENT_STATUS, BookingStatus
from booking.store import ImportSummary, import_clinic, load_clinic
from booking.views import BookingView, bookings_for_contact, day_bookings, get_booking
from booking.visits import check_in, finish_consult, mark_no_show, start_consult

__all__ = [
    "DEMO_CLINIC",
    "FHIR_APPOINTMENT_STATUS",
    "AppointmentType",
    "BookingStatus",
    "BookingView",
    "Clinic",
    "ImportSummary",
    "PartOfDay",
    "Practitioner",
    "Slot",
    "book",
    "bookings_for_contact",
    "cancel",
    "check_in",
    "day_bookings",
    "find_slots",
    "finish_consult",
    "get_booking",
    "import_clinic",
    "load_clinic",
    "load_clinic_file",
    "mark_no_show",
    "move",
    "new_reference",
    "parse_clinic_file",
    "parse_reference",
    "start_consult",
]
