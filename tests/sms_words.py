"""SMS words that Twilio and the carriers act on, and readers of the words a text invites a patient to send."""

from __future__ import annotations

import re

from bot.keywords import HELP_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS

RESERVED_SMS_WORDS = OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS | {"INFO"}
"""Whole-message words acted on before the dialogue receives them.

Twilio also replies to HELP and INFO itself on long codes, and may not forward
them, so no reply may depend on them either.
"""

_INVITATION = re.compile(r"\b(?:reply|send|text|type)\s+(?:with\s+)?([A-Za-z]+)", re.IGNORECASE)
_SHOUTED = re.compile(r"\b[A-Z]{2,}\b")
_SENTENCE_BREAK = re.compile(r"(?<=[.?!])\s+")
_WORD = re.compile(r"[A-Za-z]+")
_QUESTION_WORDS = frozenset({"how", "what", "which", "when", "where", "who", "whom", "whose", "why"})
"""Openings of questions that ask for something other than yes or no."""
_LEAD_IN = frozenset(
    {"do", "does", "did", "shall", "should", "will", "would", "can", "could", "may", "is", "are", "am"}
    | {"you", "we", "i", "us", "me", "they", "want", "wish", "like", "need", "to", "please"}
    | {"ok", "okay", "sure", "still", "now", "just", "really", "also"}
)
"""Words that come before the verb of a yes/no question: "Do you want us to", "Would you like to", "OK to"."""


def invited_words(text: str) -> set[str]:
    """Return the words `text` requests, upper-cased: the X of "reply X", "send X", "text X" or "type X"."""
    return {word.upper() for word in _INVITATION.findall(text)}


def shouted_words(text: str) -> set[str]:
    """Return the words written in capitals, which read as commands to send."""
    return set(_SHOUTED.findall(text))


def questioned_verbs(text: str) -> set[str]:
    """Return the verb of each yes/no question in `text`, upper-cased.

    "Cancel it?" and "Do you want us to cancel it?" both give CANCEL, which
    a patient may send back alone to mean yes. A question that opens with a
    question word ("How can we help?") asks for no yes or no and gives none.
    """
    verbs: set[str] = set()
    for sentence in _SENTENCE_BREAK.split(text):
        if not sentence.rstrip().endswith("?"):
            continue
        words = [word.lower() for word in _WORD.findall(sentence)]
        if not words or words[0] in _QUESTION_WORDS:
            continue
        verb = next((word for word in words if word not in _LEAD_IN), None)
        if verb is not None:
            verbs.add(verb.upper())
    return verbs


def opening_word(text: str) -> str:
    """Return the first word of `text`, upper-cased and without punctuation, as a patient might send it alone."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    return first.strip(",.?!:;()'\"").upper()
