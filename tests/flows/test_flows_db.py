"""Each conversation end to end through the runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from booking.late import check_in, declare_late, finish_consult, start_consult
from booking.status import BookingStatus
from booking.store import add_staff_override, load_clinic
from booking.views import bookings_for_contact, get_booking
from bot.console import ConsoleContactActions
from crypto import init_keyrings, load_front_keyring
from flows.render import fits_channel
from sealbook.clock import FixedClock
from storage.models.contacts import Contact
from storage.models.dialogue import DialogueStateRow
from tests.flows.conftest import NOW, Chat, make_contact


def book_first_slot(chat: Chat) -> str:
    """Book the first free standard consult with Dr Lee on Thursday morning; return the reference."""
    chat.send("standard consult with Dr Lee thursday morning")
    chat.send("1")
    chat.send("Y")
    booked = chat.last().text
    assert booked.startswith("Booked. Your reference is ")
    return booked.removeprefix("Booked. Your reference is ")[:9]


def close_day(chat: Chat, practitioner_id: str, day: dt.date) -> None:
    """Close a practitioner's day as staff leave does, and give the chat the reloaded clinic."""
    with chat.session_factory() as session, session.begin():
        add_staff_override(session, practitioner_id=practitioner_id, day=day, sessions=(), reason="leave")
    with chat.session_factory() as session:
        chat.clinic = load_clinic(session)


def slot_labels(chat: Chat) -> list[str]:
    """Return the labels of the slots offered in the last reply, without "Later times" and "Another day"."""
    return [choice.label for choice in chat.last().choices][:-2]


def active(chat: Chat) -> list[tuple[str, dt.datetime, str]]:
    """Return the chat contact's active bookings as (reference, start, status)."""
    with chat.session_factory() as session:
        views = bookings_for_contact(session, chat.contact_id, chat.now)
    return [(v.reference, v.starts_at, v.status.value) for v in views]


def test_book_by_taps(chat: Chat) -> None:
    """Menu, type, practitioner, when, slot and yes, all by tapping, make one booking."""
    chat.send("hi")
    chat.tap("Book")
    chat.tap("Long consultation")
    chat.tap("First available")
    chat.tap("As soon as possible")
    slot_label = chat.last().choices[0].label
    chat.tap(slot_label)
    chat.tap("Book it")

    assert chat.last().text.startswith("Booked. Your reference is ")
    bookings = active(chat)
    assert len(bookings) == 1
    assert bookings[0][2] == "booked"
    assert chat.last().text.endswith(slot_label.split(" Dr ")[0] + ".")


def test_book_in_one_message(chat: Chat) -> None:
    """A request naming type, practitioner and when goes straight to slots on that day."""
    replies = chat.send("standard consult with Dr Lee tomorrow afternoon")

    assert replies[0].text == "Free times for a Standard consultation with Dr Mei Lee:"
    assert replies[0].choices[0].label == "Thu 17 Jun 12pm"
    assert [c.label for c in replies[0].choices[-2:]] == ["Later times", "Another day"]


def test_repeated_yes_books_once(chat: Chat) -> None:
    """Y sent twice after the read-back makes one booking and repeats its reference."""
    reference = book_first_slot(chat)

    again = chat.send("Y")

    assert again[0].text == f"That's done already: your reference is {reference}."
    assert len(active(chat)) == 1


def test_my_bookings_and_status(chat: Chat) -> None:
    """My bookings lists the booking by reference and local time; status reports it on time."""
    reference = book_first_slot(chat)

    listed = chat.send("my bookings")
    chat.send("1")
    status = chat.send("s")

    assert listed[0].text == "Your appointments:"
    assert listed[0].choices[0].label == f"{reference} Thu 17 Jun 8:30am"
    assert status[0].text == f"{reference} with Dr Mei Lee, Thu 17 Jun 8:30am: on time so far."


