"""Shared by booking and moving: reading "when", searching slots, offering them, paging on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from flows.commands import FindSlots, Outcome, SlotGone, SlotsFound, SlotView
from flows.dialogue import (
    DialogueContext,
    EnterHandler,
    OfferSpec,
    StepResult,
    TextHandler,
    ask,
    issue,
    unexpected,
)
from flows.matching import SOONEST_PHRASES, contains_phrase, normalise
from flows.state import DialogueState, Draft, Offer
from flows.when import DEFAULT_OPENING_HOURS, Question, WhenReading, read_when

SLOTS_PER_PAGE = 5
LATER_WORDS = frozenset({"later", "later times", "more", "more times", "next", "show more", "l"})
ANOTHER_DAY_WORDS = frozenset({"another day", "other day", "different day", "another time", "d"})


def opening_hours(ctx: DialogueContext) -> tuple[dt.time, dt.time]:
    """Return the earliest start and latest end of any practitioner's weekly sessions.

    A bare hour such as "at 4" is read within these hours (16:00).
    """
    starts: list[dt.time] = []
    ends: list[dt.time] = []
    for practitioner in ctx.clinic.practitioners:
        for day_sessions in practitioner.weekly_sessions:
            starts.extend(session.start for session in day_sessions)
            ends.extend(session.end for session in day_sessions)
    if not starts:
        return DEFAULT_OPENING_HOURS
    return min(starts), max(ends)


def question_text(ctx: DialogueContext, question: Question) -> tuple[str, dict[str, str]]:
    """Return the template key and parameters of a clarifying question about a date or time."""
    return f"when.{question.key.removeprefix('when_')}", dict(question.params)


def read_when_text(text: str, ctx: DialogueContext, *, menu_size: int | None = None) -> WhenReading:
    """Read a date, time or part of the day from `text` in the clinic's zone and hours."""
    return read_when(text, now=ctx.now, zone=ctx.zone, opening_hours=opening_hours(ctx), menu_size=menu_size)


def apply_when(draft: Draft, reading: WhenReading, text: str) -> tuple[Draft, bool]:
    """Return `draft` with what `reading` names changed, and whether it named anything.

    A correction changes only what it names: "make it Thursday" keeps the
    time asked for, and a new time replaces a part of the day and the other
    way round. "As soon as possible" clears every limit.
    """
    if contains_phrase(normalise(text), SOONEST_PHRASES) and not reading.given:
        cleared = replace(draft, date=None, time=None, part_of_day=None, time_bound="at")
        return _new_search(cleared), True
    if not reading.given:
        return draft, False
    changed = draft
    if reading.date is not None:
        changed = replace(changed, date=reading.date)
    if reading.time is not None:
        changed = replace(changed, time=reading.time, time_bound=reading.time_bound, part_of_day=None)
    if reading.part_of_day is not None:
        changed = replace(changed, part_of_day=reading.part_of_day.value, time=None, time_bound="at")
    return _new_search(changed), True


def _new_search(draft: Draft) -> Draft:
    return replace(
        draft, when_given=True, offered=(), search_from=None, slot_practitioner_id=None, slot_starts_at=None
    )


def search_command(draft: Draft, ctx: DialogueContext) -> FindSlots:
    """Return the slot search for what the draft asks, continuing after slots already offered."""
    assert draft.appointment_type_id is not None
    from_date = draft.date
    from_time: dt.time | None = None
    before_time: dt.time | None = None
    if draft.time is not None:
        if draft.time_bound == "before":
            before_time = draft.time
        else:
            from_time = draft.time
            if from_date is None:
                # A time with no day means today if it is still ahead, else tomorrow.
                today = ctx.local_now.date()
                from_date = today if draft.time > ctx.local_now.time() else today + dt.timedelta(days=1)
    if draft.search_from is not None:
        local = draft.search_from.astimezone(ctx.zone)
        from_date, from_time = local.date(), local.time()
    return FindSlots(
        appointment_type_id=draft.appointment_type_id,
        practitioner_id=draft.practitioner_id,
        from_date=from_date,
        from_time=from_time,
        part_of_day=draft.part_of_day,
        before_time=before_time,
        limit=SLOTS_PER_PAGE,
        exclude=draft.offered,
        moving_reference=None if draft.target is None else draft.target.reference,
    )


