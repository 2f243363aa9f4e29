"""Texts of every notice kind, per channel, in the domain profile's vocabulary.

Chat and SMS texts are short; SMS texts are transliterated to GSM-7 and fitted into
at most two segments, so one curly apostrophe in a staff message cannot double the
cost of every SMS. E-mail texts carry a subject and the booking's details line by line.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

from booking.profiles import Vocabulary
from relay.channels.base import ChannelKind
from sealbook import gsm7

SMS_MAX_SEGMENTS = 2

# Staff messages may use these placeholders; the relay fills them per booking.
_STAFF_PLACEHOLDER = re.compile(r"\{(ref|time|practitioner)\}")

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class NoticeKind(enum.StrEnum):
    """The purpose of a notice; its value is what the outbox stores."""

    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_MOVED = "booking_moved"
    BOOKING_CANCELLED = "booking_cancelled"
    REMINDER = "reminder"
    RUNNING_LATE = "running_late"
    STAFF_MESSAGE = "staff_message"
    SESSION_CANCELLED = "session_cancelled"


# Kinds that change the booking's calendar event, and so carry an iCalendar file by e-mail.
CALENDAR_KINDS = frozenset(
    {
        NoticeKind.BOOKING_CONFIRMED,
        NoticeKind.BOOKING_MOVED,
        NoticeKind.BOOKING_CANCELLED,
        NoticeKind.SESSION_CANCELLED,
    }
)
CANCELLING_KINDS = frozenset({NoticeKind.BOOKING_CANCELLED, NoticeKind.SESSION_CANCELLED})


@dataclass(frozen=True)
class NoticeFacts:
    """Everything a notice text may mention, with times aware in the clinic's zone.

    `previous_starts_at` is set for a move, `expected_at` for a running-late notice
    and `staff_text` for a staff message.
    """

    kind: NoticeKind
    reference: str
    clinic_name: str
    practitioner_name: str
    appointment_type: str
    starts_at: dt.datetime
    previous_starts_at: dt.datetime | None = None
    expected_at: dt.datetime | None = None
    staff_text: str | None = None


@dataclass(frozen=True)
class RenderedText:
    """A notice's text for one channel; `subject` is empty except for e-mail."""

    text: str
    subject: str = ""


def format_time(moment: dt.datetime) -> str:
    """Format a local time the Australian way: `9am`, `2:30pm`, `12pm`."""
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    if moment.minute == 0:
        return f"{hour}{suffix}"
    return f"{hour}:{moment.minute:02d}{suffix}"


def format_date(moment: dt.datetime) -> str:
    """Format a local date as `Tue 8 Dec`, independent of the process locale."""
    return f"{_DAY_NAMES[moment.weekday()]} {moment.day} {_MONTH_NAMES[moment.month - 1]}"


def format_when(moment: dt.datetime) -> str:
    """Format a local date and time as `Tue 8 Dec at 2:30pm`."""
    return f"{format_date(moment)} at {format_time(moment)}"


def fill_staff_placeholders(text: str, facts: NoticeFacts) -> str:
    """Replace `{ref}`, `{time}` and `{practitioner}` in a staff message; leave other braces alone.

    A regular expression is used rather than `str.format`, which would read any other
    brace in the text as a field and could reach object attributes.
    """
    values = {
        "ref": facts.reference,
        "time": f"{format_date(facts.starts_at)} {format_time(facts.starts_at)}",
        "practitioner": facts.practitioner_name,
    }
    return _STAFF_PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def render(facts: NoticeFacts, channel: ChannelKind, vocabulary: Vocabulary) -> RenderedText:
    """Render the text of `facts` for `channel`."""
    if channel is ChannelKind.EMAIL:
        return RenderedText(text=_long_text(facts, vocabulary), subject=_subject(facts, vocabulary))
    text = _short_text(facts, vocabulary)
    if channel is ChannelKind.SMS:
        text = gsm7.fit_segments(gsm7.to_gsm7(text), SMS_MAX_SEGMENTS)
    return RenderedText(text=text)


