"""Status: when a booking is now expected to start.

The expected start is the booking core's projection, which equals the
scheduled start until a practitioner is reported running late. Asked from
the menu, it covers every booking of the patient's today, or else the next
one; asked from one booking, it covers that booking.
"""

from __future__ import annotations

from dataclasses import replace

from flows.commands import BookingsListed, BookingView, ListBookings, Outcome
from flows.dialogue import DialogueContext, Step, StepResult, finish, issue, say, unexpected
from flows.state import DialogueState, Draft

FLOW = "status"
MAX_LISTED = 3
"""Bookings reported at most in one answer, so an SMS reply stays short."""


def start(state: DialogueState, ctx: DialogueContext) -> StepResult:
    """Report today's bookings, or the next one; the outcome comes back to STATUS_ALL."""
    return issue(replace(state, draft=Draft()), "STATUS_ALL", FLOW, ListBookings())


def show_one(state: DialogueState, ctx: DialogueContext) -> StepResult:
    """Report the picked booking; the outcome comes back to STATUS_ONE."""
    return issue(state, "STATUS_ONE", FLOW, ListBookings())


def describe(ctx: DialogueContext, view: BookingView) -> str:
    """Return one booking's status line: scheduled, or expected later than scheduled."""
    params = {
        "reference": view.reference,
        "practitioner": ctx.practitioner_name(view.practitioner_id),
        "when": ctx.when(view.starts_at),
    }
    if view.expected_start > view.starts_at:
        return ctx.text("status.late", expected=ctx.when(view.expected_start), **params)
    return ctx.text("status.on_time", **params)


def _all_outcome(state: DialogueState, outcome: Outcome, ctx: DialogueContext) -> StepResult:
    if not isinstance(outcome, BookingsListed):
        return unexpected(state, ctx)
    if not outcome.bookings:
        return finish(state, ctx, ctx.text("status.none"))
    today = ctx.local_now.date()
    chosen = [v for v in outcome.bookings if v.starts_at.astimezone(ctx.zone).date() == today]
    chosen = chosen[:MAX_LISTED] or [outcome.bookings[0]]
    result = finish(state, ctx, describe(ctx, chosen[0]))
    extra = tuple(say(ctx, describe(ctx, view)) for view in chosen[1:])
    return replace(result, replies=result.replies + extra)


def _one_outcome(state: DialogueState, outcome: Outcome, ctx: DialogueContext) -> StepResult:
    target = state.draft.target
    if not isinstance(outcome, BookingsListed) or target is None:
        return unexpected(state, ctx)
    for view in outcome.bookings:
        if view.booking_id == target.booking_id:
            return finish(state, ctx, describe(ctx, view))
    return finish(state, ctx, ctx.text("bookings.gone", reference=target.reference))


STEPS = (
    Step("STATUS_ALL", FLOW, start, on_outcome=_all_outcome, back=lambda s, c: "MENU"),
    Step("STATUS_ONE", FLOW, show_one, on_outcome=_one_outcome, back=lambda s, c: "BOOKING_ACTIONS"),
)
