"""The toolkit every conversation module uses: context, step results, asking and re-asking.

A step is a named state of one conversation with up to four handlers:
`enter` asks its question (or issues the command whose outcome it needs),
`on_offer` handles a choice it offered, `on_text` handles free text and
returns None when it cannot use it, and `on_outcome` handles the result of
its command. Handlers are pure: they return a `StepResult` and never touch
the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from booking.clinic import Clinic
from flows.commands import Command, Outcome
from flows.formats import format_day, format_local
from flows.render import fit_reply, fits_channel, fold_reply
from flows.replies import Channel, Choice, ChoiceEvent, Reply, TextEvent
from flows.state import DialogueState, Offer, Prompt
from flows.templates import Templates

Event = TextEvent | ChoiceEvent | Outcome


@dataclass(frozen=True)
class DialogueContext:
    """Read-only inputs of a step besides the state: the clinic, its texts, the channel and now."""

    clinic: Clinic
    templates: Templates
    channel: Channel
    now: dt.datetime
    """The current instant, aware UTC."""

    @property
    def zone(self) -> ZoneInfo:
        """The clinic's time zone."""
        return self.clinic.zone

    @property
    def local_now(self) -> dt.datetime:
        """The current instant in the clinic's zone."""
        return self.now.astimezone(self.zone)

    def text(self, key: str, **params: str) -> str:
        """Fill in one of the profile's templates, as worded for this channel."""
        return self.templates.render(key, self.channel, **params)

    def when(self, instant: dt.datetime) -> str:
        """Format an instant as the clinic's local date and time, such as `Fri 18 Jun 9:30am`."""
        return format_local(instant.astimezone(self.zone))

    def day(self, day: dt.date) -> str:
        """Format a local date, such as `Fri 18 Jun`."""
        return format_day(day)

    def practitioner_name(self, practitioner_id: str) -> str:
        """Return a practitioner's display name, or the id if the clinic no longer lists them."""
        for practitioner in self.clinic.practitioners:
            if practitioner.id == practitioner_id:
                return practitioner.display_name
        return practitioner_id

    def type_name(self, appointment_type_id: str) -> str:
        """Return an appointment type's name, or the id if the clinic no longer lists it."""
        for appointment_type in self.clinic.appointment_types:
            if appointment_type.id == appointment_type_id:
                return appointment_type.name
        return appointment_type_id


@dataclass(frozen=True)
class StepResult:
    """A step's new state, the replies to send and, at most, one command to run first."""

    state: DialogueState
    replies: tuple[Reply, ...] = ()
    command: Command | None = None


@dataclass(frozen=True)
class OfferSpec:
    """A choice to offer: the action it triggers, its label and, for fixed options, its key."""

    action: str
    label: str
    value: str = ""
    key: str | None = None
    """The letter to type (`Y`, `N`, `B`); None numbers the choice in a list."""


EnterHandler = Callable[[DialogueState, DialogueContext], StepResult]
OfferHandler = Callable[[DialogueState, Offer, DialogueContext], StepResult | None]
TextHandler = Callable[[DialogueState, str, DialogueContext], StepResult | None]
OutcomeHandler = Callable[[DialogueState, Outcome, DialogueContext], StepResult]
BackTarget = Callable[[DialogueState, DialogueContext], str | None]


@dataclass(frozen=True)
class Step:
    """One named state of a conversation and its handlers."""

    name: str
    flow: str
    enter: EnterHandler
    on_offer: OfferHandler | None = None
    on_text: TextHandler | None = None
    on_outcome: OutcomeHandler | None = None
    back: BackTarget | None = None
    """The step that "back" returns to, or None where there is no earlier step."""


def choice_id(state: DialogueState, serial: int, index: int) -> str:
    """Return the id of choice `index` of prompt `serial`; it fits Telegram's 64-byte limit."""
    return f"{state.conversation}.{serial}.{index}"


def _choices(
    state: DialogueState, serial: int, offers: Sequence[Offer], labels: Sequence[str]
) -> tuple[Choice, ...]:
    return tuple(
        Choice(choice_id(state, serial, index), offer.key, label)
        for index, (offer, label) in enumerate(zip(offers, labels, strict=True))
    )


def _numbered(specs: Sequence[OfferSpec]) -> list[Offer]:
    offers: list[Offer] = []
    number = 0
    for spec in specs:
        if spec.key is None:
            number += 1
            key = str(number)
        else:
            key = spec.key
        offers.append(Offer(key, spec.action, spec.value))
    return offers


