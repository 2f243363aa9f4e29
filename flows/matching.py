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
    **dict.fromkeys(["help", "/help", "?", "info", "what can i do", "how this works"], "help"),
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


# Words that describe a practitioner's role or the booking, never part of a name to match.
NAME_VOCABULARY = frozenset(
    {
        "dr", "doctor", "prof", "professor", "mr", "mrs", "ms", "mx", "miss", "nurse", "sister",
        "practitioner", "practice", "clinician", "gp", "physio", "physiotherapist", "therapist",
        "counsellor", "counselor", "psychologist", "dentist", "midwife", "specialist", "registrar",
        "solicitor", "lawyer", "barrister", "attorney", "partner", "associate", "paralegal",
        "tutor", "advisor", "adviser", "mentor", "lecturer", "the", "and", "of", "with", "for",
        *GENERIC_TYPE_WORDS, *ANYONE_WORDS,
    }
)  # fmt: skip
# Words that patients write as dates: a first name or surname spelt like one
# matches only with its title or the full name ("Dr Tom", "Tom Okafor").
DATE_WORDS = frozenset(
    {
        "tom", "tomo", "tmrw", "tomorrow", "today", "tonight", "mon", "tue", "tues", "wed", "thu",
        "thur", "thurs", "fri", "sat", "sun", "jan", "feb", "mar", "march", "apr", "april", "may",
        "jun", "june", "jul", "july", "aug", "august", "sep", "sept", "oct", "nov", "dec", "noon",
        "morning", "arvo", "evening", "week", "next", "day", "date",
    }
)  # fmt: skip
_SPECIAL_LETTERS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "\u0131": "i", "ħ": "h", "þ": "t"})


_NAME_WORD = re.compile(r"[a-z0-9']{2,}(?:-[a-z0-9']{2,})*")
"""One word of a name phrase: two letters or more, perhaps hyphenated."""


def fold_letters(text: str) -> str:
    """Return lower-case `text` with accents dropped, one character for each, so "nguyễn" is "nguyen".

    The result has the same length as `text`, so a span found in it is the
    same span of `text`.
    """
    folded = []
    for ch in text.translate(_SPECIAL_LETTERS):
        base = unicodedata.normalize("NFKD", ch)[:1] if ch.isalpha() else ch
        folded.append(base if len(base) == 1 and base.isascii() else ch)
    return "".join(folded)


def practitioner_phrases(practitioner_id: str, display_name: str) -> tuple[str, ...]:
    """Return the phrases that name a practitioner, accent-folded.

    They are the full name, the name without titles, each name word after
    "dr" or "doctor", and each name word on its own unless it reads as a
    date ("tom", "may"). Titles and role words ("nurse practitioner") never
    match on their own, and no phrase holds a word of one letter.
    """
    full = fold_letters(normalise(display_name))
    names = [word for word in words(full) if word not in NAME_VOCABULARY and len(word) > 1]
    candidates = [full, fold_letters(normalise(practitioner_id.replace("-", " ").replace("_", " ")))]
    if names:
        candidates.append(" ".join(names))
        for name in names:
            candidates += [f"dr {name}", f"doctor {name}"]
            if name not in DATE_WORDS:
                candidates.append(name)
    return tuple(dict.fromkeys(c for c in candidates if _usable_name_phrase(c)))


def _usable_name_phrase(phrase: str) -> bool:
    """Return whether a phrase may name a practitioner: whole words of two letters or more, not all vocabulary."""
    parts = phrase.split()
    if not parts or any(_NAME_WORD.fullmatch(part) is None for part in parts):
        return False
    if all(part in NAME_VOCABULARY for part in parts):
        return False
    return not (len(parts) == 1 and parts[0] in DATE_WORDS)


def find_named(text: str, named: Sequence[Named]) -> tuple[str | None, str]:
    """Return the one id whose phrases `text` contains, and `text` without that phrase.

    Text and phrases are compared accent-folded. Longer phrases win, so
    "long consultation" beats "consultation". When phrases of two different
    ids match equally well, nothing is returned.
    """
    folded = fold_letters(text)
    best: list[tuple[int, str, str]] = []
    for item in named:
        for phrase in item.phrases:
            wanted = fold_letters(phrase)
            if contains_phrase(folded, [wanted]):
                best.append((len(wanted), item.id, wanted))
    if not best:
        return None, text
    best.sort(reverse=True)
    top_length = best[0][0]
    top_ids = {item_id for length, item_id, _ in best if length == top_length}
    if len(top_ids) > 1:
        return None, text
    _, item_id, phrase = best[0]
    kept = text
    for match in reversed(list(re.finditer(_whole_words(phrase), folded))):
        kept = kept[: match.start()] + " " + kept[match.end() :]
    return item_id, " ".join(kept.split())


def _whole_words(phrase: str) -> str:
    return rf"(?<![a-z0-9']){re.escape(phrase)}(?![a-z0-9'])"


_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")


def looks_like_email(text: str) -> bool:
    """Return whether `text` has the shape of an e-mail address; the contact layer checks it fully."""
    candidate = text.strip()
    return len(candidate) <= 254 and _EMAIL.fullmatch(candidate) is not None
