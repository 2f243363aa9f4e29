"""The pure step function, without a database: commands issued, prompts, stale choices, help and back."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from booking.clinic import Clinic
from flows import engine
from flows.commands import Booked, BookingsListed, BookingView, FindSlots, ListBookings, SlotsFound, SlotView
from flows.dialogue import DialogueContext, StepResult
from flows.matching import practitioner_phrases
from flows.render import fits_channel
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

    assert (
        picked.replies[0].text
        == "Standard consultation with Dr Mei Lee, Thu 17 Jun 2pm. Book it? Reply Y or N."
    )
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

    serial = offered.state.serial
    forged = [f"c0ffee.{serial}.\u00b2", "c0ffee.\u00b2.0", f"c0ffee.{serial}.\u0663", f"c0ffee.{serial}.-1"]
    for bogus in ["", "x", "c0ffee.99.0", "deadbeef.1.0", "c0ffee.1.99", "c0ffee..", "\x00" * 100, *forged]:
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
    assert result.replies[0].text.startswith("Please reply 1 for the option below.")


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
    assert "MENU" in second.replies[0].text
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


def booked_state(ctx: DialogueContext) -> DialogueState:
    """Return the state right after a standard consult with Dr Lee was booked as K7QM-4X2P."""
    picked = text(at_slots(ctx).state, "2", ctx)
    confirmed = text(picked.state, "Y", ctx)
    starts = dt.datetime(2027, 6, 17, 4, 0, tzinfo=dt.UTC)
    return engine.step(confirmed.state, Booked("K7QM-4X2P", "lee", starts), ctx).state


def test_yes_at_a_later_question_is_not_done_already(ctx: DialogueContext) -> None:
    """A yes sent to a slot list opened after a booking is not reported as that booking."""
    asked = text(booked_state(ctx), "book standard with dr lee friday 2pm", ctx)
    offered = engine.step(asked.state, slots(ctx, 14, 15, day=FRIDAY), ctx)

    result = text(offered.state, "y", ctx)

    assert all("done already" not in reply.text for reply in result.replies)
    assert result.state.completed is None


def test_no_after_the_yes_won_reports_done(ctx: DialogueContext) -> None:
    """When Y and N race and Y applies first, the N is answered with the reference."""
    result = text(booked_state(ctx), "N", ctx)

    assert result.replies[0].text == "That's done already: your reference is K7QM-4X2P."


def test_yes_after_no_won_is_not_done(ctx: DialogueContext) -> None:
    """When N applies first at a second read-back, the Y that follows does not report the first booking."""
    asked = text(booked_state(ctx), "book standard with dr lee friday 2pm", ctx)
    offered = engine.step(asked.state, slots(ctx, 14, 15, day=FRIDAY), ctx)
    read_back = text(offered.state, "1", ctx)
    refused = text(read_back.state, "N", ctx)
    reoffered = engine.step(refused.state, slots(ctx, 14, 15, day=FRIDAY), ctx)

    result = text(reoffered.state, "Y", ctx)

    assert all("done already" not in reply.text for reply in result.replies)


def test_sms_drops_slots_before_cutting_text(demo_clinic: Clinic) -> None:
    """On SMS a long practitioner name costs offered slots, not the end of the question."""
    long_name = ("Dr Maria-Josefina Alessandra Featherstonehaugh-Wolfeschlegelsteinhausen " * 3)[:200]
    practitioners = tuple(
        replace(p, display_name=long_name) if p.id == "lee" else p for p in demo_clinic.practitioners
    )
    clinic = replace(demo_clinic, practitioners=practitioners)
    ctx = DialogueContext(clinic, templates_for(clinic), "sms", NOW)

    offered = at_slots(ctx)

    reply = offered.replies[0]
    labels = [choice.label for choice in reply.choices]
    assert reply.text == f"Free times for a Standard consultation with {long_name}:"
    assert labels[-2:] == ["Later times", "Another day"]
    assert 1 <= len(labels) - 2 < 3
    assert fits_channel(reply, "sms")


@pytest.fixture
def named_ctx(demo_clinic: Clinic) -> DialogueContext:
    """Return a context whose Dr Lee and Dr Nair have accented names and a role in the title."""
    names = {
        "lee": "Dr \u0141ukasz Nguy\u1ec5n-O\u2019Brien",
        "nair": "Nurse Practitioner Zo\u00eb \u00c5ngstr\u00f6m",
    }
    practitioners = tuple(
        replace(p, display_name=names.get(p.id, p.display_name)) for p in demo_clinic.practitioners
    )
    clinic = replace(demo_clinic, practitioners=practitioners)
    return DialogueContext(clinic, templates_for(clinic), "sms", NOW)


def test_any_practitioner_is_first_available(named_ctx: DialogueContext) -> None:
    """ "Any practitioner" means first available even when a title contains "Practitioner"."""
    result = text(engine.new_state("c0ffee"), "standard with any practitioner friday 9am", named_ctx)

    assert isinstance(result.command, FindSlots)
    assert result.command.practitioner_id is None
    assert result.command.from_date == FRIDAY


@pytest.mark.parametrize(
    ("message", "expected"),
    [("standard with dr nguyen friday 9am", "lee"), ("standard with zoe angstrom friday 9am", "nair")],
)
def test_names_match_without_accents(named_ctx: DialogueContext, message: str, expected: str) -> None:
    """A name typed without its accents matches the practitioner."""
    result = text(engine.new_state("c0ffee"), message, named_ctx)

    assert isinstance(result.command, FindSlots)
    assert result.command.practitioner_id == expected


def test_name_phrases_are_whole_names(named_ctx: DialogueContext) -> None:
    """No phrase that names a practitioner is a role word, a single letter or a piece of a word."""
    for practitioner in named_ctx.clinic.practitioners:
        phrases = practitioner_phrases(practitioner.id, practitioner.display_name)
        assert "practitioner" not in phrases
        assert "nurse" not in phrases
        assert all(len(part) > 1 for phrase in phrases for part in phrase.replace("-", " ").split())
        assert "zo ngstr m" not in phrases


def test_tom_is_tomorrow_unless_titled(ctx: DialogueContext) -> None:
    """ "tom 3pm" is tomorrow at 3pm; "Dr Tom" still names Dr Tom Okafor."""
    as_date = text(engine.new_state("c0ffee"), "standard consult tom 3pm", ctx)
    as_name = text(engine.new_state("c0ffee"), "standard consult with dr tom friday 3pm", ctx)

    assert as_date.state.draft.date == THURSDAY
    assert as_date.state.draft.time == dt.time(15, 0)
    assert as_date.state.draft.practitioner_chosen is False
    assert isinstance(as_name.command, FindSlots)
    assert as_name.command.practitioner_id == "okafor"


def bookings_list(ctx: DialogueContext) -> StepResult:
    """Return the result of asking for "my bookings" and getting two bookings back."""
    asked = text(engine.new_state("c0ffee"), "my bookings", ctx)
    starts = dt.datetime(2027, 6, 17, 4, 0, tzinfo=dt.UTC)
    listed = BookingsListed(
        (
            BookingView(1, "K7QM-4X2P", "standard", "lee", starts, starts),
            BookingView(2, "H3RT-9W2C", "long", "nair", starts, starts),
        )
    )
    return engine.step(asked.state, listed, ctx)


@pytest.mark.parametrize(
    ("reach", "replies"),
    [
        ("email", ["purple", "not an address"]),
        ("bookings", ["ZZZZ-ZZZZ", "YYYY-YYYY"]),
        ("readback", ["3", "3"]),
    ],
)
def test_two_misunderstood_hand_off_at_every_step(
    ctx: DialogueContext, reach: str, replies: list[str]
) -> None:
    """At the e-mail step, the bookings list and a read-back, two unusable replies give the phone number."""
    if reach == "email":
        state = text(engine.new_state("c0ffee"), "email", ctx).state
    elif reach == "bookings":
        state = bookings_list(ctx).state
    else:
        state = text(at_slots(ctx).state, "2", ctx).state
    step = state.step

    first = text(state, replies[0], ctx)
    second = text(first.state, replies[1], ctx)

    assert all("02 9000 0000" not in reply.text for reply in first.replies)
    assert "02 9000 0000" in second.replies[0].text
    assert second.state.step == step
    assert len(second.replies) == 2


@pytest.mark.parametrize("decline", ["no thanks", "skip", "No"])
def test_email_step_can_be_declined(ctx: DialogueContext, decline: str) -> None:
    """ "No", "skip" or "no thanks" at the e-mail step leaves it for the menu."""
    state = text(engine.new_state("c0ffee"), "email", ctx).state

    result = text(state, decline, ctx)

    assert result.state.step == "MENU"
    assert result.command is None


def test_new_request_at_bookings_list_starts_booking(ctx: DialogueContext) -> None:
    """A booking request typed while the bookings list is open starts booking, keeping what it names."""
    listed = bookings_list(ctx)

    result = text(listed.state, "standard with okafor tomorrow 5pm", ctx)

    assert isinstance(result.command, FindSlots)
    assert result.command.practitioner_id == "okafor"
    assert result.command.from_date == THURSDAY
    assert result.command.from_time == dt.time(17, 0)


@pytest.mark.parametrize(("checked_in", "step"), [(False, "BOOKING_ACTIONS"), (True, "STATUS_ONE")])
def test_typed_reference_by_check_in(ctx: DialogueContext, checked_in: bool, step: str) -> None:
    """A typed reference opens the actions of a booked booking, but the status of a checked-in one."""
    opened = text(engine.new_state("c0ffee"), "my bookings", ctx)
    starts = dt.datetime(2027, 6, 17, 4, 0, tzinfo=dt.UTC)
    view = BookingView(1, "K7QM-4X2P", "standard", "lee", starts, starts, checked_in=checked_in)
    listed = engine.step(opened.state, BookingsListed((view,)), ctx)

    result = text(listed.state, "k7qm4x2p", ctx)

    assert result.state.step == step
    assert result.state.draft.target is not None
    assert result.state.draft.target.reference == "K7QM-4X2P"
    assert isinstance(result.command, ListBookings) is checked_in


def test_new_request_at_email_step_starts_booking(ctx: DialogueContext) -> None:
    """ "standard tmrw 3pm" at the e-mail step is a booking request, not a bad address."""
    state = text(engine.new_state("c0ffee"), "email", ctx).state

    result = text(state, "standard tmrw 3pm", ctx)

    assert result.state.flow == "book"
    assert result.state.draft.date == THURSDAY


def cancel_read_back(ctx: DialogueContext) -> StepResult:
    """Return the cancel read-back of a booking two days ahead."""
    starts = NOW + dt.timedelta(days=2)
    target = BookingTarget(1, "K7QM-4X2P", "standard", "lee", starts)
    state = replace(
        engine.new_state("c0ffee"), flow="bookings", step="BOOKING_ACTIONS", draft=Draft(target=target)
    )
    state = engine.STEPS["BOOKING_ACTIONS"].enter(state, ctx).state
    return text(state, "c", ctx)


def test_cancel_it_at_cancel_read_back_means_yes(ctx: DialogueContext) -> None:
    """ "cancel it" at the cancel read-back cancels; a bare "cancel" does not."""
    read_back = cancel_read_back(ctx)

    said_it = text(read_back.state, "Cancel it", ctx)
    bare = text(read_back.state, "cancel", ctx)

    assert type(said_it.command).__name__ == "Cancel"
    assert bare.command is None


def test_later_at_book_read_back_shows_later_times(ctx: DialogueContext) -> None:
    """ "later" at the booking read-back searches for later times."""
    picked = text(at_slots(ctx).state, "2", ctx)

    result = text(picked.state, "later", ctx)

    assert isinstance(result.command, FindSlots)
    assert result.command.from_time == dt.time(15, 0)


def move_slots(ctx: DialogueContext) -> StepResult:
    """Return the result of moving the first listed booking to Friday morning and getting slots."""
    actions = text(bookings_list(ctx).state, "1", ctx)
    requested = text(text(actions.state, "Move", ctx).state, "friday morning", ctx)
    return engine.step(requested.state, slots(ctx, 9, 10, 11, day=FRIDAY), ctx)


def test_move_slots_page_on_later(ctx: DialogueContext) -> None:
    """ "later" at the move's slots searches after the last slot shown, for the same booking."""
    offered = move_slots(ctx)

    result = text(offered.state, "later", ctx)

    assert offered.state.step == "MOVE_PICK"
    assert result.state.step == "MOVE_PICK"
    assert isinstance(result.command, FindSlots)
    assert result.command.from_date == FRIDAY
    assert result.command.from_time == dt.time(11, 0)
    assert len(result.command.exclude) == 3
    assert result.command.moving_reference == "K7QM-4X2P"


def test_move_slots_read_new_day(ctx: DialogueContext) -> None:
    """Other text at the move's slots is read as a new time, keeping the part of the day."""
    result = text(move_slots(ctx).state, "thursday", ctx)

    assert result.state.step == "MOVE_PICK"
    assert isinstance(result.command, FindSlots)
    assert result.command.from_date == THURSDAY
    assert result.command.part_of_day == "morning"
    assert result.command.exclude == ()


def test_move_slot_picked_reads_back(ctx: DialogueContext) -> None:
    """Picking a slot while moving reads back the old and the new time."""
    result = text(move_slots(ctx).state, "2", ctx)

    assert result.state.step == "MOVE_CONFIRM"
    assert "Fri 18 Jun 10am" in result.replies[0].text
    assert "Thu 17 Jun 2pm" in result.replies[0].text
