"""The pure step function, without a database: commands issued, prompts, stale choices, help and back."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from booking.clinic import Clinic
from flows import engine
from flows.commands import Booked, FindSlots, ListBookings, SlotsFound, SlotView
from flows.dialogue import DialogueContext, StepResult
from flows.replies import ChoiceEvent, TextEvent
from flows.runner import templates_for
from flows.state import BookingTarget, DialogueState, Draft
from tests.flows.conftest import NOW

THURSDAY = dt.date(2027, 6, 17)
FRIDAY = dt.date(2027, 6, 18)


@pytest.fixture
def ctx(demo_clinic: Clinic) -> DialogueContext:
    """Return a dialogue context on the demo clinic over SMS at a fixed instant."""
    return DialogueContext(demo_clinic, templates_for(demo_clinic), "sms", NOW)


def text(state: DialogueState, message: str, ctx: DialogueContext) -> StepResult:
    """Apply one text message."""
    return engine.step(state, TextEvent(message), ctx)


def slots(ctx: DialogueContext, *hours: int, day: dt.date = THURSDAY) -> SlotsFound:
    """Return free slots with Dr Lee at the given local hours."""
    return SlotsFound(
        tuple(SlotView("lee", dt.datetime.combine(day, dt.time(h), tzinfo=ctx.zone)) for h in hours)
    )


def at_slots(ctx: DialogueContext) -> StepResult:
    """Return the result of asking for a standard consult with Dr Lee tomorrow afternoon and getting slots."""
    asked = text(engine.new_state("c0ffee"), "standard consult with Dr Lee tomorrow afternoon", ctx)
    return engine.step(asked.state, slots(ctx, 13, 14, 15), ctx)


def test_one_message_fills_every_answer(ctx: DialogueContext) -> None:
    """Type, practitioner and when in one message go straight to a slot search."""
    result = text(engine.new_state("c0ffee"), "standard consult with Dr Lee tomorrow afternoon", ctx)

    assert result.command == FindSlots(
        appointment_type_id="standard",
        practitioner_id="lee",
        from_date=THURSDAY,
        from_time=None,
        part_of_day="afternoon",
        before_time=None,
        limit=5,
    )
    assert result.replies == ()


def test_correction_changes_only_what_it_names(ctx: DialogueContext) -> None:
    """ "make it Friday" at the slots keeps the type, practitioner and afternoon."""
    result = text(at_slots(ctx).state, "make it Friday", ctx)

    assert isinstance(result.command, FindSlots)
    assert result.command.from_date == FRIDAY
    assert result.command.part_of_day == "afternoon"
    assert result.command.practitioner_id == "lee"
    assert result.command.appointment_type_id == "standard"


def test_slots_offered_with_later_and_another_day(ctx: DialogueContext) -> None:
    """Slots come as numbered choices followed by "later" and "another day"."""
    offered = at_slots(ctx)

    labels = [choice.label for choice in offered.replies[0].choices]
    keys = [choice.key for choice in offered.replies[0].choices]

    assert labels == ["Thu 17 Jun 1pm", "Thu 17 Jun 2pm", "Thu 17 Jun 3pm", "Later times", "Another day"]
    assert keys == ["1", "2", "3", "4", "5"]
    assert offered.state.step == "BOOK_PICK"


def test_later_continues_after_last_slot(ctx: DialogueContext) -> None:
    """ "Later" searches from the last slot shown and skips the slots already offered."""
    result = text(at_slots(ctx).state, "4", ctx)

    assert isinstance(result.command, FindSlots)
    assert result.command.from_date == THURSDAY
    assert result.command.from_time == dt.time(15, 0)
    assert len(result.command.exclude) == 3


def test_read_back_then_yes_books(ctx: DialogueContext) -> None:
    """Picking a slot reads it back with Y and N; yes issues the booking command."""
    picked = text(at_slots(ctx).state, "2", ctx)
    confirmed = text(picked.state, "yes", ctx)

    assert picked.replies[0].text == "Standard consultation with Dr Mei Lee, Thu 17 Jun 2pm. Book it?"
    assert [c.key for c in picked.replies[0].choices] == ["Y", "N"]
    assert type(confirmed.command).__name__ == "Book"


def test_repeated_yes_reports_booking(ctx: DialogueContext) -> None:
    """A second yes after the booking names the reference and books nothing."""
    picked = text(at_slots(ctx).state, "2", ctx)
    confirmed = text(picked.state, "Y", ctx)
    starts = dt.datetime(2027, 6, 17, 4, 0, tzinfo=dt.UTC)
    booked = engine.step(confirmed.state, Booked("K7QM-4X2P", "lee", starts), ctx)

    again = text(booked.state, "yes", ctx)

    assert again.command is None
    assert again.replies[0].text == "That's done already: your reference is K7QM-4X2P."


def test_stale_choice_asks_again(ctx: DialogueContext) -> None:
    """A tap on a button of an earlier prompt is not applied; the current question is asked again."""
    offered = at_slots(ctx)
    old_choice = offered.replies[0].choices[0].id
    picked = text(offered.state, "2", ctx)

    result = engine.step(picked.state, ChoiceEvent(old_choice), ctx)

    assert result.command is None
    assert result.state == picked.state
    assert result.replies[0].text.startswith("That option is from an earlier message.")
    assert result.replies[0].choices == picked.replies[0].choices


def test_choice_from_other_conversation_is_stale(ctx: DialogueContext) -> None:
    """A choice id made up or from another conversation is recognised as stale."""
    offered = at_slots(ctx)

    for bogus in ["", "x", "c0ffee.99.0", "deadbeef.1.0", "c0ffee.1.99", "c0ffee..", "\x00" * 100]:
        result = engine.step(offered.state, ChoiceEvent(bogus), ctx)
        assert result.state == offered.state
        assert result.replies[0].text.startswith("That option is from an earlier message.")


def test_number_with_no_list_open_is_stale(ctx: DialogueContext) -> None:
    """A number typed at a yes/no read-back answers an old list, so the read-back is asked again."""
    picked = text(at_slots(ctx).state, "2", ctx)

    result = text(picked.state, "3", ctx)

    assert result.command is None
    assert result.replies[0].text.startswith("That option is from an earlier message.")
    assert result.state.step == "BOOK_CONFIRM"


def test_number_out_of_range(ctx: DialogueContext) -> None:
    """A number past the end of the open list asks for one in range and is never a date."""
    result = text(at_slots(ctx).state, "9", ctx)

    assert result.command is None
    assert result.replies[0].text.startswith("Please reply with a number from 1 to 5.")


def test_bare_number_at_when_is_not_a_date(ctx: DialogueContext) -> None:
    """At the "when" question a bare 2 is out of the one-option menu, not the 2nd of the month."""
    asked = text(engine.new_state("c0ffee"), "standard consult with dr lee", ctx)

    result = text(asked.state, "2", ctx)

    assert asked.state.step == "BOOK_WHEN"
    assert result.command is None
    assert result.replies[0].text.startswith("Please reply with a number from 1 to 1.")


def test_help_in_every_step(ctx: DialogueContext) -> None:
    """Help answers in every state and asks the current question again."""
    states = [engine.new_state("c0ffee"), at_slots(ctx).state, text(at_slots(ctx).state, "2", ctx).state]

    for state in states:
        result = text(state, "help", ctx)
        assert "02 9000 0000" in result.replies[0].text
        assert len(result.replies) == 2


def test_back_returns_to_previous_question(ctx: DialogueContext) -> None:
    """Back from the slots asks "when" again, and back from there asks for the practitioner."""
    when = text(at_slots(ctx).state, "back", ctx)
    practitioner = text(when.state, "back", ctx)

    assert when.state.step == "BOOK_WHEN"
    assert practitioner.state.step == "BOOK_PRACTITIONER"
    assert practitioner.replies[0].choices[-1].label == "First available"


def test_back_at_menu_has_nowhere_to_go(ctx: DialogueContext) -> None:
    """Back at the menu says there is no earlier step."""
    menu = text(engine.new_state("c0ffee"), "hi", ctx)

    result = text(menu.state, "back", ctx)

    assert result.replies[0].text.startswith("There is no earlier step")


def test_two_misunderstood_offer_phone(ctx: DialogueContext) -> None:
    """The second reply in a row the step cannot use offers help and the clinic's phone number."""
    first = text(at_slots(ctx).state, "purple", ctx)
    second = text(first.state, "elephant", ctx)

    assert first.replies[0].text.startswith("Sorry, I didn't understand that.")
    assert "02 9000 0000" not in first.replies[0].text
    assert "02 9000 0000" in second.replies[0].text
    assert "HELP" in second.replies[0].text
    assert second.state.misunderstood == 0