def later_draft(draft: Draft) -> Draft:
    """Return the draft for the next page: from the last slot offered, skipping those shown."""
    if not draft.offered:
        return draft
    last = parse_slot_value(draft.offered[-1])
    return draft if last is None else replace(draft, search_from=last.starts_at)


def fresh_search(draft: Draft) -> Draft:
    """Return the draft with paging reset, so a search starts again from what was asked."""
    return replace(draft, offered=(), search_from=None)


def slot_value(slot: SlotView) -> str:
    """Return the offer value that names a slot."""
    return slot.key


def parse_slot_value(value: str) -> SlotView | None:
    """Rebuild a slot from its offer value, or None if the value is damaged."""
    practitioner_id, _, starts = value.partition("|")
    try:
        starts_at = dt.datetime.fromisoformat(starts)
    except ValueError:
        return None
    if not practitioner_id or starts_at.tzinfo is None:
        return None
    return SlotView(practitioner_id, starts_at)


def offer_slots(
    state: DialogueState,
    ctx: DialogueContext,
    slots: tuple[SlotView, ...],
    *,
    step: str,
    flow: str,
    lead: str | None = None,
) -> StepResult:
    """Offer up to five slots with "later" and "another day", keeping the offered keys in the draft."""
    draft = state.draft
    assert draft.appointment_type_id is not None
    key, params, show_practitioner = _offer_heading(
        ctx, draft.appointment_type_id, draft.practitioner_id, slots
    )

    asked_day = draft.date if draft.search_from is None else None
    if asked_day is not None and slots and slots[0].starts_at.astimezone(ctx.zone).date() != asked_day:
        nothing = ctx.text("book.offer_next", asked=ctx.day(asked_day))
        lead = nothing if lead is None else f"{lead} {nothing}"

    specs = [
        OfferSpec("slot", _slot_label(ctx, slot, show_practitioner=show_practitioner), slot_value(slot))
        for slot in slots
    ]
    specs.append(OfferSpec("later", ctx.text("labels.later")))
    specs.append(OfferSpec("another_day", ctx.text("labels.another_day")))
    result = ask(
        state,
        ctx,
        step=step,
        flow=flow,
        key=key,
        params=params,
        offers=specs,
        droppable=len(slots),
        lead=lead,
    )

    assert result.state.prompt is not None
    shown = tuple(o.value for o in result.state.prompt.offers if o.action == "slot")
    new_draft = replace(result.state.draft, offered=result.state.draft.offered + shown)
    return replace(result, state=replace(result.state, draft=new_draft))


def _offer_heading(
    ctx: DialogueContext,
    appointment_type_id: str,
    requested_practitioner_id: str | None,
    slots: tuple[SlotView, ...],
) -> tuple[str, dict[str, str], bool]:
    """Return the key and parameters of the heading over `slots`, and whether each slot names its practitioner.

    The heading names the requested practitioner only when every slot is
    theirs. Otherwise each slot names its own practitioner.
    """
    type_name = ctx.type_name(appointment_type_id)
    if requested_practitioner_id is None:
        return "book.offer_any", {"type": type_name}, True
    owners = {slot.practitioner_id for slot in slots}
    if owners <= {requested_practitioner_id}:
        params = {"type": type_name, "practitioner": ctx.practitioner_name(requested_practitioner_id)}
        return "book.offer", params, False
    if requested_practitioner_id not in owners:
        return "book.offer_others", {"type": type_name}, True
    return "book.offer_any", {"type": type_name}, True


