"""Move one of the patient's bookings to another time; the reference stays.

    BOOKING_ACTIONS --M--> MOVE_WHEN -> MOVE_PICK -> MOVE_CONFIRM --Y--> (moved, idle)
                              ^           |later         | N / slot gone
                              +-----------+--------------+

The appointment type and practitioner stay as booked, except that when a
chosen time is lost and the practitioner has no other free time from then
on, other practitioners' times are offered by name. Past the clinic's move
cut-off the reply gives the clinic's number to call instead.
"""

from __future__ import annotations

from dataclasses import replace

from flows.commands import BookingGone, Move, Moved, Outcome, SlotGone, TooLate
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
from flows.slots import (
    SlotPick,
    apply_when,
    question_text,
    read_when_text,
    search_command,
    slot_gone,
)
from flows.state import Completed, DialogueState, Draft, Offer

FLOW = "move"


def start(state: DialogueState, ctx: DialogueContext) -> StepResult:
    """Ask when to move the picked booking to, unless its cut-off has passed."""
    target = state.draft.target
    assert target is not None
    if past_cutoff(ctx, target.starts_at, ctx.clinic.rules.move_cutoff_hours):
        return finish(state, ctx, ctx.text("move.too_late", reference=target.reference))
    draft = Draft(
        appointment_type_id=target.appointment_type_id,
        practitioner_id=target.practitioner_id,
        practitioner_chosen=True,
        target=target,
    )
    return _ask_when(replace(state, draft=draft), ctx)


def _ask_when(state: DialogueState, ctx: DialogueContext, *, lead: str | None = None) -> StepResult:
    target = state.draft.target
    assert target is not None
    offers = [OfferSpec("soonest", ctx.text("labels.soonest"))]
    return ask(
        state,
        ctx,
        step="MOVE_WHEN",
        flow=FLOW,
        key="move.ask_when",
        params={"reference": target.reference},
        offers=offers,
        lead=lead,
    )


def _read_when(state: DialogueState, text: str, ctx: DialogueContext) -> StepResult | None:
    reading = read_when_text(text, ctx)
    if reading.question is not None:
        key, params = question_text(ctx, reading.question)
        offers = [OfferSpec("soonest", ctx.text("labels.soonest"))]
        return ask(state, ctx, step="MOVE_WHEN", flow=FLOW, key=key, params=params, offers=offers)
    draft, named = apply_when(state.draft, reading, text)
    if not named:
        return None
    return issue(replace(state, draft=draft), "MOVE_PICK", FLOW, search_command(draft, ctx))


def _when_offer(state: DialogueState, offer: Offer, ctx: DialogueContext) -> StepResult | None:
    if offer.action != "soonest":
        return None
    return _read_when(state, "asap", ctx)


def _ask_confirm(state: DialogueState, ctx: DialogueContext) -> StepResult:
    draft = state.draft
    target = draft.target
    assert target is not None
    assert draft.slot_practitioner_id is not None
    assert draft.slot_starts_at is not None
    params = {
        "reference": target.reference,
        "old": ctx.when(target.starts_at),
        "new": ctx.when(draft.slot_starts_at),
        "practitioner": ctx.practitioner_name(draft.slot_practitioner_id),
    }
    key = "move.readback"
    if draft.slot_practitioner_id != target.practitioner_id:
        key = "move.readback_new_practitioner"
        params["old_practitioner"] = ctx.practitioner_name(target.practitioner_id)
    offers = [
        OfferSpec("yes", ctx.text("labels.yes_move"), key="Y"),
        OfferSpec("no", ctx.text("labels.no"), key="N"),
    ]
    return ask(state, ctx, step="MOVE_CONFIRM", flow=FLOW, key=key, params=params, offers=offers)


# MOVE_PICK, which reads any other text as a new "when".
_PICK = SlotPick("MOVE_PICK", FLOW, ask_when=_ask_when, ask_confirm=_ask_confirm, read_text=_read_when)


def _confirm_offer(state: DialogueState, offer: Offer, ctx: DialogueContext) -> StepResult | None:
    draft = state.draft
    if offer.action == "no":
        return _PICK.enter(state, ctx)
    if offer.action != "yes":
        return None
    assert draft.target is not None
    assert draft.slot_practitioner_id is not None
    assert draft.slot_starts_at is not None
    command = Move(
        draft.target.reference,
        draft.slot_practitioner_id,
        draft.slot_starts_at,
        requested_practitioner_id=draft.practitioner_id,
    )
    return issue(state, "MOVE_CONFIRM", FLOW, command)


def _confirm_outcome(state: DialogueState, outcome: Outcome, ctx: DialogueContext) -> StepResult:
    if isinstance(outcome, Moved):
        text = ctx.text(
            "move.moved",
            reference=outcome.reference,
            when=ctx.when(outcome.starts_at),
            practitioner=ctx.practitioner_name(outcome.practitioner_id),
        )
        serial = state.prompt.serial if state.prompt is not None else state.serial
        done = replace(state, draft=Draft(), completed=Completed("move", outcome.reference, serial))
        return finish(done, ctx, text)
    if isinstance(outcome, SlotGone):
        return slot_gone(state, ctx, outcome, step="MOVE_PICK", flow=FLOW, ask_when=_ask_when)
    if isinstance(outcome, TooLate):
        return finish(state, ctx, ctx.text("move.too_late", reference=outcome.reference))
    if isinstance(outcome, BookingGone):
        return finish(state, ctx, ctx.text("bookings.gone", reference=outcome.reference))
    return unexpected(state, ctx)


def _confirm_text(state: DialogueState, text: str, ctx: DialogueContext) -> StepResult | None:
    return _read_when(state, text, ctx)


STEPS = (
    Step(
        "MOVE_WHEN",
        FLOW,
        lambda s, c: _ask_when(s, c),
        _when_offer,
        _read_when,
        back=lambda s, c: "BOOKING_ACTIONS",
    ),
    Step(
        "MOVE_PICK",
        FLOW,
        _PICK.enter,
        _PICK.on_offer,
        _PICK.on_text,
        _PICK.on_outcome,
        back=lambda s, c: "MOVE_WHEN",
    ),
    Step(
        "MOVE_CONFIRM",
        FLOW,
        _ask_confirm,
        _confirm_offer,
        _confirm_text,
        _confirm_outcome,
        back=lambda s, c: "MOVE_PICK",
    ),
)
