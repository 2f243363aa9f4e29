"""My bookings: list the patient's active bookings, pick one, then move, cancel or see its status.

BOOKINGS_LIST --pick or type a reference--> BOOKING_ACTIONS --M--> move
                                                            --C--> cancel
                                                            --S--> status

A booking whose patient has checked in, or whose consult has started, can
no longer be moved or cancelled, so picking it goes straight to its status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from flows import cancel, move, status
from flows.commands import BookingsListed, BookingView, ListBookings, Outcome
from flows.dialogue import (
    DialogueContext,
    OfferSpec,
    Step,
    StepResult,
    ask,
    issue,
    not_understood,
    unexpected,
)
from flows.matching import normalise
from flows.state import BookingTarget, DialogueState, Draft, Offer

FLOW = "bookings"
PICK_ACTIONS = ("booking", "checked_in_booking")
"""Offer actions of a listed booking: one that can still be changed, and one already checked in."""
_ACTION_WORDS = {
    "move": "move",
    "change": "move",
    "reschedule": "move",
    "change it": "move",
    "move it": "move",
    "cancel it": "cancel",
    "cancel": "cancel",
    "cancel booking": "cancel",
    "call it off": "cancel",
    "call off": "cancel",
    "status": "status",
}


def start(state: DialogueState, ctx: DialogueContext) -> StepResult:
    """List the patient's bookings; the outcome comes back to BOOKINGS_LIST."""
    return issue(replace(state, draft=Draft()), "BOOKINGS_LIST", FLOW, ListBookings())


def encode_target(view: BookingView) -> str:
    """Return the offer value that names a listed booking."""
    starts = view.starts_at.astimezone(dt.UTC).isoformat()
    return "|".join(
        [str(view.booking_id), view.reference, view.appointment_type_id, view.practitioner_id, starts]
    )


def decode_target(value: str) -> BookingTarget | None:
    """Rebuild a listed booking from its offer value, or None if the value is damaged."""
    parts = value.split("|")
    if len(parts) != 5 or not parts[0].isdigit():
        return None
    try:
        starts_at = dt.datetime.fromisoformat(parts[4])
    except ValueError:
        return None
    if starts_at.tzinfo is None:
        return None
    return BookingTarget(int(parts[0]), parts[1], parts[2], parts[3], starts_at)


def _list_outcome(state: DialogueState, outcome: Outcome, ctx: DialogueContext) -> StepResult:
    if not isinstance(outcome, BookingsListed):
        return unexpected(state, ctx)
    if not outcome.bookings:
        from flows import menu  # The menu offers booking, so it imports this module.

        return menu.show(state, ctx, lead=ctx.text("bookings.none"))
    offers = [
        OfferSpec(
            "checked_in_booking" if v.checked_in else "booking",
            ctx.text("labels.booking", reference=v.reference, when=ctx.when(v.starts_at)),
            encode_target(v),
        )
        for v in outcome.bookings
    ]
    offers.append(OfferSpec("back", ctx.text("labels.back"), key="B"))
    return ask(
        state,
        ctx,
        step="BOOKINGS_LIST",
        flow=FLOW,
        key="bookings.list",
        offers=offers,
        droppable=len(outcome.bookings),
    )


def _list_offer(state: DialogueState, offer: Offer, ctx: DialogueContext) -> StepResult | None:
    if offer.action not in PICK_ACTIONS:
        return None
    target = decode_target(offer.value)
    if target is None:
        return None
    return _picked(replace(state, draft=Draft(target=target)), offer.action, ctx)


def _picked(state: DialogueState, action: str, ctx: DialogueContext) -> StepResult:
    if action == "checked_in_booking":
        return status.show_one(state, ctx)
    return show_actions(state, ctx)


def _list_text(state: DialogueState, text: str, ctx: DialogueContext) -> StepResult | None:
    """Accept a reference typed in any case, with or without the dash."""
    typed = "".join(ch for ch in normalise(text) if ch.isalnum()).upper()
    if len(typed) != 8 or state.prompt is None:
        return None
    for offer in state.prompt.offers:
        target = decode_target(offer.value) if offer.action in PICK_ACTIONS else None
        if target is not None and target.reference.replace("-", "") == typed:
            return _picked(replace(state, draft=Draft(target=target)), offer.action, ctx)
    return not_understood(state, ctx, lead=ctx.text("bookings.unknown_reference"))


def show_actions(state: DialogueState, ctx: DialogueContext, *, lead: str | None = None) -> StepResult:
    """Show one booking and offer to move it, cancel it or see its status."""
    target = state.draft.target
    assert target is not None
    params = {
        "reference": target.reference,
        "type": ctx.type_name(target.appointment_type_id),
        "practitioner": ctx.practitioner_name(target.practitioner_id),
        "when": ctx.when(target.starts_at),
    }
    offers = [
        OfferSpec("move", ctx.text("labels.move"), key="M"),
        OfferSpec("cancel", ctx.text("labels.cancel"), key="C"),
        OfferSpec("status", ctx.text("labels.status"), key="S"),
        OfferSpec("back", ctx.text("labels.back"), key="B"),
    ]
    return ask(
        state,
        ctx,
        step="BOOKING_ACTIONS",
        flow=FLOW,
        key="bookings.actions",
        params=params,
        offers=offers,
        lead=lead,
    )


def _actions_offer(state: DialogueState, offer: Offer, ctx: DialogueContext) -> StepResult | None:
    if offer.action == "move":
        return move.start(state, ctx)
    if offer.action == "cancel":
        return cancel.start(state, ctx)
    if offer.action == "status":
        return status.show_one(state, ctx)
    return None


def _actions_text(state: DialogueState, text: str, ctx: DialogueContext) -> StepResult | None:
    action = _ACTION_WORDS.get(normalise(text))
    return None if action is None else _actions_offer(state, Offer("", action), ctx)


def _enter_actions(state: DialogueState, ctx: DialogueContext) -> StepResult:
    if state.draft.target is None:
        return start(state, ctx)
    return show_actions(state, ctx)


STEPS = (
    Step("BOOKINGS_LIST", FLOW, start, _list_offer, _list_text, _list_outcome, back=lambda s, c: "MENU"),
    Step(
        "BOOKING_ACTIONS",
        FLOW,
        _enter_actions,
        _actions_offer,
        _actions_text,
        back=lambda s, c: "BOOKINGS_LIST",
    ),
)
