"""The menu: the greeting, the list of what the patient can do, and reading requests made from it.

    START or IDLE --book--> book    --my bookings--> bookings
                  --status--> status --e-mail--> invites --help--> help

From the menu a patient may also just say what they want: "standard consult
tomorrow arvo" starts booking with those answers filled in, and "I need to
move my appointment" lists their bookings.
"""

from __future__ import annotations

from flows import book, bookings, invites, status
from flows.dialogue import DialogueContext, OfferSpec, Step, StepResult, ask
from flows.matching import contains_phrase, normalise
from flows.state import DialogueState, Draft

FLOW = "menu"
_CHANGE_WORDS = ("move", "change", "reschedule", "cancel", "my booking", "my appointment")
_BOOK_WORDS = ("book", "appointment", "appt", "consult", "see a", "see the", "see dr", "booking")


def menu_offers(ctx: DialogueContext) -> list[OfferSpec]:
    """Return the menu's choices, which also work as replies in every other step."""
    return [
        OfferSpec("book", ctx.text("labels.book")),
        OfferSpec("list", ctx.text("labels.my_bookings")),
        OfferSpec("status", ctx.text("labels.status")),
        OfferSpec("email", ctx.text("labels.email")),
        OfferSpec("help", ctx.text("labels.help")),
    ]


def show(state: DialogueState, ctx: DialogueContext, *, lead: str | None = None) -> StepResult:
    """Show the menu."""
    return ask(state, ctx, step="MENU", flow=FLOW, key="common.menu", offers=menu_offers(ctx), lead=lead)


def greet(state: DialogueState, ctx: DialogueContext) -> StepResult:
    """Greet a new conversation with the menu."""
    return ask(state, ctx, step="MENU", flow=FLOW, key="common.greeting", offers=menu_offers(ctx))


def read_request(state: DialogueState, text: str, ctx: DialogueContext) -> StepResult | None:
    """Start the flow a free-text request names, or return None if it names none."""
    said = normalise(text)
    if contains_phrase(said, _CHANGE_WORDS):
        return bookings.start(state, ctx)
    if contains_phrase(said, ("status", "running late", "on time")):
        return status.start(state, ctx)
    if contains_phrase(said, ("email", "e-mail", "calendar")):
        return invites.start(state, ctx)
    attempt = book.start(state, ctx, text)
    asked_anything = attempt.state.draft != Draft()
    if asked_anything or contains_phrase(said, _BOOK_WORDS):
        return attempt
    return None


def _start_text(state: DialogueState, text: str, ctx: DialogueContext) -> StepResult:
    """Read a first message: a request starts its flow, anything else gets the greeting."""
    return read_request(state, text, ctx) or greet(state, ctx)


STEPS = (
    Step("START", FLOW, greet, None, _start_text),
    Step("MENU", FLOW, show, None, read_request),
    Step("IDLE", FLOW, show, None, read_request),
)
