"""The channel-neutral path of one verified inbound message: once only, contact, keywords, limit, dialogue."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.handler import Channel, ContactRef, IdentifierRejected, InboundEvent, MessageHandler, Reply
from bot.keywords import SmsKeyword
from bot.once import prune_deliveries, record_first_delivery
from bot.ratelimit import RateVerdict, count_message
from sealbook.clock import Clock
from storage.db import session_scope
from storage.models.contacts import Contact
from storage.outbox import record_chat_reply_delivered

logger = logging.getLogger(__name__)

# How long inbound message records are kept, and how often a worker prunes them.
RECORD_RETENTION = timedelta(days=2)
PRUNE_INTERVAL = timedelta(hours=1)

PAUSE_TEXT = (
    "You are sending messages faster than we can answer, so we will pause for a minute. "
    "Please wait a moment, then send your message again."
)
SEND_TEXT = "Sorry, I can only read text messages. Please send your request as text."
FAILURE_TEXT = "Sorry, something went wrong on our side. Please try again in a minute."


@dataclass(frozen=True)
class ClinicInfo:
    """The clinic details that the SMS HELP reply contains."""

    name: str
    phone: str


@dataclass(frozen=True)
class Inbound:
    """One verified inbound message, reduced to what the dispatcher needs.

    ``sender`` is the patient's raw identifier; it is left out of ``repr`` so
    that no log line or traceback can carry it. ``event`` is None for content
    the bot cannot read (a sticker, a photo).
    """

    channel: Channel
    message_id: str
    sender: str = field(repr=False)
    event: InboundEvent | None = field(repr=False)
    sms_keyword: SmsKeyword = SmsKeyword.NONE


@dataclass(frozen=True)
class DispatchResult:
    """Outcome of one inbound message: the replies to send, and whether it was a redelivery.

    ``turn_at`` is the time of the dialogue turn, which the notices it queued
    carry as their creation time. It is None when no turn ran, and when the
    turn raised, so that the apology never counts as the reply to a change.
    """

    replies: list[Reply]
    duplicate: bool = False
    contact_id: int | None = None
    turn_at: datetime | None = None


def help_text(clinic: ClinicInfo) -> str:
    """Return the SMS HELP reply: the clinic's name, phone number and the words a patient can text.

    It points to LIST for moving or cancelling, because a whole-message CANCEL
    is an opt-out, and names STOP and START only to stop and restart texts.
    """
    return (
        f"{clinic.name}: text BOOK to book, LIST to move or cancel a booking, "
        f"STATUS to hear if we are running late, MENU for choices. "
        f"Text STOP to stop all our texts (your bookings stay), START to get them again. "
        f"Call us on {clinic.phone}."
    )


class Dispatcher:
    """Runs inbound messages through the steps every channel shares, for one clinic."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        handler: MessageHandler,
        *,
        clinic: ClinicInfo,
        messages_per_minute: int,
    ) -> None:
        if messages_per_minute < 1:
            raise ValueError(f"messages_per_minute must be at least 1, not {messages_per_minute}")
        self._session_factory = session_factory
        self._clock = clock
        self._handler = handler
        self._clinic = clinic
        self._messages_per_minute = messages_per_minute
        self._pruned_at: datetime | None = None

    def process(self, inbound: Inbound) -> DispatchResult:
        """Handle one message; database errors propagate so the webhook can ask for a redelivery.

        The record of the message, the contact row, keyword effects and the
        rate count commit together before the dialogue runs. A failure in the
        dialogue therefore loses that message rather than applying it twice
        on a redelivery: the patient gets an apology and can send it again.
        """
        now = self._clock.now()
        with session_scope(self._session_factory) as session:
            if not record_first_delivery(session, inbound.channel, inbound.message_id, now):
                return DispatchResult(replies=[], duplicate=True)
            try:
                contact = self._handler.resolve_contact(session, inbound.channel, inbound.sender, now)
            except IdentifierRejected:
                logger.info("%s message from an unusable sender identifier ignored", inbound.channel)
                return DispatchResult(replies=[])
            early = self._apply_preliminaries(session, inbound, contact, now)
        self._prune_now_and_then(now)
        if early is not None:
            return early

        if inbound.event is None:
            return DispatchResult(replies=[Reply(SEND_TEXT)], contact_id=contact.id)
        try:
            replies = self._handler.handle(contact.id, inbound.channel, inbound.event, now)
        except Exception as error:  # the dialogue's own failure must not become a 500
            # The exception's message may quote what the patient typed, so
            # only its class is logged; the traceback is kept for DEBUG.
            logger.error(
                "dialogue failed for contact %d on %s (%s); the patient was asked to try again",
                contact.id,
                inbound.channel,
                type(error).__name__,
            )
            logger.debug("dialogue failure for contact %d", contact.id, exc_info=True)
            return DispatchResult(replies=[Reply(FAILURE_TEXT)], contact_id=contact.id)
        return DispatchResult(replies=replies, contact_id=contact.id, turn_at=now)

    def record_replies_delivered(self, result: DispatchResult) -> None:
        """Record that every reply of a dialogue turn reached the patient's chat.

        The relay then skips the confirmation of a change the turn made, because
        the reply already gave the patient its reference. Without this record
        the relay sends the confirmation after a short wait. A database error
        is logged and not raised, so the patient may get the confirmation twice
        but never misses it.
        """
        if result.turn_at is None or result.contact_id is None:
            return
        try:
            with session_scope(self._session_factory) as session:
                marked = record_chat_reply_delivered(
                    session,
                    contact_id=result.contact_id,
                    turn_at=result.turn_at,
                    delivered_at=self._clock.now(),
                )
        except SQLAlchemyError as error:
            logger.error(
                "recording the delivered reply for contact %d failed (%s); "
                "the relay sends the turn's notices on the chat channel as well",
                result.contact_id,
                type(error).__name__,
            )
            return
        if marked:
            logger.debug("delivered reply recorded on %d notices of contact %d", marked, result.contact_id)

    def _apply_preliminaries(
        self, session: Session, inbound: Inbound, contact: ContactRef, now: datetime
    ) -> DispatchResult | None:
        """Apply keywords, the opt-out state and the rate limit; return a result to skip the dialogue."""
        keyword = inbound.sms_keyword if inbound.channel == "sms" else SmsKeyword.NONE
        done = DispatchResult(replies=[], contact_id=contact.id)

        # Opt-out and opt-in words are honoured before any limit. Twilio sends
        # its own confirmation, and any reply to a STOP would be refused anyway.
        if keyword is SmsKeyword.OPT_OUT:
            if not contact.opted_out:
                _set_opted_out(session, contact.id, now)
                logger.info("contact %d opted out of SMS", contact.id)
            return done
        if keyword is SmsKeyword.OPT_IN and contact.opted_out:
            _set_opted_out(session, contact.id, None)
            logger.info("contact %d opted back in to SMS", contact.id)
            return done
        if inbound.channel == "sms" and contact.opted_out:
            logger.info("SMS from opted-out contact %d ignored without a reply", contact.id)
            return done

        verdict = count_message(session, contact.id, now, self._messages_per_minute)
        if verdict is RateVerdict.PAUSE:
            return DispatchResult(replies=[Reply(PAUSE_TEXT)], contact_id=contact.id)
        if verdict is RateVerdict.SILENT:
            return done
        if keyword is SmsKeyword.HELP:
            return DispatchResult(replies=[Reply(help_text(self._clinic))], contact_id=contact.id)
        return None

    def _prune_now_and_then(self, now: datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_INTERVAL:
            return
        self._pruned_at = now
        with session_scope(self._session_factory) as session:
            prune_deliveries(session, now - RECORD_RETENTION)


def _set_opted_out(session: Session, contact_id: int, when: datetime | None) -> None:
    session.execute(update(Contact).where(Contact.id == contact_id).values(opted_out_at=when))
