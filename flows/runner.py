"""The runner: load a contact's state, apply one event, carry out its commands, save, all in one transaction.

Channel adapters call `handle_inbound`. Each message is one database
transaction: the state is read with its version, the step runs, booking
commands run through `booking/` in the same transaction, and the state is
saved only if its version is unchanged. When another message from the same
contact saved first, everything is rolled back (a booking included) and the
message is applied again to the state that won, so two messages handled at
once act one after the other.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from booking.clinic import Clinic
from flows import engine
from flows.dialogue import DialogueContext, Event, say
from flows.execute import carry_out
from flows.replies import Channel, ChoiceEvent, InboundEvent, Reply, TextEvent
from flows.state import DialogueState
from flows.store import VersionConflict, load_state, save_state
from flows.templates import Templates
from sealbook.errors import SealbookError

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
"""Tries of one message when other messages from the same contact keep saving first."""
MAX_COMMANDS = 4
"""Commands one message may run; a flow needs at most two (a search after a failed booking)."""


class ContactActions(Protocol):
    """Contact-layer operations the dialogue needs; `bot/` supplies them."""

    def attach_email(self, session: Session, contact_id: int, address: str, now: dt.datetime) -> bool:
        """Link an e-mail contact for `address` to `contact_id`; return False if the address is invalid."""
        ...


def templates_for(clinic: Clinic) -> Templates:
    """Return the clinic's checked dialogue templates; raises `TemplateError` for a broken profile."""
    return Templates(clinic.profile.templates, clinic=clinic.name, phone=clinic.phone)


def expiry_for(clinic: Clinic, channel: Channel) -> dt.timedelta:
    """Return how long an idle conversation on `channel` lives; the console counts as SMS."""
    return clinic.dialogue.expiry_for("sms" if channel == "console" else channel)


def handle_inbound(
    session_factory: sessionmaker[Session],
    clinic: Clinic,
    *,
    contact_id: int,
    channel: Channel,
    event: InboundEvent,
    now: dt.datetime,
    contact_actions: ContactActions | None = None,
    new_token: Callable[[], str] = lambda: secrets.token_hex(4),
) -> list[Reply]:
    """Apply one inbound event from a contact and return the replies to send, in order.

    `event` is a `TextEvent` (what the patient typed) or a `ChoiceEvent`
    (the id of a choice they tapped). Every reply fits `channel`: GSM-7
    within two segments for SMS once rendered with `render_plain`. Errors
    never escape: a failure is logged with the contact row id and answered
    with an apology that gives the clinic's phone number.
    """
    templates = templates_for(clinic)
    ctx = DialogueContext(clinic, templates, channel, now)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with session_factory() as session, session.begin():
                return _handle_once(session, ctx, contact_id, event, contact_actions, new_token)
        except VersionConflict:
            logger.info(
                "dialogue of contact %d changed meanwhile; retrying (attempt %d)", contact_id, attempt
            )
        except (SealbookError, SQLAlchemyError):
            logger.exception("dialogue failed for contact %d", contact_id)
            return [say(ctx, ctx.text("common.error"))]
        except Exception:  # A bug must still get the patient an answer, not silence.
            logger.exception("dialogue crashed for contact %d", contact_id)
            return [say(ctx, ctx.text("common.error"))]
    logger.error("dialogue of contact %d kept changing; gave up after %d attempts", contact_id, MAX_ATTEMPTS)
    return [say(ctx, ctx.text("common.error"))]


def _handle_once(
    session: Session,
    ctx: DialogueContext,
    contact_id: int,
    event: InboundEvent,
    contact_actions: ContactActions | None,
    new_token: Callable[[], str],
) -> list[Reply]:
    loaded = load_state(session, contact_id, ctx.now)
    state = loaded.state or engine.new_state(new_token())
    replies: list[Reply] = []
    if loaded.expired_mid_flow:
        replies.append(say(ctx, ctx.text("common.expired")))

    before = state.step
    current: Event = _bounded(event)
    result = engine.step(state, current, ctx)
    for _ in range(MAX_COMMANDS):
        replies.extend(result.replies)
        if result.command is None:
            break
        outcome = carry_out(session, ctx, contact_id, result.command, contact_actions)
        logger.info(
            "dialogue of contact %d ran %s: %s",
            contact_id,
            type(result.command).__name__,
            type(outcome).__name__,
        )
        result = engine.step(result.state, outcome, ctx)
    else:
        logger.error("dialogue of contact %d ran more than %d commands; stopping", contact_id, MAX_COMMANDS)
        result = replace(result, state=_idle(result.state))
        replies = [say(ctx, ctx.text("common.error"))]

    expires_at = ctx.now + expiry_for(ctx.clinic, ctx.channel)
    save_state(
        session,
        contact_id,
        version=loaded.version,
        state=result.state,
        channel=ctx.channel,
        now=ctx.now,
        expires_at=expires_at,
    )
    logger.debug("dialogue of contact %d moved from %s to %s", contact_id, before, result.state.step)
    return replies


def _bounded(event: InboundEvent) -> InboundEvent:
    """Cut an event to what the dialogue reads, so a huge message costs no more than a short one."""
    if isinstance(event, TextEvent):
        return TextEvent(event.text[:2000])
    return ChoiceEvent(event.choice_id[:64])


def _idle(state: DialogueState) -> DialogueState:
    return replace(state, flow="menu", step="IDLE", prompt=None, misunderstood=0)