def _short_text(facts: NoticeFacts, vocabulary: Vocabulary) -> str:
    clinic = facts.clinic_name
    appointment = vocabulary.appointment
    ref = facts.reference
    practitioner = facts.practitioner_name
    when = format_when(facts.starts_at)
    # Not "reply here to cancel": a bare CANCEL back would opt out of every SMS and keep the booking.
    change = "To move or cancel, reply LIST."

    if facts.kind is NoticeKind.BOOKING_CONFIRMED:
        return f"{clinic}: your {appointment} with {practitioner} is booked for {when}. Ref {ref}. {change}"
    if facts.kind is NoticeKind.BOOKING_MOVED:
        if _practitioner_changed_only(facts):
            return f"{clinic}: your {appointment} {ref} on {when} is now with {practitioner}. {change}"
        was = f" (was {format_when(facts.previous_starts_at)})" if facts.previous_starts_at else ""
        return f"{clinic}: your {appointment} {ref} with {practitioner} is now {when}{was}. {change}"
    if facts.kind is NoticeKind.BOOKING_CANCELLED:
        return f"{clinic}: your {appointment} {ref} with {practitioner} on {when} is cancelled."
    if facts.kind is NoticeKind.REMINDER:
        return f"{clinic}: reminder of your {appointment} with {practitioner} on {when}. Ref {ref}. {change}"
    if facts.kind is NoticeKind.RUNNING_LATE:
        expected = format_time(facts.expected_at or facts.starts_at)
        return (
            f"{clinic}: {practitioner} is running late. Your {appointment} {ref} booked for "
            f"{format_time(facts.starts_at)} is now expected at about {expected}. {change}"
        )
    if facts.kind is NoticeKind.SESSION_CANCELLED:
        return (
            f"{clinic}: {practitioner}'s session on {format_date(facts.starts_at)} is "
            f"cancelled, so your {appointment} {ref} at {format_time(facts.starts_at)} "
            "is cancelled. "
            "Reply here to book another time."
        )
    staff_text = fill_staff_placeholders(facts.staff_text or "", facts)
    return f"{clinic}: {staff_text} (ref {ref})"


def _practitioner_changed_only(facts: NoticeFacts) -> bool:
    """Return whether a move kept the start time, so only the practitioner can have changed.

    `booking.service.move` sends no notice when neither changed.
    NOTE: the notice's params hold no previous practitioner, so a move that
    changes both the time and the practitioner names the new one without
    saying that it changed.
    """
    return facts.previous_starts_at is not None and facts.previous_starts_at == facts.starts_at


def _subject(facts: NoticeFacts, vocabulary: Vocabulary) -> str:
    appointment = vocabulary.appointment.capitalize()
    date = format_date(facts.starts_at)
    moved = (
        f"{appointment} on {date} now with {facts.practitioner_name}"
        if _practitioner_changed_only(facts)
        else f"{appointment} moved to {date}"
    )
    headline = {
        NoticeKind.BOOKING_CONFIRMED: f"{appointment} booked for {date}",
        NoticeKind.BOOKING_MOVED: moved,
        NoticeKind.BOOKING_CANCELLED: f"{appointment} on {date} cancelled",
        NoticeKind.REMINDER: f"Reminder: {vocabulary.appointment} on {date}",
        NoticeKind.RUNNING_LATE: f"Running late: {vocabulary.appointment} on {date}",
        NoticeKind.STAFF_MESSAGE: f"Message about your {vocabulary.appointment} on {date}",
        NoticeKind.SESSION_CANCELLED: f"{appointment} on {date} cancelled",
    }[facts.kind]
    return f"{facts.clinic_name}: {headline} ({facts.reference})"


def _long_text(facts: NoticeFacts, vocabulary: Vocabulary) -> str:
    starts_at = facts.starts_at
    zone = starts_at.tzname() or ""
    lines = [
        _short_text(facts, vocabulary),
        "",
        f"Reference: {facts.reference}",
        f"{vocabulary.appointment.capitalize()}: {facts.appointment_type}",
        f"{vocabulary.practitioner.capitalize()}: {facts.practitioner_name}",
        f"When: {format_when(starts_at)} {zone}".rstrip(),
        f"Where: {facts.clinic_name}",
    ]
    if facts.kind in CALENDAR_KINDS:
        lines += ["", "The attached calendar file updates this event in your calendar."]
    lines += [
        "",
        "To move or cancel, message the clinic's booking chat or SMS number and quote "
        "your reference. Replies to this e-mail are not read.",
    ]
    return "\n".join(lines)
