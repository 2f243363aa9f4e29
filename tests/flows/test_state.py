"""The dialogue state's JSON form: round trips, and damaged documents are rejected."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from flows.state import (
    BookingTarget,
    Completed,
    DialogueState,
    Draft,
    Offer,
    Prompt,
    StateCorrupt,
    decode_state,
    encode_state,
)

FULL_STATE = DialogueState(
    conversation="c0ffee",
    flow="move",
    step="MOVE_CONFIRM",
    prompt=Prompt(
        7, "move.readback", {"reference": "K7QM-4X2P"}, (Offer("Y", "yes"), Offer("N", "no")), ("Yes", "No")
    ),
    draft=Draft(
        appointment_type_id="standard",
        practitioner_id="lee",
        practitioner_chosen=True,
        date=dt.date(2027, 6, 18),
        time=dt.time(14, 30),
        part_of_day="afternoon",
        time_bound="after",
        when_given=True,
        offered=("lee|2027-06-18T04:30:00+00:00",),
        search_from=dt.datetime(2027, 6, 18, 4, 30, tzinfo=dt.UTC),
        slot_practitioner_id="lee",
        slot_starts_at=dt.datetime(2027, 6, 18, 4, 30, tzinfo=dt.UTC),
        target=BookingTarget(
            3, "K7QM-4X2P", "standard", "lee", dt.datetime(2027, 6, 17, 4, 0, tzinfo=dt.UTC)
        ),
    ),
    misunderstood=1,
    serial=7,
    completed=Completed("book", "K7QM-4X2P", 4),
)


def test_round_trip_through_json() -> None:
    """A state with every field set survives encoding, JSON text and decoding unchanged."""
    document = json.loads(json.dumps(encode_state(FULL_STATE)))

    assert decode_state(document) == FULL_STATE


def test_fresh_state_round_trips() -> None:
    """A new conversation's state round-trips too."""
    fresh = DialogueState(conversation="abc")

    assert decode_state(encode_state(fresh)) == fresh


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(format=99),
        lambda d: d.update(step=5),
        lambda d: d.update(serial="7"),
        lambda d: d["prompt"].update(labels=["only one"]),
        lambda d: d["prompt"]["offers"].append("not a table"),
        lambda d: d["draft"].update(date="31/6"),
        lambda d: d["draft"].update(search_from="2027-06-18T04:30:00"),
        lambda d: d["draft"]["target"].update(starts_at=None),
        lambda d: d.update(draft=[]),
    ],
    ids=["format", "step", "serial", "labels", "offer", "date", "naive", "target", "draft"],
)
def test_damaged_document_rejected(damage: object) -> None:
    """Each kind of damage raises StateCorrupt rather than a stray TypeError."""
    document = json.loads(json.dumps(encode_state(FULL_STATE)))
    assert callable(damage)
    damage(document)

    with pytest.raises(StateCorrupt):
        decode_state(document)


def test_non_table_rejected() -> None:
    """A document that is not a JSON object is rejected."""
    with pytest.raises(StateCorrupt):
        decode_state(["not", "a", "table"])