def _slot_label(ctx: DialogueContext, slot: SlotView, *, show_practitioner: bool) -> str:
    when = ctx.when(slot.starts_at)
    if show_practitioner:
        return ctx.text(
            "labels.slot_with", when=when, practitioner=ctx.practitioner_name(slot.practitioner_id)
        )
    return ctx.text("labels.slot", when=when)


AskWhen = Callable[..., StepResult]
"""A flow's "when" question, called as `ask_when(state, ctx, lead=TEXT)`."""


def slot_gone(
    state: DialogueState,
    ctx: DialogueContext,
    outcome: SlotGone,
    *,
    step: str,
    flow: str,
    ask_when: AskWhen,
) -> StepResult:
    """Say that the chosen time is no longer available and offer fresh alternatives, or ask "when" again.

    When the alternatives are other practitioners' times, the reply first
    states that the requested practitioner has none.
    """
    lead = ctx.text("book.unavailable")
    requested = state.draft.practitioner_id
    if outcome.other_practitioners and requested is not None:
        none_left = ctx.text("book.practitioner_none", practitioner=ctx.practitioner_name(requested))
        lead = f"{lead} {none_left}"
    draft = replace(fresh_search(state.draft), slot_practitioner_id=None, slot_starts_at=None)
    state = replace(state, draft=draft)
    if outcome.alternatives:
        return offer_slots(state, ctx, outcome.alternatives, step=step, flow=flow, lead=lead)
    return ask_when(state, ctx, lead=lead)


@dataclass(frozen=True)
class SlotPick:
    """The handlers of a flow's slot-picking step: search, offer slots, page on, pick one.

    `ask_when` and `ask_confirm` are the flow's own "when" question and
    read-back. `read_text` handles free text that is not a paging word.
    """

    step: str
    flow: str
    ask_when: AskWhen
    ask_confirm: EnterHandler
    read_text: TextHandler

    def enter(self, state: DialogueState, ctx: DialogueContext) -> StepResult:
        """Search again from the first page of what the draft requests."""
        draft = fresh_search(state.draft)
        return issue(replace(state, draft=draft), self.step, self.flow, search_command(draft, ctx))

    def on_outcome(self, state: DialogueState, outcome: Outcome, ctx: DialogueContext) -> StepResult:
        """Offer the slots found, or ask "when" again when there are none."""
        if not isinstance(outcome, SlotsFound):
            return unexpected(state, ctx)
        if not outcome.slots:
            assert state.draft.appointment_type_id is not None
            none = ctx.text(
                "book.none",
                type=ctx.type_name(state.draft.appointment_type_id),
                days=str(ctx.clinic.rules.horizon_days),
            )
            return self.ask_when(state, ctx, lead=none)
        return offer_slots(state, ctx, outcome.slots, step=self.step, flow=self.flow)

    def on_offer(self, state: DialogueState, offer: Offer, ctx: DialogueContext) -> StepResult | None:
        """Page on, ask for another day, or read back the slot picked."""
        if offer.action == "later":
            draft = later_draft(state.draft)
            return issue(replace(state, draft=draft), self.step, self.flow, search_command(draft, ctx))
        if offer.action == "another_day":
            return self.ask_when(replace(state, draft=fresh_search(state.draft)), ctx)
        if offer.action != "slot":
            return None
        slot = parse_slot_value(offer.value)
        if slot is None:
            return None
        draft = replace(state.draft, slot_practitioner_id=slot.practitioner_id, slot_starts_at=slot.starts_at)
        return self.ask_confirm(replace(state, draft=draft), ctx)

    def on_text(self, state: DialogueState, text: str, ctx: DialogueContext) -> StepResult | None:
        """Treat a paging word as its offer, and pass other text to `read_text`."""
        normalised = normalise(text)
        if normalised in LATER_WORDS:
            return self.on_offer(state, Offer("", "later"), ctx)
        if normalised in ANOTHER_DAY_WORDS:
            return self.on_offer(state, Offer("", "another_day"), ctx)
        return self.read_text(state, text, ctx)