def test_move_keeps_reference(chat: Chat) -> None:
    """Moving reads back old and new times, and after yes the same reference has the new time."""
    reference = book_first_slot(chat)

    chat.send("list")
    chat.send(reference.lower().replace("-", ""))
    chat.send("M")
    chat.send("fri arvo")
    chat.send("1")
    readback = chat.last().text
    chat.send("y")

    assert readback == (
        f"Move {reference} from Thu 17 Jun 8:30am to Fri 18 Jun 12pm with Dr Mei Lee? Reply Y or N."
    )
    assert chat.last().text == f"Done. {reference} is now Fri 18 Jun 12pm with Dr Mei Lee."
    bookings = active(chat)
    assert [b[0] for b in bookings] == [reference]
    assert bookings[0][1] == dt.datetime(2027, 6, 18, 2, 0, tzinfo=dt.UTC)


def test_cancel_frees_booking(chat: Chat) -> None:
    """Cancelling reads the booking back, and after Y it is cancelled."""
    reference = book_first_slot(chat)

    chat.send("list")
    chat.send("1")
    readback = chat.send("C")
    chat.send("yes")

    assert readback[0].text == (
        f"Call off {reference}, Standard consultation on Thu 17 Jun 8:30am? Reply Y or N."
    )
    assert [c.label for c in readback[0].choices] == ["Call it off", "No, keep it"]
    assert chat.last().text == f"{reference} is cancelled."
    assert active(chat) == []
    with chat.session_factory() as session:
        assert get_booking(session, reference).status is BookingStatus.CANCELLED


def test_cancel_no_keeps_booking(chat: Chat) -> None:
    """N at the cancel read-back keeps the booking."""
    reference = book_first_slot(chat)

    chat.send("list")
    chat.send("1")
    chat.send("C")
    chat.send("N")

    assert chat.last().text == f"OK, {reference} stays as it is."
    assert len(active(chat)) == 1


def test_move_past_cutoff_gives_phone(chat: Chat) -> None:
    """Three hours before the start (cut-off four hours) a move is refused with the clinic's number."""
    reference = book_first_slot(chat)
    chat.now = dt.datetime(2027, 6, 16, 22, 30, tzinfo=dt.UTC) - dt.timedelta(hours=3)

    chat.send("list")
    chat.send("1")
    replies = chat.send("m")

    assert (
        replies[0].text == f"{reference} starts too soon to move by message. Please call us on 02 9000 0000."
    )
    assert active(chat)[0][1] == dt.datetime(2027, 6, 16, 22, 30, tzinfo=dt.UTC)


def test_cancel_past_cutoff_at_confirm(chat: Chat) -> None:
    """A cut-off passing between the read-back and the yes still refuses, with the number."""
    reference = book_first_slot(chat)
    starts = dt.datetime(2027, 6, 16, 22, 30, tzinfo=dt.UTC)
    chat.now = starts - dt.timedelta(hours=2, minutes=10)
    chat.send("list")
    chat.send("1")
    chat.send("c")
    chat.now = starts - dt.timedelta(hours=1, minutes=50)

    replies = chat.send("y")

    assert (
        replies[0].text
        == f"{reference} starts too soon to cancel by message. Please call us on 02 9000 0000."
    )
    assert active(chat)[0][2] == "booked"


def test_slot_taken_offers_alternatives(session_factory: sessionmaker[Session], chat: Chat) -> None:
    """When another patient books the slot first, the yes gets an apology and fresh times."""
    rival = Chat(session_factory, chat.clinic, make_contact(session_factory))
    chat.send("standard consult with Dr Lee thursday morning")
    chat.send("1")
    book_first_slot(rival)

    replies = chat.send("Y")

    labels = slot_labels(chat)
    starts = [_label_time(label) for label in labels]

    assert replies[0].text.startswith("Sorry, that time is no longer available.")
    assert replies[0].choices[0].label == "Thu 17 Jun 8:45am"
    assert len(starts) > 1
    assert starts == sorted(starts)
    assert active(chat) == []


