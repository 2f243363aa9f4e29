"""Book: appointment type, practitioner or first available, when, pick a slot, read back, yes.

    BOOK_TYPE -> BOOK_PRACTITIONER -> BOOK_WHEN -> BOOK_PICK -> BOOK_CONFIRM -> (booked, idle)
                                                     ^   |later      | no / slot gone
                                                     +---+-----------+

A step is skipped when the clinic leaves one answer (a single appointment
type, a type only one practitioner offers) or when the patient already gave
it: "standard consult with Dr Lee tomorrow afternoon" goes straight to the
slots. A correction at the slots or the read-back ("make it Thursday")
changes only what it names and searches again.
"""

from __future__ import annotations

from dataclasses import replace

from flows.commands import Book, Booked, Outcome, SlotGone
from flows.dialogue import DialogueContext, OfferSpec, Step, StepResult, ask, finish, issue, unexpected
from flows.matching import (
    ANYONE_PHRASES,
    ANYONE_WORDS,
    Named,
    contains_phrase,
    find_named,
    normalise,
    practitioner_phrases,
    remove_phrase,
    type_phrases,
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

FLOW = "book"


def offering_practitioners(ctx: DialogueContext, appointment_type_id: str) -> list[str]:
    """Return the ids of the practitioners who offer an appointment type, in clinic order."""
    for appointment_type in ctx.clinic.appointment_types:
        if appointment_type.id == appointment_type_id:
            offered = set(appointment_type.practitioner_ids)
            return [p.id for p in ctx.clinic.practitioners if p.id in offered]
    return []


def names_booking(text: str, ctx: DialogueContext) -> bool:
    """Return whether a message asks for a new booking: it says "book" or names an appointment type."""
    said = normalise(text)
    if contains_phrase(said, ("book", "make a booking", "new booking", "new appointment")):
        return True
    types = [Named(t.id, type_phrases(t.id, t.name)) for t in ctx.clinic.appointment_types]
    return find_named(said, types)[0] is not None


def read_request(
    draft: Draft, text: str, ctx: DialogueContext
) -> tuple[Draft, tuple[str, dict[str, str]] | None, bool]:
    """Fill the draft from free text: type, practitioner, "first available" and when.

    Returns the new draft, a clarifying question about the date or time if
    one is needed, and whether the text named anything at all.
    """
    rest = normalise(text)
    understood = False

    types = [Named(t.id, type_phrases(t.id, t.name)) for t in ctx.clinic.appointment_types]
    type_id, rest = find_named(rest, types)
    if type_id is not None:
        draft, understood = replace(draft, appointment_type_id=type_id), True

    candidates = ctx.clinic.practitioners
    if draft.appointment_type_id is not None:
        offering = set(offering_practitioners(ctx, draft.appointment_type_id))
        candidates = tuple(p for p in candidates if p.id in offering)
    # "Any practitioner" wins over a name, so a role word in a name never picks one person.
    anyone = contains_phrase(rest, ANYONE_PHRASES)
    if anyone is not None:
        rest = remove_phrase(rest, anyone) if anyone != "first available" else rest
        draft, understood = replace(draft, practitioner_id=None, practitioner_chosen=True), True
    else:
        named = [Named(p.id, practitioner_phrases(p.id, p.display_name)) for p in candidates]
        practitioner_id, rest = find_named(rest, named)
        if practitioner_id is not None:
            draft = replace(draft, practitioner_id=practitioner_id, practitioner_chosen=True)
            understood = True

    # A practitioner who does not offer the type named is asked about again.
    type_id = draft.appointment_type_id
    if (
        draft.practitioner_id is not None
        and type_id
        and draft.practitioner_id not in offering_practitioners(ctx, type_id)
    ):
        draft = replace(draft, practitioner_id=None, practitioner_chosen=False)

    reading = read_when_text(rest, ctx)
    if reading.question is not None:
        return draft, question_text(ctx, reading.question), True
    draft, when_named = apply_when(draft, reading, rest)
    return draft, None, understood or when_named


def start(state: DialogueState, ctx: DialogueContext, text: str = "") -> StepResult:
    """Start booking, using whatever the opening message already says."""
    draft, question, _ = read_request(Draft(), text, ctx)
    return advance(replace(state, draft=draft, flow=FLOW), ctx, question=question)


def advance(
    state: DialogueState,
    ctx: DialogueContext,
    *,
    question: tuple[str, dict[str, str]] | None = None,
    lead: str | None = None,
) -> StepResult:
    """Ask for the first thing still missing, or search for slots when nothing is."""
    draft = state.draft
    types = ctx.clinic.appointment_types
    if draft.appointment_type_id is None and len(types) == 1:
        draft = replace(draft, appointment_type_id=types[0].id)
    if draft.appointment_type_id is None:
        return _ask_type(replace(state, draft=draft), ctx, lead=lead)

    offering = offering_practitioners(ctx, draft.appointment_type_id)
    if not draft.practitioner_chosen and len(offering) == 1:
        draft = replace(draft, practitioner_id=offering[0], practitioner_chosen=True)
    if not draft.practitioner_chosen:
        return _ask_practitioner(replace(state, draft=draft), ctx, lead=lead)

    state = replace(state, draft=draft)
    if question is not None:
        key, params = question
        return ask(state, ctx, step="BOOK_WHEN", flow=FLOW, key=key, params=params, offers=_when_offers(ctx))
    if not draft.when_given:
        return _ask_when(state, ctx, lead=lead)
    return issue(state, "BOOK_PICK", FLOW, search_command(draft, ctx))


def _ask_type(state: DialogueState, ctx: DialogueContext, *, lead: str | None = None) -> StepResult:
    offers = [OfferSpec("type", t.name, t.id) for t in ctx.clinic.appointment_types]
    return ask(state, ctx, step="BOOK_TYPE", flow=FLOW, key="book.ask_type", offers=offers, lead=lead)


def _ask_practitioner(state: DialogueState, ctx: DialogueContext, *, lead: str | None = None) -> StepResult:
    type_id = state.draft.appointment_type_id
    assert type_id is not None
    offers = [
        OfferSpec("practitioner", ctx.practitioner_name(p), p) for p in offering_practitioners(ctx, type_id)
    ]
    offers.append(OfferSpec("anyone", ctx.text("labels.first_available")))
    params = {"type": ctx.type_name(type_id)}
    return ask(
        state,
        ctx,
        step="BOOK_PRACTITIONER",
        flow=FLOW,
        key="book.ask_practitioner",
        params=params,
        offers=offers,
        lead=lead,
    )


def _when_offers(ctx: DialogueContext) -> list[OfferSpec]:
    return [OfferSpec("soonest", ctx.text("labels.soonest"))]


def _ask_when(state: DialogueState, ctx: DialogueContext, *, lead: str | None = None) -> StepResult:
    draft = state.draft
    assert draft.appointment_type_id is not None
    practitioner = (
        ctx.practitioner_name(draft.practitioner_id)
        if draft.practitioner_id is not None
        else ctx.text("labels.first_available")
    )
    params = {"type": ctx.type_name(draft.appointment_type_id), "practitioner": practitioner}
    return ask(
        state,
        ctx,
        step="BOOK_WHEN",
        flow=FLOW,
        key="book.ask_when",
        params=params,
        offers=_when_offers(ctx),
        lead=lead,
    )


def _on_text_request(state: DialogueState, text: str, ctx: DialogueContext) -> StepResult | None:
    """Read free text at any booking step: it may fill or correct any answer."""
    draft, question, understood = read_request(state.draft, text, ctx)
    if not understood:
        return None
    return advance(replace(state, draft=draft), ctx, question=question)


# BOOK_TYPE


def _type_offer(state: DialogueState, offer: Offer, ctx: DialogueContext) -> StepResult | None:
    if offer.action != "type":
        return None
    return advance(replace(state, draft=replace(state.draft, appointment_type_id=offer.value)), ctx)


# BOOK_PRACTITIONER


def _practitioner_offer(state: DialogueState, offer: Offer, ctx: DialogueContext) -> StepResult | None:
    if offer.action == "practitioner":
        draft = replace(state.draft, practitioner_id=offer.value, practitioner_chosen=True)
    elif offer.action == "anyone":
        draft = replace(state.draft, practitioner_id=None, practitioner_chosen=True)
    else:
        return None
    return advance(replace(state, draft=draft), ctx)


def _practitioner_text(state: DialogueState, text: str, ctx: DialogueContext) -> StepResult | None:
    if normalise(text) in ANYONE_WORDS:
        draft = replace(state.draft, practitioner_id=None, practitioner_chosen=True)
        return advance(replace(state, draft=draft), ctx)
    return _on_text_request(state, text, ctx)


# BOOK_WHEN


def _when_offer(state: DialogueState, offer: Offer, ctx: DialogueContext) -> StepResult | None:
    if offer.action != "soonest":
        return None
    draft, _ = apply_when(state.draft, read_when_text("", ctx), "asap")
    return advance(replace(state, draft=draft), ctx)


def _enter_when(state: DialogueState, ctx: DialogueContext) -> StepResult:
    return _ask_when(state, ctx)


# BOOK_CONFIRM


def _ask_confirm(state: DialogueState, ctx: DialogueContext) -> StepResult:
    draft = state.draft
    assert draft.appointment_type_id is not None
    assert draft.slot_practitioner_id is not None
    assert draft.slot_starts_at is not None
    params = {
        "type": ctx.type_name(draft.appointment_type_id),
        "practitioner": ctx.practitioner_name(draft.slot_practitioner_id),
        "when": ctx.when(draft.slot_starts_at),
    }
    offers = [
        OfferSpec("yes", ctx.text("labels.yes_book"), key="Y"),
        OfferSpec("no", ctx.text("labels.no"), key="N"),
    ]
    return ask(state, ctx, step="BOOK_CONFIRM", flow=FLOW, key="book.readback", params=params, offers=offers)


# BOOK_PICK, which reads any other text as a booking request.
_PICK = SlotPick("BOOK_PICK", FLOW, ask_when=_ask_when, ask_confirm=_ask_confirm, read_text=_on_text_request)


def _confirm_offer(state: DialogueState, offer: Offer, ctx: DialogueContext) -> StepResult | None:
    draft = state.draft
    if offer.action == "no":
        return _PICK.enter(state, ctx)
    if offer.action != "yes":
        return None
    assert draft.appointment_type_id is not None
    assert draft.slot_practitioner_id is not None
    assert draft.slot_starts_at is not None
    command = Book(
        draft.appointment_type_id,
        draft.slot_practitioner_id,
        draft.slot_starts_at,
        requested_practitioner_id=draft.practitioner_id,
    )
    return issue(state, "BOOK_CONFIRM", FLOW, command)


def _confirm_outcome(state: DialogueState, outcome: Outcome, ctx: DialogueContext) -> StepResult:
    draft = state.draft
    if isinstance(outcome, Booked):
        assert draft.appointment_type_id is not None
        text = ctx.text(
            "book.booked",
            reference=outcome.reference,
            type=ctx.type_name(draft.appointment_type_id),
            practitioner=ctx.practitioner_name(outcome.practitioner_id),
            when=ctx.when(outcome.starts_at),
        )
        serial = state.prompt.serial if state.prompt is not None else state.serial
        done = replace(state, draft=Draft(), completed=Completed("book", outcome.reference, serial))
        return finish(done, ctx, text)
    if isinstance(outcome, SlotGone):
        return slot_gone(state, ctx, outcome, step="BOOK_PICK", flow=FLOW, ask_when=_ask_when)
    return unexpected(state, ctx)


def _back_from_practitioner(state: DialogueState, ctx: DialogueContext) -> str | None:
    return "BOOK_TYPE" if len(ctx.clinic.appointment_types) > 1 else "MENU"


def _back_from_when(state: DialogueState, ctx: DialogueContext) -> str | None:
    type_id = state.draft.appointment_type_id
    if type_id is not None and len(offering_practitioners(ctx, type_id)) > 1:
        return "BOOK_PRACTITIONER"
    return _back_from_practitioner(state, ctx)


STEPS = (
    Step(
        "BOOK_TYPE",
        FLOW,
        lambda s, c: _ask_type(s, c),
        _type_offer,
        _on_text_request,
        back=lambda s, c: "MENU",
    ),
    Step(
        "BOOK_PRACTITIONER",
        FLOW,
        lambda s, c: _ask_practitioner(s, c),
        _practitioner_offer,
        _practitioner_text,
        back=_back_from_practitioner,
    ),
    Step("BOOK_WHEN", FLOW, _enter_when, _when_offer, _on_text_request, back=_back_from_when),
    Step(
        "BOOK_PICK",
        FLOW,
        _PICK.enter,
        _PICK.on_offer,
        _PICK.on_text,
        _PICK.on_outcome,
        back=lambda s, c: "BOOK_WHEN",
    ),
    Step(
        "BOOK_CONFIRM",
        FLOW,
        _ask_confirm,
        _confirm_offer,
        _PICK.on_text,
        _confirm_outcome,
        back=lambda s, c: "BOOK_PICK",
    ),
)
