"""SMS words that Twilio and the carriers act on, and readers of the words a text invites a patient to send."""

from __future__ import annotations

import re

from bot.keywords import HELP_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS

RESERVED_SMS_WORDS = OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS | {"INFO"}
"""Whole-message words acted on before the dialogue receives them.

Twilio also answers HELP and INFO itself on long codes, and may not forward
them, so no reply may depend on them either.
"""

_INVITATION = re.compile(r"\b(?:reply|send|text|type)\s+(?:with\s+)?([A-Za-z]+)", re.IGNORECASE)
_SHOUTED = re.compile(r"\b[A-Z]{2,}\b")


def invited_words(text: str) -> set[str]:
    """Return the words `text` requests, upper-cased: the X of "reply X", "send X", "text X" or "type X"."""
    return {word.upper() for word in _INVITATION.findall(text)}


def shouted_words(text: str) -> set[str]:
    """Return the words written in capitals, which read as commands to send."""
    return set(_SHOUTED.findall(text))


def opening_word(text: str) -> str:
    """Return the first word of `text`, upper-cased and without punctuation, as a patient might send it alone."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    return first.strip(",.?!:;()'\"").upper()
