"""The step function: one event applied to one stored state, giving a new state, replies and a command.

Every state accepts help, menu and back, and the menu's commands (book, my
bookings, status, e-mail). A tapped choice is applied only if it belongs to
the prompt now open. A tap on an older button, or a number typed in reply
to a list that is no longer open, is recognised, and the current question
is asked again. After two replies in a row that the current step cannot use,
the patient is offered help and the clinic's phone number.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from flows import book, bookings, cancel, invites, menu, move, status
from flows.commands import Outcome
from flows.dialogue import (
    MISUNDERSTOOD_LIMIT,
    DialogueContext,
    Event,
    Step,
    StepResult,
    not_understood,
    prompt_reply,
    say,
)
from flows.matching import (
    NO_WORDS,
    YES_WORDS,
    bare_number,
    is_no,
    is_yes,
    keyword,
    normalise,
)
from flows.replies import ChoiceEvent, TextEvent
from flows.state import DialogueState, Offer

logger = logging.getLogger(__name__)


STEPS: dict[str, Step] = {
    step.name: step
    for module in (menu, book, bookings, move, cancel, status, invites)
    for step in module.STEPS
}

_DIGITS = re.compile(r"[0-9]{1,9}", re.ASCII)
"""A serial or index in a choice id; `str.isdigit` would let "²" through to `int`."""

_YES_ACTIONS = frozenset({"yes"})
_NO_ACTIONS = frozenset({"no"})


def new_state(conversation: str) -> DialogueState:
    """Return the state of a conversation that has not started; `conversation` is a random token."""
    return DialogueState(conversation=conversation)


def step(state: DialogueState, event: Event, ctx: DialogueContext) -> StepResult:
    """Apply one event to the state: a patient's text or tap, or the outcome of the last command."""
    current = STEPS.get(state.step)
    if current is None:
        logger.warning("dialogue state names unknown step %s; showing the menu", state.step)
        return menu.show(replace(state, step="MENU", flow="menu"), ctx)
    if isinstance(event, ChoiceEvent):
        return _on_choice(state, current, event.choice_id, ctx)
    if isinstance(event, TextEvent):
        return _on_text(state, current, event.text, ctx)
    return _on_outcome(state, current, event, ctx)


def _on_outcome(state: DialogueState, current: Step, outcome: Outcome, ctx: DialogueContext) -> StepResult:
    if current.on_outcome is None:
        logger.warning("step %s received an outcome it did not ask for", current.name)
        return menu.show(state, ctx)
    return current.on_outcome(state, outcome, ctx)


def _offer_for_choice(state: DialogueState, choice_id: str) -> Offer | None:
    """Return the offer a choice id names, if it belongs to the prompt now open."""
    conversation, _, rest = choice_id.partition(".")
    serial_text, _, index_text = rest.partition(".")
    prompt = state.prompt
    if prompt is None or conversation != state.conversation:
        return None
    if _DIGITS.fullmatch(serial_text) is None or _DIGITS.fullmatch(index_text) is None:
        return None
    if int(serial_text) != prompt.serial:
        return None
    index = int(index_text)
    return prompt.offers[index] if index < len(prompt.offers) else None


def _on_choice(state: DialogueState, current: Step, choice_id: str, ctx: DialogueContext) -> StepResult:
    offer = _offer_for_choice(state, choice_id[:64])
    if offer is None:
        logger.info("stale choice at step %s; asking again", current.name)
        return _ask_again(state, ctx, lead=ctx.text("common.stale_choice"))
    return _apply_offer(state, current, offer, ctx)


def _apply_offer(state: DialogueState, current: Step, offer: Offer, ctx: DialogueContext) -> StepResult:
    handled = _global_action(state, current, offer.action, ctx)
    if handled is not None:
        return handled
    result = current.on_offer(state, offer, ctx) if current.on_offer is not None else None
    return result if result is not None else _misunderstood(state, ctx)


def _global_action(
    state: DialogueState, current: Step, action: str, ctx: DialogueContext
) -> StepResult | None:
    """Carry out a command that works in every state, or return None for any other action."""
    if action == "menu":
        return menu.greet(state, ctx) if state.step == "START" else menu.show(state, ctx)
    if action == "help":
        return _help(state, ctx)
    if action == "back":
        return _back(state, current, ctx)
    if action == "book":
        return book.start(state, ctx)
    if action == "list":
        return bookings.start(state, ctx)
    if action == "status":
        return status.start(state, ctx)
    if action == "email":
        return invites.start(state, ctx)
    return None


