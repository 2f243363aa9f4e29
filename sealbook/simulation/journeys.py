"""Journeys of simulated patients in the chat: book, give an e-mail address, ask for status, move and cancel.

Each journey is the sequence of messages a person would send, checked
against what the bot replies at every step, on any channel. A choice is
found by the start of its Telegram label or of its SMS label, because SMS
labels avoid words such as YES and CANCEL that carriers act on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sealbook.simulation.patients import ConversationError, Exchange, Patient


@dataclass(frozen=True)
class Offered:
    """A slot the bot offered and the patient has not yet confirmed: the exchange that offered it."""

    patient: Patient
    exchange: Exchange
    slot_label: str


def ask_for_slot(patient: Patient, request: str, expected_slot: str) -> Offered:
    """Ask for an appointment in free text and pick the first time offered, which must be `expected_slot`.

    Returns at the read-back, before the patient says yes.
    """
    offered = patient.send(request)
    first = offered.first_option()
    if first.label != expected_slot:
        raise ConversationError(
            f"{patient.name} asked {request!r} and expected {expected_slot!r} first; offered {first.label!r}"
        )
    read_back = patient.choose(first)
    return Offered(patient, read_back, first.label)


def confirm(offered: Offered) -> Exchange:
    """Confirm a read-back and return the bot's reply (a reference, or the news that the slot was taken)."""
    return offered.patient.choose(offered.exchange.option("Yes", "Book it"))


def book(patient: Patient, request: str, expected_slot: str) -> str:
    """Book in free text, taking the first slot offered (which must be `expected_slot`); return the reference."""
    answer = confirm(ask_for_slot(patient, request, expected_slot))
    if "reference is" not in answer.text:
        raise ConversationError(f"{patient.name} expected a booking; the bot sent: {answer.text!r}")
    return answer.reference()


def give_email(patient: Patient, address: str) -> None:
    """Ask for e-mail confirmations from the menu and give `address`."""
    menu = patient.send("menu")
    prompt = patient.choose(menu.option("E-mail"))
    if "e-mail address" not in prompt.text:
        raise ConversationError(f"{patient.name} expected to be asked for an address; got {prompt.text!r}")
    saved = patient.send(address)
    if "Thanks" not in saved.text:
        raise ConversationError(f"{patient.name} expected the address to be saved; got {saved.text!r}")


def ask_status(patient: Patient) -> str:
    """Send STATUS and return the reply text."""
    return patient.send("status").text


def open_booking(patient: Patient, reference: str) -> Exchange:
    """List the patient's bookings and pick the one with `reference`."""
    listing = patient.send("my appointments")
    return patient.choose(listing.option(reference))


def move(patient: Patient, reference: str, when: str, expected_slot: str) -> str:
    """Move the booking to the first time offered for `when`, which must be `expected_slot`; return the reply text."""
    actions = open_booking(patient, reference)
    patient.choose(actions.option("Move"))
    offered = patient.send(when)
    first = offered.first_option()
    if first.label != expected_slot:
        raise ConversationError(
            f"{patient.name} expected {expected_slot!r} to move to; offered {first.label!r}"
        )
    read_back = patient.choose(first)
    done = patient.choose(read_back.option("Yes", "Move it"))
    if "is now" not in done.text:
        raise ConversationError(
            f"{patient.name} expected the move of {reference} to be done; got {done.text!r}"
        )
    return done.text


def cancel(patient: Patient, reference: str) -> str:
    """Cancel the booking with `reference`, confirming the read-back; return the reply text."""
    actions = open_booking(patient, reference)
    read_back = patient.choose(actions.option("Cancel", "Call it off"))
    done = patient.choose(read_back.option("Yes", "Call it off"))
    if "cancelled" not in done.text:
        raise ConversationError(f"{patient.name} expected {reference} to be cancelled; got {done.text!r}")
    return done.text
