"""Cancel one of the patient's bookings: read back, an explicit yes, then cancel.

    BOOKING_ACTIONS --C--> CANCEL_CONFIRM --Y--> (cancelled, idle)
                                          --N--> (kept, idle)

Past the clinic's cancel cut-off the patient is told to call the clinic,
with its number, instead.
"""

from __future__ import annotations

from dataclasses import replace

from flows.commands import BookingGone, Cancel, Cancelled, Outcome, TooLate
from flows.dialogue import (
    DialogueContext,
    OfferSpec,
    Step,
    StepResult,
    ask,
    finish,
    issue,
    past_cutoff,
    unexpected,
)
from flows.matching import normalise
from flows.state import Completed, DialogueState, Draft, Offer

FLOW = "cancel"


def start(state: DialogueState, ctx: DialogueContext) -> StepResult:
    """Read the picked booking back and ask for a yes, unless its cut-off has passed."""
    target = state.draft.target
    assert target is not None
    if past_cutoff(ctx, target.starts_at, ctx.clinic.rules.cancel_cutoff_hours):
        return finish(state, ctx, ctx.text("cancel.too_late", reference=target.reference))
    params = {
        "reference": target.reference,
        "type": ctx.type_name(target.appointment_type_id),
        "when": ctx.when(target.starts_at),
    }
    offers = [
        OfferSpec("yes", ctx.text("labels.yes_cancel"), key="Y"),
        OfferSpec("no", ctx.text("labels.keep"), key="N"),
    ]
    return ask(
        state, ctx, step="CANCEL_CONFIRM", flow=FLOW, key="cancel.readback", params=params, offers=offers
    )


def _confirm_offer(state: DialogueState, offer: Offer, ctx: DialogueContext) -> StepResult | None:
    target = state.draft.target
    assert target is not None
    if offer.action == "no":
        return finish(state, ctx, ctx.text("cancel.kept", reference=target.reference))
    if offer.action != "yes":
        return None
    return issue(state, "CANCEL_CONFIRM", FLOW, Cancel(target.reference))


def _confirm_outcome(state: DialogueState, outcome: Outcome, ctx: DialogueContext) -> StepResult:
    if isinstance(outcome, Cancelled):
        serial = state.prompt.serial if state.prompt is not None else state.serial
        done = replace(state, draft=Draft(), completed=Completed("cancel", outcome.reference, serial))
        return finish(done, ctx, ctx.text("cancel.cancelled", reference=outcome.reference))
    if isinstance(outcome, TooLate):
        return finish(state, ctx, ctx.text("cancel.too_late", reference=outcome.reference))
    if isinstance(outcome, BookingGone):
        return finish(state, ctx, ctx.text("bookings.gone", reference=outcome.reference))
    return unexpected(state, ctx)


_YES_CANCEL = frozenset(
    {
        "cancel it",
        "yes cancel it",
        "yes cancel",
        "please cancel it",
        "cancel it please",
        "call it off",
        "yes call it off",
        "call off",
    }
)
"""Replies that mean yes at the cancel read-back. A bare "cancel" is not one: on SMS it is an opt-out."""


def _confirm_text(state: DialogueState, text: str, ctx: DialogueContext) -> StepResult | None:
    said = " ".join(normalise(text).replace(",", " ").split())
    if said in _YES_CANCEL:
        return _confirm_offer(state, Offer("", "yes"), ctx)
    return None


STEPS = (
    Step(
        "CANCEL_CONFIRM",
        FLOW,
        start,
        _confirm_offer,
        _confirm_text,
        _confirm_outcome,
        back=lambda s, c: "BOOKING_ACTIONS",
    ),
)
