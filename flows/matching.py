"""Recognise words in a patient's message: commands, yes and no, appointment types, practitioners."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_MESSAGE_LENGTH = 500
"""Characters of a message the dialogue reads; the rest cannot change what it means."""

_BARE_NUMBER = re.compile(r"#?\s*(?P<number>[0-9]{1,3})\s*[.)]?", re.ASCII)

YES_WORDS = frozenset({"y", "yes", "yep", "yeah", "yea", "yup", "ok", "okay", "sure", "confirm", "correct"})
NO_WORDS = frozenset({"n", "no", "nope", "nah", "not"})

# Whole-message commands that work in every state. SMS opt-out words (STOP,
# CANCEL, END, QUIT, ...) never reach the dialogue: the SMS adapter handles them.
KEYWORDS: dict[str, str] = {
    **dict.fromkeys(["menu", "main menu", "/menu", "start", "/start", "restart", "home", "options"], "menu"),
    **dict.fromkeys(["hi", "hello", "hey", "hiya", "g'day", "gday"], "menu"),
    **dict.fromkeys(["help", "/help", "?", "info", "what can i do"], "help"),
    **dict.fromkeys(["back", "go back", "/back", "previous"], "back"),
    **dict.fromkeys(["book", "/book", "new booking", "make a booking", "booking"], "book"),
    **dict.fromkeys(
        ["list", "/list", "my bookings", "bookings", "/mybookings", "my appointments", "appointments"],
        "list",
    ),
    **dict.fromkeys(["status", "/status"], "status"),
    **dict.fromkeys(["email", "e-mail", "/email", "email invites", "calendar invites"], "email"),
}

SOONEST_PHRASES = (
    "asap",
    "as soon as possible",
    "soonest",
    "earliest",
    "next available",
    "first available",
    "any time",
    "anytime",
    "whenever",
    "soon as",
)
ANYONE_PHRASES = (
    "first available",
    "next available",
    "anyone",
    "any one",
    "anybody",
    "whoever",
    "don't mind",
    "dont mind",
    "do not mind",
    "no preference",
    "any doctor",
    "any practitioner",
    "doesn't matter",
    "doesnt matter",
)
ANYONE_WORDS = frozenset({"any", "either", "anyone", "whoever"})
"""Whole-message answers that mean "first available" when a practitioner was asked for."""
# Words that name the kind of booking rather than one appointment type.
GENERIC_TYPE_WORDS = frozenset(
    {"consultation", "consult", "appointment", "appt", "meeting", "session", "visit", "one", "a", "an"}
)


def normalise(text: str) -> str:
    """Return `text` cut to a readable length, NFKC-folded, lower-cased, with single spaces."""
    text = unicodedata.normalize("NFKC", text[: MAX_MESSAGE_LENGTH * 2])[:MAX_MESSAGE_LENGTH]
    text = "".join(ch if ch.isprintable() else " " for ch in text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split()).strip(" .!,;")


def words(text: str) -> list[str]:
    """Split normalised text into words of letters, digits and apostrophes."""
    return re.findall(r"[a-z0-9']+", text)


def bare_number(text: str) -> int | None:
    """Return the number if the whole message is one (`2`, `#2`, `2.`), else None."""
    match = _BARE_NUMBER.fullmatch(text.strip())
    return None if match is None else int(match["number"])


def keyword(text: str) -> str | None:
    """Return the global command a whole message names (`menu`, `help`, `back`, ...), if any."""
    return KEYWORDS.get(normalise(text))


def is_yes(text: str) -> bool:
    """Return whether the message is an explicit yes."""
    return normalise(text) in YES_WORDS or normalise(text) in {"yes please", "yes book it", "book it"}


def is_no(text: str) -> bool:
    """Return whether the message is a no."""
    return normalise(text) in NO_WORDS or normalise(text) in {"no thanks", "no thank you"}


def contains_phrase(text: str, phrases: Iterable[str]) -> str | None:
    """Return the first of `phrases` found in `text` as whole words, or None."""
    for phrase in phrases:
        if re.search(rf"(?<![a-z0-9']){re.escape(phrase)}(?![a-z0-9'])", text):
            return phrase
    return None


def remove_phrase(text: str, phrase: str) -> str:
    """Return `text` with every whole-word occurrence of `phrase` removed."""
    cleaned = re.sub(rf"(?<![a-z0-9']){re.escape(phrase)}(?![a-z0-9'])", " ", text)
    return " ".join(cleaned.split())


@dataclass(frozen=True)
class Named:
    """Something a patient may name, with the phrases that name it."""

    id: str
    phrases: tuple[str, ...]


def type_phrases(type_id: str, name: str) -> tuple[str, ...]:
    """Return the phrases that name an appointment type: its id, its name and its name's own words."""
    full = normalise(name)
    specific = " ".join(w for w in words(full) if w not in GENERIC_TYPE_WORDS)
    candidates = [normalise(type_id.replace("-", " ").replace("_", " ")), full, specific]
    return tuple(dict.fromkeys(c for c in candidates if c))


def practitioner_phrases(practitioner_id: str, display_name: str) -> tuple[str, ...]:
    """Return the phrases that name a practitioner: the full name, the surname with a title, the surname."""
    full = normalise(display_name)
    parts = words(full)
    titles = {"dr", "doctor", "prof", "professor", "mr", "mrs", "ms", "mx", "miss", "nurse"}
    names = [p for p in parts if p not in titles]
    candidates = [full, normalise(practitioner_id.replace("-", " ").replace("_", " "))]
    if names:
        surname = names[-1]
        candidates += [f"dr {surname}", f"doctor {surname}", " ".join(names), surname, names[0]]
    return tuple(dict.fromkeys(c for c in candidates if c and len(c) > 1))


def find_named(text: str, named: Sequence[Named]) -> tuple[str | None, str]:
    """Return the one id whose phrases `text` contains, and `text` without that phrase.

    Longer phrases win, so "long consultation" beats "consultation". When
    phrases of two different ids match equally well, nothing is returned.
    """
    best: list[tuple[int, str, str]] = []
    for item in named:
        for phrase in item.phrases:
            if contains_phrase(text, [phrase]):
                best.append((len(phrase), item.id, phrase))
    if not best:
        return None, text
    best.sort(reverse=True)
    top_length = best[0][0]
    top_ids = {item_id for length, item_id, _ in best if length == top_length}
    if len(top_ids) > 1:
        return None, text
    _, item_id, phrase = best[0]
    return item_id, remove_phrase(text, phrase)


_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")


def looks_like_email(text: str) -> bool:
    """Return whether `text` has the shape of an e-mail address; the contact layer checks it fully."""
    candidate = text.strip()
    return len(candidate) <= 254 and _EMAIL.fullmatch(candidate) is not None
