"""E-mail for calendar invites: collect an address, check its shape, hand it to the contact layer.

    EMAIL_ASK --address--> (attached, idle)

The address is never stored in the dialogue state: it travels in the
`AttachEmail` command for the length of one message, and the contact layer
pseudonymises and seals it like any other contact.
"""

from __future__ import annotations

from flows.commands import AttachEmail, EmailAttached, EmailRejected, EmailUnavailable, Outcome
from flows.dialogue import (
    DialogueContext,
    OfferSpec,
    Step,
    StepResult,
    ask,
    finish,
    issue,
    not_understood,
    unexpected,
)
from flows.matching import MAX_MESSAGE_LENGTH, looks_like_email, normalise
from flows.state import DialogueState

FLOW = "email"


def start(state: DialogueState, ctx: DialogueContext, *, lead: str | None = None) -> StepResult:
    """Ask for the address."""
    offers = [OfferSpec("back", ctx.text("labels.back"), key="B")]
    return ask(state, ctx, step="EMAIL_ASK", flow=FLOW, key="email.ask", offers=offers, lead=lead)


_DECLINE = frozenset({"skip", "no", "no thanks", "no thank you", "not now", "nah", "nope", "n", "none"})
"""Replies that leave the e-mail step without giving an address."""


def _address_text(state: DialogueState, text: str, ctx: DialogueContext) -> StepResult | None:
    candidate = text[:MAX_MESSAGE_LENGTH].strip()
    if normalise(candidate) in _DECLINE:
        from flows import menu  # menu imports this module to offer the e-mail step

        return menu.show(state, ctx)
    if not looks_like_email(candidate):
        return not_understood(state, ctx, lead=ctx.text("email.invalid"))
    return issue(state, "EMAIL_ASK", FLOW, AttachEmail(candidate))


def _address_outcome(state: DialogueState, outcome: Outcome, ctx: DialogueContext) -> StepResult:
    if isinstance(outcome, EmailAttached):
        return finish(state, ctx, ctx.text("email.saved"))
    if isinstance(outcome, EmailRejected):
        return start(state, ctx, lead=ctx.text("email.invalid"))
    if isinstance(outcome, EmailUnavailable):
        return finish(state, ctx, ctx.text("email.unavailable"))
    return unexpected(state, ctx)


STEPS = (Step("EMAIL_ASK", FLOW, start, None, _address_text, _address_outcome, back=lambda s, c: "MENU"),)