def _label_time(label: str) -> dt.datetime:
    """Read a slot label such as "Thu 17 Jun 8:45am" or "Thu 17 Jun 9am" (year 2027)."""
    text = label.split(" with ")[0] + " 2027"
    form = "%a %d %b %I:%M%p %Y" if ":" in text else "%a %d %b %I%p %Y"
    return dt.datetime.strptime(text, form)


def test_slot_on_leave_offers_same_practitioner(chat: Chat) -> None:
    """A time lost to leave after the read-back is replaced by the requested practitioner's other times."""
    chat.send("standard consult with Dr Lee friday 9am")
    chat.send("1")
    close_day(chat, "lee", dt.date(2027, 6, 18))

    replies = chat.send("Y")
    labels = slot_labels(chat)
    readback = chat.send("1")

    assert replies[0].text.startswith("Sorry, that time is no longer available.")
    assert replies[0].text.endswith("\nFree times for a Standard consultation with Dr Mei Lee:")
    assert labels != []
    assert [label for label in labels if label.startswith("Fri 18 Jun") or "Dr" in label] == []
    assert readback[0].text.startswith(f"Standard consultation with Dr Mei Lee, {labels[0]}.")
    assert active(chat) == []


def test_leave_without_other_times_offers_others(chat: Chat) -> None:
    """When the requested practitioner has nothing left, other practitioners' times are offered by name."""
    chat.send("standard consult with Dr Lee 13/8 9am")
    chat.send("1")
    close_day(chat, "lee", dt.date(2027, 8, 13))

    replies = chat.send("Y")
    labels = slot_labels(chat)
    readback = chat.send("1")

    assert replies[0].text == (
        "Sorry, that time is no longer available. Dr Mei Lee has no other free times from then on."
        "\nFree times for a Standard consultation with other practitioners:"
    )
    assert labels[0] == "Fri 13 Aug 9am Dr Tom Okafor"
    assert [label for label in labels if " Dr " not in label or "Lee" in label] == []
    assert readback[0].text.startswith("Standard consultation with Dr Tom Okafor, Fri 13 Aug 9am.")


def test_move_on_leave_offers_others(chat: Chat) -> None:
    """A move whose new time is lost to leave offers other practitioners' times, each with its name."""
    reference = book_first_slot(chat)
    chat.send("list")
    chat.send("1")
    chat.send("M")
    chat.send("13/8 9am")
    chat.send("1")
    close_day(chat, "lee", dt.date(2027, 8, 13))

    replies = chat.send("Y")
    labels = slot_labels(chat)
    chat.send("1")
    readback = chat.last().text
    chat.send("Y")

    assert replies[0].text == (
        "Sorry, that time is no longer available. Dr Mei Lee has no other free times from then on."
        "\nFree times for a Standard consultation with other practitioners:"
    )
    assert labels[0] == "Fri 13 Aug 9am Dr Tom Okafor"
    assert readback == (
        f"Move {reference} from Thu 17 Jun 8:30am with Dr Mei Lee to Fri 13 Aug 9am with Dr Tom Okafor?"
        " Reply Y or N."
    )
    assert chat.last().text == f"Done. {reference} is now Fri 13 Aug 9am with Dr Tom Okafor."


def test_other_patients_reference_not_listed(session_factory: sessionmaker[Session], chat: Chat) -> None:
    """A reference that belongs to another contact is not offered and cannot be picked."""
    rival = Chat(session_factory, chat.clinic, make_contact(session_factory))
    theirs = book_first_slot(rival)
    book_first_slot_friday = chat.send("standard consult with Dr Lee friday 9am")
    chat.send("1")
    chat.send("y")
    del book_first_slot_friday

    chat.send("list")
    replies = chat.send(theirs)

    assert replies[0].text.startswith("None of your appointments has that reference.\nYour appointments:")