def _match_offer(state: DialogueState, said: str) -> Offer | None:
    """Return the open prompt's offer that typed text selects: its key, label, or a yes or no."""
    prompt = state.prompt
    if prompt is None:
        return None
    for offer, label in zip(prompt.offers, prompt.labels, strict=True):
        if said == offer.key.lower() or said == normalise(label):
            return offer
    wanted = (
        _YES_ACTIONS
        if said in YES_WORDS or is_yes(said)
        else _NO_ACTIONS
        if said in NO_WORDS or is_no(said)
        else None
    )
    if wanted is None:
        return None
    return next((offer for offer in prompt.offers if offer.action in wanted), None)


def _on_text(state: DialogueState, current: Step, text: str, ctx: DialogueContext) -> StepResult:
    said = normalise(text)
    command = keyword(said)
    if command is not None:
        handled = _global_action(state, current, command, ctx)
        assert handled is not None
        return handled
    if current.flow not in (book.FLOW, menu.FLOW) and book.names_booking(said, ctx):
        # A new request ("standard with Dr Okafor today 5pm") starts booking from any step.
        return book.start(state, ctx, said)

    offer = _match_offer(state, said)
    if offer is not None:
        return _apply_offer(state, current, offer, ctx)

    number = bare_number(said)
    if number is not None:
        return _wrong_number(state, ctx)
    if (is_yes(said) or is_no(said)) and _answers_completed(state):
        assert state.completed is not None
        done = say(ctx, ctx.text("common.already_done", reference=state.completed.reference))
        return StepResult(replace(state, misunderstood=0), (done,))

    result = current.on_text(state, text, ctx) if current.on_text is not None and said else None
    return result if result is not None else _misunderstood(state, ctx)


def _answers_completed(state: DialogueState) -> bool:
    """Return whether a yes or no now can only be a repeat of the read-back that was carried out.

    That holds while no question has been asked since: the completed
    read-back is the last prompt, and no other prompt is open.
    """
    completed = state.completed
    if completed is None or completed.prompt_serial != state.serial:
        return False
    return state.prompt is None or state.prompt.serial == completed.prompt_serial


def _wrong_number(state: DialogueState, ctx: DialogueContext) -> StepResult:
    """Answer a number that picks nothing: out of range for the open list, or a reply to an old one."""
    prompt = state.prompt
    numbered = [o for o in prompt.offers if o.key.isdigit()] if prompt is not None else []
    if numbered:
        count = len(numbered)
        lead = ctx.text("when.menu_one") if count == 1 else ctx.text("when.menu_range", count=str(count))
        return not_understood(state, ctx, lead=lead)
    logger.info("number typed with no list open at step %s; asking again", state.step)
    if state.prompt is None:
        return _ask_again(state, ctx, lead=ctx.text("common.stale_choice"))
    return not_understood(state, ctx, lead=ctx.text("common.stale_choice"))


def _ask_again(state: DialogueState, ctx: DialogueContext, *, lead: str) -> StepResult:
    reply = prompt_reply(state, ctx, lead=lead)
    if reply is None:
        return menu.show(state, ctx, lead=lead)
    return StepResult(state, (reply,))


def _misunderstood(state: DialogueState, ctx: DialogueContext) -> StepResult:
    if state.prompt is None and state.misunderstood + 1 < MISUNDERSTOOD_LIMIT:
        shown = menu.show(state, ctx, lead=ctx.text("common.not_understood"))
        return replace(shown, state=replace(shown.state, misunderstood=state.misunderstood + 1))
    return not_understood(state, ctx, lead=ctx.text("common.not_understood"))


def _help(state: DialogueState, ctx: DialogueContext) -> StepResult:
    help_text = say(ctx, ctx.text("common.help"))
    again = prompt_reply(state, ctx)
    if again is None:
        shown = menu.show(state, ctx)
        return replace(shown, replies=(help_text, *shown.replies))
    return StepResult(replace(state, misunderstood=0), (help_text, again))


def _back(state: DialogueState, current: Step, ctx: DialogueContext) -> StepResult:
    target = current.back(state, ctx) if current.back is not None else None
    if target is None or target not in STEPS:
        return _ask_again(state, ctx, lead=ctx.text("common.no_back"))
    if target in ("MENU", "IDLE", "START"):
        return menu.show(state, ctx)
    return STEPS[target].enter(replace(state, step=target, flow=STEPS[target].flow), ctx)