def ask(
    state: DialogueState,
    ctx: DialogueContext,
    *,
    step: str,
    flow: str,
    key: str,
    params: dict[str, str] | None = None,
    offers: Sequence[OfferSpec] = (),
    droppable: int = 0,
    lead: str | None = None,
) -> StepResult:
    """Ask the question of template `key` with `offers`, making it the current prompt.

    The first `droppable` offers (slots, bookings) may be left out, last
    first, until the reply fits the channel; at least one is kept. `lead` is
    a sentence put before the question this time only, such as an apology.
    """
    params = params or {}
    serial = state.serial + 1
    question = ctx.text(key, **params)
    text = question if lead is None else f"{lead}\n{question}"

    keep = droppable
    while True:
        chosen = list(offers[:keep]) + list(offers[droppable:])
        stored = _numbered(chosen)
        labels = [spec.label for spec in chosen]
        whole = Reply(text, _choices(state, serial, stored, labels))
        # Fewer choices come before a cut text: the check runs on the uncut text.
        if keep <= 1 or fits_channel(fold_reply(whole, ctx.channel), ctx.channel):
            reply = fit_reply(whole, ctx.channel)
            break
        keep -= 1

    prompt = Prompt(serial, key, dict(params), tuple(stored), tuple(c.label for c in reply.choices))
    # A new question ends the window in which a yes repeats the last completed change.
    new_state = replace(
        state, flow=flow, step=step, prompt=prompt, serial=serial, misunderstood=0, completed=None
    )
    return StepResult(new_state, (reply,))


def prompt_reply(state: DialogueState, ctx: DialogueContext, lead: str | None = None) -> Reply | None:
    """Return the current prompt as a reply again, with the same choice ids, or None if there is none."""
    prompt = state.prompt
    if prompt is None:
        return None
    question = ctx.text(prompt.key, **prompt.params)
    text = question if lead is None else f"{lead}\n{question}"
    return fit_reply(Reply(text, _choices(state, prompt.serial, prompt.offers, prompt.labels)), ctx.channel)


MISUNDERSTOOD_LIMIT = 2
"""Replies in a row the current step could not use before help and the phone number are offered."""


def not_understood(state: DialogueState, ctx: DialogueContext, *, lead: str) -> StepResult:
    """Answer a reply the current step cannot use: ask again with `lead`, or hand off.

    The second such reply in a row, at any step, gets the offer of help and
    the clinic's phone number instead of `lead`, and the question again.
    """
    count = state.misunderstood + 1
    if count >= MISUNDERSTOOD_LIMIT:
        handoff = say(ctx, ctx.text("common.handoff"))
        again = prompt_reply(state, ctx)
        replies: tuple[Reply, ...] = (handoff,) if again is None else (handoff, again)
        return StepResult(replace(state, misunderstood=0), replies)
    again = prompt_reply(state, ctx, lead=lead)
    return StepResult(replace(state, misunderstood=count), (say(ctx, lead),) if again is None else (again,))


def say(ctx: DialogueContext, text: str) -> Reply:
    """Return a reply with no choices, fitted to the channel."""
    return fit_reply(Reply(text), ctx.channel)


def finish(
    state: DialogueState, ctx: DialogueContext, text: str, *, completed_state: DialogueState | None = None
) -> StepResult:
    """End the current flow with `text`: the conversation goes idle, with no prompt open."""
    base = completed_state or state
    idle = replace(base, flow="menu", step="IDLE", prompt=None, misunderstood=0)
    return StepResult(idle, (say(ctx, text),))


def issue(state: DialogueState, step: str, flow: str, command: Command) -> StepResult:
    """Move to `step` and ask the runner to carry out `command`; the outcome comes back to `step`."""
    return StepResult(replace(state, flow=flow, step=step, completed=None), (), command)


def unexpected(state: DialogueState, ctx: DialogueContext) -> StepResult:
    """End the flow with an apology after an outcome the step did not ask for."""
    idle = replace(state, flow="menu", step="IDLE", prompt=None, misunderstood=0)
    return StepResult(idle, (say(ctx, ctx.text("common.error")),))


def past_cutoff(ctx: DialogueContext, starts_at: dt.datetime, hours: int) -> bool:
    """Return whether `now` is within `hours` wall-clock hours of a booking's local start.

    The cut-off is counted on the clinic's wall clock, so across a
    daylight-saving change "2 hours before 9:00" is still 7:00 local.
    """
    local_start = starts_at.astimezone(ctx.zone).replace(tzinfo=None)
    deadline = (local_start - dt.timedelta(hours=hours)).replace(tzinfo=ctx.zone)
    return ctx.now >= deadline.astimezone(dt.UTC)