def test_idle_conversation_expires_with_note(chat: Chat) -> None:
    """An unfinished SMS conversation silent past its expiry restarts with a short note."""
    chat.send("standard consult with Dr Lee")
    chat.now = NOW + dt.timedelta(minutes=121)

    replies = chat.send("tomorrow")

    assert replies[0].text == "Our earlier chat timed out, so let's start again."
    assert replies[1].text == "Which type of appointment?"


def test_telegram_expires_sooner_than_sms(session_factory: sessionmaker[Session], chat: Chat) -> None:
    """After 45 minutes a Telegram conversation has expired while an SMS one goes on."""
    telegram = Chat(session_factory, chat.clinic, make_contact(session_factory), channel="telegram")
    for driver in (chat, telegram):
        driver.send("standard consult with Dr Lee")
        driver.now = NOW + dt.timedelta(minutes=45)

    sms_replies = chat.send("tomorrow")
    telegram_replies = telegram.send("tomorrow")

    assert sms_replies[0].text.startswith("Free times")
    assert telegram_replies[0].text == "Our earlier chat timed out, so let's start again."


def test_unreadable_state_starts_afresh(chat: Chat) -> None:
    """A damaged state row is replaced by a new conversation, not an error."""
    chat.send("standard consult with Dr Lee")
    with chat.session_factory() as session, session.begin():
        session.execute(update(DialogueStateRow).values(state={"format": 1, "step": 5}))

    replies = chat.send("hi")

    assert replies[0].text.startswith("Hi, this is Harbourside Family Practice.")


def test_email_for_invites(tmp_path: Path, chat: Chat) -> None:
    """An e-mail address is checked, attached through the contact layer and never stored in the state."""
    keys = tmp_path / "keys"
    init_keyrings(keys, now=NOW)
    chat.contact_actions = ConsoleContactActions(load_front_keyring(keys))

    chat.send("email")
    invalid = chat.send("not an address")
    saved = chat.send("Jane.Citizen@Example.org")

    assert invalid[0].text.startswith("That doesn't look like an e-mail address.")
    assert saved[0].text == "Thanks. Confirmations will also go to that address, with a calendar file."
    with chat.session_factory() as session:
        owner = session.get_one(Contact, chat.contact_id)
        assert owner.email_contact_id is not None
        stored = session.scalars(select(DialogueStateRow.state)).all()
    assert "example" not in json.dumps(stored).lower()


def test_email_unavailable_without_contact_layer(chat: Chat) -> None:
    """Without contact actions the patient is told e-mail is not available, and nothing fails."""
    chat.send("email")
    replies = chat.send("jane@example.org")

    assert replies[0].text == "Sorry, e-mail confirmations are not available yet."


@pytest.mark.parametrize("channel", ["sms", "telegram", "console"])
def test_replies_fit_channel(session_factory: sessionmaker[Session], chat: Chat, channel: str) -> None:
    """Every reply of a full booking fits the channel it is sent on."""
    driver = Chat(session_factory, chat.clinic, make_contact(session_factory), channel=channel)  # type: ignore[arg-type]
    for message in ["hi", "1", "1", "4", "tomorrow", "1", "y", "list", "1", "s", "help", "status"]:
        for reply in driver.send(message):
            assert fits_channel(reply, driver.channel)


def test_status_shows_declared_delay(chat: Chat) -> None:
    """After staff declare Dr Lee 45 minutes late, STATUS on the day gives the projected time."""
    reference = book_first_slot(chat)
    chat.now = dt.datetime(2027, 6, 16, 22, 0, tzinfo=dt.UTC)  # Thursday 08:00 in Sydney
    with chat.session_factory() as session, session.begin():
        declare_late(
            session,
            chat.clinic,
            practitioner_id="lee",
            minutes=45,
            local_date=dt.date(2027, 6, 17),
            now=chat.now,
            actor="staff:test",
        )

    chat.send("my bookings")
    chat.send("1")
    status = chat.send("s")

    assert reference in status[0].text
    assert "9:15am" in status[0].text
    assert "on time" not in status[0].text


