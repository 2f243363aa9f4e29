"""Planning one claimed notice: whether it still applies, its channels, the opened addresses and texts.

This is the one place where sealed contacts are opened. The plaintext address lives
only in the returned `Delivery`, in memory, until the send; it is never logged,
stored or put in an error message.

Channels: a notice goes to the contact's own channel (Telegram or SMS). Kinds that
change the calendar event also go by e-mail, with an iCalendar file, to the contact's
linked e-mail contact. SMS never goes to a contact that opted out, and a channel that
an earlier attempt already delivered is not sent again.

When the patient made the change in a chat, the dialogue's reply contains the
notice's facts. Those kinds skip the chat channel only when the front recorded that
the reply was delivered (`relay.params.chat_reply_delivered`). Without that record the
relay waits `CHAT_REPLY_WAIT` after the turn for it, then sends on the chat channel as
well. So a reply that failed to send, or a front that died before sending it, costs the
patient a late confirmation rather than none.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.clinic import Clinic
from booking.late_notices import running_late_superseded
from crypto import CannotOpen, RelayKeyring, open_contact
from relay.channels.base import ChannelKind, OutgoingMessage
from relay.claims import ChannelResult, Outcome, sent_channels
from relay.freshness import quiet_hours_end, skip_reason
from relay.invites import BookingEvent, InviteMethod, build_invite
from relay.params import (
    CURRENT_BOOKING_KINDS,
    BadParams,
    changed_by_patient,
    chat_reply_delivered,
    read_facts,
    read_vocabulary,
    with_current_booking,
)
from relay.templates import CALENDAR_KINDS, CANCELLING_KINDS, NoticeFacts, NoticeKind, render
from storage.models.bookings import BookingRow
from storage.models.clinic import PractitionerRow
from storage.models.contacts import Contact
from storage.models.outbox import Notice

logger = logging.getLogger(__name__)

# How long after a patient's change in a chat the relay waits for the front's record
# that the chat reply was delivered. It is well above the time the front takes to send.
# python-telegram-bot 22.8 gives up on a Bot API call after about 16 s, the sum of its
# default connect, write, read and pool timeouts (5, 5, 5 and 1 s). Twilio gives up on
# a webhook after about 15 s. A reply that is still being sent when the wait ends
# reaches the patient in addition to the relay's notice.
CHAT_REPLY_WAIT = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Delivery:
    """One send: the channel, the contact row (the rate-limit key), the address and the message."""

    route: ChannelKind
    contact_id: int
    address: str = field(repr=False)
    message: OutgoingMessage = field(repr=False)


@dataclass(frozen=True)
class Plan:
    """The sends a notice needs, or the outcome to record without sending (`verdict`).

    `unusable` lists channels the notice wanted but cannot use. `sent_before` is True
    when an earlier attempt already delivered it on some channel.
    """

    deliveries: tuple[Delivery, ...] = ()
    unusable: tuple[ChannelResult, ...] = ()
    sent_before: bool = False
    verdict: Outcome | None = None


@dataclass(frozen=True)
class PlanContext:
    """Inputs of planning besides the database: keys, clinic, usable channels and the e-mail identity."""

    keyring: RelayKeyring
    clinic: Clinic
    available: Collection[ChannelKind]
    organizer_email: str
    uid_domain: str


def plan_notice(
    session: Session, notice_id: int, context: PlanContext, now: dt.datetime, *, attempt: int = 2
) -> Plan:
    """Decide how to deliver one claimed notice, reading its rows in the caller's transaction.

    `attempt` is the claim's attempt number; on the first attempt no channel can have
    been delivered yet, so the delivery records are not read.
    """
    notice = session.get(Notice, notice_id)
    if notice is None:
        return Plan(verdict=Outcome(status="skipped", error_class="relay.notice_missing"))
    try:
        kind = NoticeKind(notice.kind)
    except ValueError:
        logger.error("notice %s has the unknown kind %r; marked failed", notice.id, notice.kind)
        return Plan(verdict=Outcome(status="failed", error_class="relay.unknown_kind"))

    booking = session.get(BookingRow, notice.booking_id) if notice.booking_id is not None else None
    clinic = context.clinic
    try:
        facts = read_facts(
            notice.id,
            kind,
            notice.reference,
            notice.params,
            booking=booking,
            clinic_name=clinic.name,
            zone=clinic.zone,
        )
    except BadParams as error:
        logger.error("%s", error)
        return Plan(verdict=Outcome(status="failed", error_class="relay.bad_params"))

    verdict = _check_still_applies(session, kind, notice, booking, facts, clinic, now)
    if verdict is not None:
        return Plan(verdict=verdict)
    if kind in CURRENT_BOOKING_KINDS and booking is not None:
        practitioner = session.get(PractitionerRow, booking.practitioner_id)
        facts = with_current_booking(
            facts,
            booking,
            practitioner_name=practitioner.display_name if practitioner is not None else None,
            zone=clinic.zone,
        )

    contact = session.get(Contact, notice.contact_id)
    if contact is None:
        return Plan(verdict=Outcome(status="undeliverable", error_class="relay.contact_missing"))
    reply_wait_end = _chat_reply_wait_end(kind, notice, contact)
    if reply_wait_end is not None and now < reply_wait_end:
        logger.info(
            "notice %s (%s) waits until %s for the record of the chat reply",
            notice.id,
            notice.reference,
            reply_wait_end.isoformat(),
        )
        return Plan(verdict=Outcome(status="pending", due_at=reply_wait_end, count_attempt=False))
    already_sent = sent_channels(session, notice.id) if attempt > 1 else set()
    routes, opted_out = _routes(session, kind, notice, contact, already_sent)
    if not routes:
        return Plan(verdict=_nothing_to_send(kind, notice, already_sent, opted_out))

    vocabulary = read_vocabulary(notice.params, clinic.vocabulary)
    deliveries: list[Delivery] = []
    unusable: list[ChannelResult] = []
    for route, route_contact in routes:
        if route not in context.available:
            unusable.append(ChannelResult(route.value, "undeliverable", "relay.channel_not_configured"))
            continue
        address = _open(context.keyring, route_contact)
        if address is None:
            unusable.append(ChannelResult(route.value, "undeliverable", "relay.cannot_open"))
            continue
        rendered = render(facts, route, vocabulary)
        message = OutgoingMessage(
            notice_id=notice.id,
            reference=facts.reference,
            text=rendered.text,
            subject=rendered.subject,
        )
        if route is ChannelKind.EMAIL and kind in CALENDAR_KINDS and booking is not None:
            message = _with_calendar(session, message, kind, notice, booking, facts, context, address, now)
        deliveries.append(Delivery(route, route_contact.id, address, message))
    return Plan(tuple(deliveries), tuple(unusable), sent_before=bool(already_sent))


def _check_still_applies(
    session: Session,
    kind: NoticeKind,
    notice: Notice,
    booking: BookingRow | None,
    facts: NoticeFacts,
    clinic: Clinic,
    now: dt.datetime,
) -> Outcome | None:
    reason = skip_reason(
        kind,
        booking,
        has_booking_id=notice.booking_id is not None,
        params=notice.params,
        queued_starts_at=facts.starts_at,
        queued_at=notice.created_at,
        superseded=kind is NoticeKind.RUNNING_LATE and running_late_superseded(session, notice),
        now=now,
    )
    if reason is not None:
        logger.info("notice %s (%s) skipped: %s", notice.id, notice.reference, reason)
        return Outcome(status="skipped", error_class=reason)
    if kind is NoticeKind.REMINDER:
        quiet_end = quiet_hours_end(clinic.reminders, clinic.zone, now)
        if quiet_end is not None:
            if quiet_end >= facts.starts_at:
                return Outcome(status="skipped", error_class="relay.quiet_hours")
            logger.info("reminder %s (%s) deferred to the end of quiet hours", notice.id, notice.reference)
            return Outcome(status="pending", due_at=quiet_end, count_attempt=False)
    return None


def _routes(
    session: Session, kind: NoticeKind, notice: Notice, contact: Contact, already_sent: set[str]
) -> tuple[list[tuple[ChannelKind, Contact]], bool]:
    """Return the (channel, contact row) pairs still to send on, and whether SMS was ruled out by opt-out."""
    routes: list[tuple[ChannelKind, Contact]] = []
    opted_out = False
    calendar_kind = kind in CALENDAR_KINDS
    if not _answered_in_chat(kind, notice) or contact.channel == "email":
        if contact.channel == "sms" and contact.opted_out_at is not None:
            opted_out = True
        else:
            routes.append((ChannelKind(contact.channel), contact))
    if calendar_kind and contact.channel != "email" and contact.email_contact_id is not None:
        email_contact = session.get(Contact, contact.email_contact_id)
        if email_contact is not None:
            routes.append((ChannelKind.EMAIL, email_contact))
    remaining = [(route, row) for route, row in routes if route.value not in already_sent]
    return remaining, opted_out


def _nothing_to_send(kind: NoticeKind, notice: Notice, already_sent: set[str], opted_out: bool) -> Outcome:
    if already_sent:
        return Outcome(status="sent")
    if opted_out:
        return Outcome(status="undeliverable", error_class="sms.opted_out")
    if _answered_in_chat(kind, notice):
        # The chat reply confirmed it and there is no e-mail contact for a calendar file.
        return Outcome(status="skipped", error_class="relay.replied_in_chat")
    return Outcome(status="undeliverable", error_class="relay.no_channel")


def _answered_in_chat(kind: NoticeKind, notice: Notice) -> bool:
    """Tell whether the notice repeats a delivered chat reply to a change the patient made."""
    return (
        kind in CALENDAR_KINDS and changed_by_patient(notice.params) and chat_reply_delivered(notice.params)
    )


def _chat_reply_wait_end(kind: NoticeKind, notice: Notice, contact: Contact) -> dt.datetime | None:
    """Return until when the notice waits for the record of its chat reply, or None if it needs none."""
    if kind not in CALENDAR_KINDS or contact.channel == "email" or not changed_by_patient(notice.params):
        return None
    if chat_reply_delivered(notice.params):
        return None
    return notice.created_at + CHAT_REPLY_WAIT


def _open(keyring: RelayKeyring, contact: Contact) -> str | None:
    if contact.sealed_contact is None:
        logger.error("contact %s has no sealed contact; its notices cannot be delivered", contact.id)
        return None
    try:
        identifier = open_contact(
            keyring, contact.sealed_contact, channel=contact.channel, contact_id=contact.id
        )
    except CannotOpen:
        logger.error(
            "sealed contact %s (key %s) cannot be opened with the relay keyring; "
            "check that the relay holds that key",
            contact.id,
            contact.seal_key_id,
        )
        return None
    return identifier.value


def _with_calendar(
    session: Session,
    message: OutgoingMessage,
    kind: NoticeKind,
    notice: Notice,
    booking: BookingRow,
    facts: NoticeFacts,
    context: PlanContext,
    attendee: str,
    now: dt.datetime,
) -> OutgoingMessage:
    """Attach the booking's calendar file; SEQUENCE counts the booking's earlier calendar notices."""
    earlier = session.scalar(
        select(func.count())
        .select_from(Notice)
        .where(
            Notice.booking_id == booking.id,
            Notice.kind.in_([calendar_kind.value for calendar_kind in CALENDAR_KINDS]),
            Notice.id < notice.id,
        )
    )
    starts_at = facts.starts_at
    event = BookingEvent(
        reference=facts.reference,
        summary=f"{facts.appointment_type or message.subject} with {facts.practitioner_name}".strip(),
        description=message.text,
        location=facts.clinic_name,
        starts_at=starts_at,
        ends_at=starts_at + (booking.ends_at - booking.starts_at),
        sequence=int(earlier or 0),
        organizer_email=context.organizer_email,
        organizer_name=facts.clinic_name,
        attendee_email=attendee,
    )
    method = InviteMethod.CANCEL if kind in CANCELLING_KINDS else InviteMethod.REQUEST
    calendar = build_invite(event, method, uid_domain=context.uid_domain, stamped_at=now)
    return dataclasses.replace(message, calendar=calendar)
