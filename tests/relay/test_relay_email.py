"""E-mail delivery against a loopback aiosmtpd server: message, calendar attachment, failures."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import icalendar
import pytest

from relay.channels.base import DeliveryError, OutgoingMessage
from relay.channels.email import EmailSender, EmailSettings, SmtpSecurity
from relay.invites import BookingEvent, InviteMethod, booking_uid, build_invite
from sealbook.clock import FixedClock
from sealbook.standins.smtp import CertificateFiles, SmtpServer, free_loopback_port

SYDNEY = ZoneInfo("Australia/Sydney")
CLINIC_ADDRESS = "bookings@clinic.example"
PATIENT_ADDRESS = "patient.one@example.org"
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def make_event(starts_at: dt.datetime, sequence: int) -> BookingEvent:
    """Build the calendar facts of booking K7QM-4X2P at `starts_at` for 15 minutes."""
    return BookingEvent(
        reference="K7QM-4X2P",
        summary="Standard consult with Dr Lee",
        description="Reference K7QM-4X2P",
        location="Harbour Family Clinic",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=15),
        sequence=sequence,
        organizer_email=CLINIC_ADDRESS,
        organizer_name="Harbour Family Clinic",
        attendee_email=PATIENT_ADDRESS,
    )


def make_sender(port: int, security: SmtpSecurity, tls: CertificateFiles | None) -> EmailSender:
    """Build a sender for the loopback server, trusting the test CA when given."""
    settings = EmailSettings(
        host="127.0.0.1",
        port=port,
        from_address=CLINIC_ADDRESS,
        from_name="Harbour Family Clinic",
        security=security,
        timeout_seconds=5,
        ca_file=str(tls.ca_file) if tls else None,
    )
    return EmailSender(settings, FixedClock(NOW))


def parse(service: SmtpServer, index: int = 0) -> EmailMessage:
    """Parse the `index`-th message the server received."""
    content = service.handler.received[index].original_content
    assert content is not None
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def calendar_of(message: EmailMessage) -> tuple[icalendar.Calendar, str]:
    """Return the parsed calendar attachment of `message` and its `method` parameter."""
    parts = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return icalendar.Calendar.from_ical(payload), str(parts[0].get_param("method"))


def confirmation(event: BookingEvent, method: InviteMethod = InviteMethod.REQUEST) -> OutgoingMessage:
    """Wrap `event` in an outgoing confirmation with its calendar file."""
    return OutgoingMessage(
        notice_id=41,
        reference=event.reference,
        text="Your appointment K7QM-4X2P is booked.",
        subject="Appointment booked (K7QM-4X2P)",
        calendar=build_invite(event, method, uid_domain="clinic.example", stamped_at=NOW),
    )


@pytest.mark.asyncio
async def test_starttls_delivers_message_and_calendar(
    starttls_smtp: SmtpServer, certificates: CertificateFiles
) -> None:
    """A STARTTLS send arrives with its body, subject and a calendar file in the clinic's zone."""
    sender = make_sender(starttls_smtp.port, SmtpSecurity.STARTTLS, certificates)
    starts_at = dt.datetime(2026, 12, 8, 14, 30, tzinfo=SYDNEY)

    await sender.send(PATIENT_ADDRESS, confirmation(make_event(starts_at, 0)))

    assert len(starttls_smtp.handler.received) == 1
    envelope = starttls_smtp.handler.received[0]
    assert envelope.rcpt_tos == [PATIENT_ADDRESS]
    message = parse(starttls_smtp)
    assert message["Subject"] == "Appointment booked (K7QM-4X2P)"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "K7QM-4X2P is booked" in body.get_content()

    calendar, method = calendar_of(message)
    assert method == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST"
    event = calendar.events[0]
    assert str(event["UID"]) == booking_uid("K7QM-4X2P", "clinic.example")
    assert event["DTSTART"].params["TZID"] == "Australia/Sydney"
    assert event.decoded("DTSTART") == starts_at
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(hours=11)
    assert event.sequence == 0
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Australia/Sydney"]


@pytest.mark.asyncio
async def test_implicit_tls_delivers(implicit_tls_smtp: SmtpServer, certificates: CertificateFiles) -> None:
    """An implicit-TLS send arrives at a server that speaks TLS from the first byte."""
    sender = make_sender(implicit_tls_smtp.port, SmtpSecurity.TLS, certificates)
    starts_at = dt.datetime(2026, 12, 8, 9, 0, tzinfo=SYDNEY)

    await sender.send(PATIENT_ADDRESS, confirmation(make_event(starts_at, 0)))

    assert len(implicit_tls_smtp.handler.received) == 1


