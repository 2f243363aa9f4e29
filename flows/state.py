"""The dialogue state saved between messages, and its JSON form.

The state holds ids, the choices on offer and the date and time asked for.
It never holds message text or a contact detail, so a database dump shows
where a conversation stands but not what anyone wrote.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sealbook.errors import SealbookError

STATE_FORMAT = 1
"""Version of the JSON layout; a row with another version starts afresh."""


class StateCorrupt(SealbookError):
    """A saved dialogue state could not be read; the conversation starts afresh."""


@dataclass(frozen=True)
class Offer:
    """One choice of the current prompt: what typing `key` or tapping it does."""

    key: str
    action: str
    value: str = ""


@dataclass(frozen=True)
class Prompt:
    """The question last asked, kept so it can be asked again and its choices checked."""

    serial: int
    key: str
    params: dict[str, str] = field(default_factory=dict)
    offers: tuple[Offer, ...] = ()
    labels: tuple[str, ...] = ()
    """Labels of `offers`, in the same order, as they were shown."""


@dataclass(frozen=True)
class BookingTarget:
    """The booking a patient picked to move, cancel or check, as listed."""

    booking_id: int
    reference: str
    appointment_type_id: str
    practitioner_id: str
    starts_at: dt.datetime


@dataclass(frozen=True)
class Draft:
    """The patient's answers so far in the current flow."""

    appointment_type_id: str | None = None
    practitioner_id: str | None = None
    practitioner_chosen: bool = False
    """True once a practitioner or "first available" (`practitioner_id` None) was chosen."""
    date: dt.date | None = None
    time: dt.time | None = None
    part_of_day: str | None = None
    time_bound: str = "at"
    when_given: bool = False
    """True once the patient said when, including "as soon as possible"."""
    offered: tuple[str, ...] = ()
    """Slot keys (`practitioner|start`) already offered, skipped when "later" is asked."""
    search_from: dt.datetime | None = None
    """Start of the next page of slots, set by "later"."""
    slot_practitioner_id: str | None = None
    slot_starts_at: dt.datetime | None = None
    target: BookingTarget | None = None


@dataclass(frozen=True)
class Completed:
    """The last confirmed change, so a repeated yes reports it instead of repeating it."""

    action: str
    reference: str
    prompt_serial: int


@dataclass(frozen=True)
class DialogueState:
    """Where one conversation stands."""

    conversation: str
    """Random token of this conversation, part of every choice id it offers."""
    flow: str = "menu"
    step: str = "START"
    prompt: Prompt | None = None
    draft: Draft = field(default_factory=Draft)
    misunderstood: int = 0
    """Replies in a row that the current step could not use."""
    serial: int = 0
    """Counter of prompts asked in this conversation."""
    completed: Completed | None = None


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def encode_state(state: DialogueState) -> dict[str, Any]:
    """Return the JSON-ready form of `state`."""
    document: dict[str, Any] = _encode(state)
    document["format"] = STATE_FORMAT
    return document


def _text(document: dict[str, Any], key: str, default: str | None = None) -> str:
    value = document.get(key, default)
    if not isinstance(value, str):
        raise StateCorrupt(f"dialogue state field {key!r} is not text")
    return value


def _optional_text(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is not None and not isinstance(value, str):
        raise StateCorrupt(f"dialogue state field {key!r} is not text")
    return value


def _integer(document: dict[str, Any], key: str, default: int = 0) -> int:
    value = document.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise StateCorrupt(f"dialogue state field {key!r} is not a whole number")
    return value


def _instant(document: dict[str, Any], key: str) -> dt.datetime | None:
    text = _optional_text(document, key)
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise StateCorrupt(f"dialogue state field {key!r} is not an instant") from None
    if value.tzinfo is None:
        raise StateCorrupt(f"dialogue state field {key!r} has no UTC offset")
    return value


def _table(document: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = document.get(key)
    if value is not None and not isinstance(value, dict):
        raise StateCorrupt(f"dialogue state field {key!r} is not a table")
    return value


def _items(document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise StateCorrupt(f"dialogue state field {key!r} is not a list")
    return value


def _decode_prompt(document: dict[str, Any]) -> Prompt:
    params = _table(document, "params") or {}
    offers = []
    for item in _items(document, "offers"):
        if not isinstance(item, dict):
            raise StateCorrupt("dialogue state offer is not a table")
        offers.append(Offer(_text(item, "key"), _text(item, "action"), _text(item, "value", "")))
    labels = _items(document, "labels")
    if not all(isinstance(label, str) for label in labels) or len(labels) != len(offers):
        raise StateCorrupt("dialogue state labels do not match its offers")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
        raise StateCorrupt("dialogue state prompt parameters are not text")
    return Prompt(
        _integer(document, "serial"), _text(document, "key"), dict(params), tuple(offers), tuple(labels)
    )


def _decode_target(document: dict[str, Any]) -> BookingTarget:
    starts_at = _instant(document, "starts_at")
    if starts_at is None:
        raise StateCorrupt("dialogue state booking has no start")
    return BookingTarget(
        _integer(document, "booking_id"),
        _text(document, "reference"),
        _text(document, "appointment_type_id"),
        _text(document, "practitioner_id"),
        starts_at,
    )


def _decode_draft(document: dict[str, Any]) -> Draft:
    date_text = _optional_text(document, "date")
    time_text = _optional_text(document, "time")
    target = _table(document, "target")
    offered = _items(document, "offered")
    if not all(isinstance(item, str) for item in offered):
        raise StateCorrupt("dialogue state offered slots are not text")
    try:
        date = None if date_text is None else dt.date.fromisoformat(date_text)
        time = None if time_text is None else dt.time.fromisoformat(time_text)
    except ValueError:
        raise StateCorrupt("dialogue state date or time is invalid") from None
    return Draft(
        appointment_type_id=_optional_text(document, "appointment_type_id"),
        practitioner_id=_optional_text(document, "practitioner_id"),
        practitioner_chosen=bool(document.get("practitioner_chosen", False)),
        date=date,
        time=time,
        part_of_day=_optional_text(document, "part_of_day"),
        time_bound=_text(document, "time_bound", "at"),
        when_given=bool(document.get("when_given", False)),
        offered=tuple(offered),
        search_from=_instant(document, "search_from"),
        slot_practitioner_id=_optional_text(document, "slot_practitioner_id"),
        slot_starts_at=_instant(document, "slot_starts_at"),
        target=None if target is None else _decode_target(target),
    )


def decode_state(document: object) -> DialogueState:
    """Rebuild a state from its JSON form, or raise `StateCorrupt`."""
    if not isinstance(document, dict):
        raise StateCorrupt("dialogue state is not a table")
    if document.get("format") != STATE_FORMAT:
        raise StateCorrupt("dialogue state has an unknown format version")
    prompt = _table(document, "prompt")
    draft = _table(document, "draft") or {}
    completed = _table(document, "completed")
    return DialogueState(
        conversation=_text(document, "conversation"),
        flow=_text(document, "flow"),
        step=_text(document, "step"),
        prompt=None if prompt is None else _decode_prompt(prompt),
        draft=_decode_draft(draft),
        misunderstood=_integer(document, "misunderstood"),
        serial=_integer(document, "serial"),
        completed=None
        if completed is None
        else Completed(
            _text(completed, "action"), _text(completed, "reference"), _integer(completed, "prompt_serial")
        ),
    )
