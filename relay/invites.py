"""iCalendar files for bookings: a stable UID per booking, a growing SEQUENCE, CANCEL on cancel.

Calendar apps match an update to the event they store by UID, and apply it only when
its SEQUENCE is higher than the stored one (RFC 5546, section 2.1.4). So every
confirmation, move and cancellation of one booking carries the same UID and a larger
SEQUENCE than the one before. Times carry the clinic's TZID with a VTIMEZONE, so an
appointment stays at its local time across daylight-saving changes.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import icalendar

from relay.channels.base import CalendarAttachment

PRODUCT_ID = "-//sealbook//notification relay//EN"


class InviteMethod(enum.StrEnum):
    """The iTIP method of a calendar file (RFC 5546)."""

    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True)
class BookingEvent:
    """Calendar event data of one booking.

    `starts_at` and `ends_at` are aware datetimes in the clinic's zone (a `ZoneInfo`),
    which the file names as TZID. `sequence` is 0 for the first file of a booking and
    grows by at least one with every later file.
    """

    reference: str
    summary: str
    description: str
    location: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    sequence: int
    organizer_email: str
    organizer_name: str
    attendee_email: str


def booking_uid(reference: str, domain: str) -> str:
    """Return the event UID of a booking, the same for every file about it."""
    return f"booking-{reference.upper()}@{domain}"


def build_invite(
    event: BookingEvent, method: InviteMethod, *, uid_domain: str, stamped_at: dt.datetime
) -> CalendarAttachment:
    """Build the calendar file for `event`: a request to add or update it, or its cancellation.

    `stamped_at` (aware) becomes DTSTAMP, the time the file was made.
    """
    if event.starts_at.tzinfo is None or event.ends_at.tzinfo is None:
        raise ValueError("starts_at and ends_at must be aware datetimes in the clinic's zone")
    if event.ends_at <= event.starts_at:
        raise ValueError("ends_at must be later than starts_at")
    if event.sequence < 0:
        raise ValueError("sequence must be 0 or more")

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method.value)

    vevent = icalendar.Event()
    vevent.add("uid", booking_uid(event.reference, uid_domain))
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", stamped_at.astimezone(dt.UTC))
    vevent.add("dtstart", event.starts_at)
    vevent.add("dtend", event.ends_at)
    vevent.add("summary", event.summary)
    vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if method is InviteMethod.CANCEL:
        vevent.add("status", "CANCELLED")
    else:
        vevent.add("status", "CONFIRMED")
    vevent.add("transp", "OPAQUE")

    organizer = icalendar.vCalAddress(f"mailto:{event.organizer_email}")
    if event.organizer_name:
        organizer.params["CN"] = icalendar.vText(event.organizer_name)
    vevent.add("organizer", organizer)
    # The clinic books on the patient's behalf, so the attendee has already accepted
    # and no reply is wanted.
    attendee = icalendar.vCalAddress(f"mailto:{event.attendee_email}")
    attendee.params["ROLE"] = icalendar.vText("REQ-PARTICIPANT")
    attendee.params["PARTSTAT"] = icalendar.vText("ACCEPTED")
    attendee.params["RSVP"] = icalendar.vText("FALSE")
    vevent.add("attendee", attendee)

    calendar.add_component(vevent)
    calendar.add_missing_timezones()
    return CalendarAttachment(content=calendar.to_ical(), method=method.value)