@pytest.mark.asyncio
async def test_move_then_cancel_keeps_uid_and_raises_sequence(
    starttls_smtp: SmtpServer, certificates: CertificateFiles
) -> None:
    """A booking's confirmation, move and cancellation share a UID with growing SEQUENCE."""
    sender = make_sender(starttls_smtp.port, SmtpSecurity.STARTTLS, certificates)
    first = dt.datetime(2026, 12, 8, 9, 0, tzinfo=SYDNEY)
    # Sydney leaves daylight saving on 5 April 2026, so the moved time is UTC+10.
    moved = dt.datetime(2026, 4, 7, 10, 15, tzinfo=SYDNEY)

    await sender.send(PATIENT_ADDRESS, confirmation(make_event(first, 0)))
    await sender.send(PATIENT_ADDRESS, confirmation(make_event(moved, 1)))
    await sender.send(PATIENT_ADDRESS, confirmation(make_event(moved, 2), InviteMethod.CANCEL))

    events = []
    methods = []
    for index in range(3):
        calendar, method = calendar_of(parse(starttls_smtp, index))
        events.append(calendar.events[0])
        methods.append((method, str(calendar["METHOD"])))
    assert len({str(event["UID"]) for event in events}) == 1
    assert [event.sequence for event in events] == [0, 1, 2]
    assert methods == [("REQUEST", "REQUEST"), ("REQUEST", "REQUEST"), ("CANCEL", "CANCEL")]
    assert str(events[2]["STATUS"]) == "CANCELLED"
    assert events[1].decoded("DTSTART") == moved
    assert events[1].decoded("DTSTART").utcoffset() == dt.timedelta(hours=10)


@pytest.mark.asyncio
async def test_missing_mailbox_is_permanent(
    starttls_smtp: SmtpServer, certificates: CertificateFiles
) -> None:
    """A 550 for the recipient is a permanent failure whose message names no address."""
    starttls_smtp.handler.refusals[PATIENT_ADDRESS] = "550 5.1.1 Mailbox does not exist"
    sender = make_sender(starttls_smtp.port, SmtpSecurity.STARTTLS, certificates)
    starts_at = dt.datetime(2026, 12, 8, 9, 0, tzinfo=SYDNEY)

    with pytest.raises(DeliveryError) as failure:
        await sender.send(PATIENT_ADDRESS, confirmation(make_event(starts_at, 0)))

    assert failure.value.permanent is True
    assert failure.value.error_class == "email.mailbox_unavailable"
    assert PATIENT_ADDRESS not in str(failure.value)
    assert "Mailbox" not in str(failure.value)
    assert starttls_smtp.handler.received == []


@pytest.mark.asyncio
async def test_greylisted_recipient_is_temporary(
    starttls_smtp: SmtpServer, certificates: CertificateFiles
) -> None:
    """A 451 for the recipient is a temporary failure."""
    starttls_smtp.handler.refusals[PATIENT_ADDRESS] = "451 4.7.1 Greylisted, try again later"
    sender = make_sender(starttls_smtp.port, SmtpSecurity.STARTTLS, certificates)
    starts_at = dt.datetime(2026, 12, 8, 9, 0, tzinfo=SYDNEY)

    with pytest.raises(DeliveryError) as failure:
        await sender.send(PATIENT_ADDRESS, confirmation(make_event(starts_at, 0)))

    assert failure.value.permanent is False
    assert failure.value.error_class == "email.deferred"


@pytest.mark.asyncio
async def test_untrusted_certificate_is_refused(starttls_smtp: SmtpServer) -> None:
    """A server certificate outside the trusted CAs fails the send, temporarily, before any mail."""
    sender = make_sender(starttls_smtp.port, SmtpSecurity.STARTTLS, None)
    starts_at = dt.datetime(2026, 12, 8, 9, 0, tzinfo=SYDNEY)

    with pytest.raises(DeliveryError) as failure:
        await sender.send(PATIENT_ADDRESS, confirmation(make_event(starts_at, 0)))

    assert failure.value.permanent is False
    assert failure.value.error_class == "email.tls_failed"
    assert starttls_smtp.handler.received == []


@pytest.mark.asyncio
async def test_unreachable_server_is_temporary() -> None:
    """A refused connection is a temporary failure."""
    sender = make_sender(free_loopback_port(), SmtpSecurity.NONE, None)
    message = OutgoingMessage(notice_id=1, reference="K7QM-4X2P", text="hello", subject="s")

    with pytest.raises(DeliveryError) as failure:
        await sender.send(PATIENT_ADDRESS, message)

    assert failure.value.permanent is False
    assert failure.value.error_class == "email.network"


def test_invite_rejects_naive_times() -> None:
    """A calendar event without a time zone is refused rather than written as floating time."""
    event = make_event(dt.datetime(2026, 12, 8, 9, 0), 0)

    with pytest.raises(ValueError, match="aware"):
        build_invite(event, InviteMethod.REQUEST, uid_domain="clinic.example", stamped_at=NOW)