# Thursday 17 June 2027, 08:00 in Sydney, the morning of the booking `book_first_slot` makes.
THURSDAY_MORNING = dt.datetime(2027, 6, 16, 22, 0, tzinfo=dt.UTC)


def declare_lee_late(chat: Chat, minutes: int, now: dt.datetime) -> None:
    """Declare Dr Lee late on Thursday, as the staff tool does."""
    with chat.session_factory() as session, session.begin():
        declare_late(
            session,
            chat.clinic,
            practitioner_id="lee",
            minutes=minutes,
            local_date=dt.date(2027, 6, 17),
            now=now,
            actor="staff:test",
        )


def test_status_after_scheduled_end(chat: Chat) -> None:
    """A patient still waiting after their booking's scheduled end hears its expected start."""
    reference = book_first_slot(chat)
    clock = FixedClock(THURSDAY_MORNING)
    declare_lee_late(chat, 45, clock.now())
    clock.set(THURSDAY_MORNING + dt.timedelta(hours=1))  # 9:00, after the 8:30-8:45 booking's end.
    chat.now = clock.now()

    replies = chat.send("status")

    assert [reply.text for reply in replies] == [
        f"{reference} with Dr Mei Lee, booked for Thu 17 Jun 8:30am: now expected at about Thu 17 Jun 9:15am."
    ]


def test_status_drops_finished_and_past_days(chat: Chat) -> None:
    """STATUS leaves out a finished consult, and an unseen booking once its day is over."""
    finished = book_first_slot(chat)
    offered = chat.send("standard consult with Dr Lee thursday 9am")
    chat.send("1")
    booked = chat.send("Y")
    unseen = booked[0].text.removeprefix("Booked. Your reference is ")[:9]
    clock = FixedClock(THURSDAY_MORNING + dt.timedelta(minutes=30))
    with chat.session_factory() as session, session.begin():
        start_consult(session, chat.clinic, reference=finished, now=clock.now(), actor="staff:test")
    clock.advance(dt.timedelta(minutes=20))
    with chat.session_factory() as session, session.begin():
        finish_consult(session, chat.clinic, reference=finished, now=clock.now(), actor="staff:test")
    clock.set(THURSDAY_MORNING + dt.timedelta(hours=2))  # 10:00, after both scheduled ends.
    chat.now = clock.now()

    same_day = chat.send("status")
    clock.set(THURSDAY_MORNING + dt.timedelta(days=1))
    chat.now = clock.now()
    next_day = chat.send("status")

    assert offered[0].choices[0].label == "Thu 17 Jun 9am"
    assert [reply.text for reply in same_day] == [
        f"{unseen} with Dr Mei Lee, booked for Thu 17 Jun 9am: now expected at about Thu 17 Jun 10am."
    ]
    assert finished not in same_day[0].text
    assert [reply.text for reply in next_day] == ["You have no upcoming appointments."]


def test_checked_in_booking_shows_status(chat: Chat) -> None:
    """Picking a checked-in booking from My bookings reports its status and offers no move or cancel."""
    reference = book_first_slot(chat)
    clock = FixedClock(THURSDAY_MORNING + dt.timedelta(minutes=20))
    with chat.session_factory() as session, session.begin():
        check_in(session, chat.clinic, reference=reference, now=clock.now(), actor="staff:test")
    declare_lee_late(chat, 30, clock.now())
    clock.set(THURSDAY_MORNING + dt.timedelta(minutes=50))  # 8:50, after the booking's scheduled end.
    chat.now = clock.now()

    listed = chat.send("my bookings")
    picked = chat.send("1")

    assert listed[0].choices[0].label == f"{reference} Thu 17 Jun 8:30am"
    assert [reply.text for reply in picked] == [
        f"{reference} with Dr Mei Lee, booked for Thu 17 Jun 8:30am: now expected at about Thu 17 Jun 9am."
    ]
    keys = [choice.key for reply in picked for choice in reply.choices]
    assert "M" not in keys
    assert "C" not in keys