def test_menu_request_to_change_lists_bookings(ctx: DialogueContext) -> None:
    """ "I need to move my appointment" from the menu lists the patient's bookings."""
    result = text(engine.new_state("c0ffee"), "I need to move my appointment", ctx)

    assert result.command == ListBookings()


def test_cancel_past_cutoff_gives_phone(ctx: DialogueContext) -> None:
    """Cancelling a booking that starts within the cut-off explains and gives the phone number."""
    starts = NOW + dt.timedelta(hours=1)
    target = BookingTarget(1, "K7QM-4X2P", "standard", "lee", starts)
    state = replace(
        engine.new_state("c0ffee"), flow="bookings", step="BOOKING_ACTIONS", draft=Draft(target=target)
    )
    state = engine.STEPS["BOOKING_ACTIONS"].enter(state, ctx).state

    result = text(state, "c", ctx)

    assert result.command is None
    assert result.replies[0].text == (
        "K7QM-4X2P starts too soon to cancel by message. Please call us on 02 9000 0000."
    )
    assert result.state.step == "IDLE"


def test_unknown_step_shows_menu(ctx: DialogueContext) -> None:
    """A state naming a step that no longer exists falls back to the menu."""
    state = replace(engine.new_state("c0ffee"), step="NO_SUCH_STEP")

    result = text(state, "hello", ctx)

    assert result.state.step == "MENU"
