"""GSM-7 text for SMS: membership, segment counting, transliteration and fitting into N segments.

Facts from 3GPP TS 23.038: the default alphabet has 128 characters, the extension
table adds ten more that take two septets each (an escape and the character). A
message of up to 160 septets is one segment. A longer one is split into segments of
153 septets, because 7 go to the concatenation header, and an escape pair is never
split across two segments.
One character outside GSM-7 turns the whole message into UCS-2, with 70 characters
per single segment and 67 per part.
"""

from __future__ import annotations

import math
import unicodedata

# The default alphabet in code-point order, without 0x1B (the escape to the extension table).
_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_SEGMENT_SEPTETS = 160
MULTI_SEGMENT_SEPTETS = 153
SINGLE_SEGMENT_UCS2 = 70
MULTI_SEGMENT_UCS2 = 67

# Common characters outside GSM-7 that phones and word processors insert, with the
# GSM-7 text that reads the same.
_SUBSTITUTES = {
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark (the curly apostrophe)
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2212": "-",  # minus sign
    "\u2026": "...",  # horizontal ellipsis
    "\u00a0": " ",  # no-break space
    "\u202f": " ",
    "\u2009": " ",
    "\u2022": "-",  # bullet
    "\u00b7": "-",
    "\t": " ",
}


def is_gsm7(text: str) -> bool:
    """Tell whether every character of `text` is in the GSM-7 alphabet or its extension."""
    return all(char in _BASIC or char in _EXTENSION for char in text)


def septet_count(text: str) -> int:
    """Count the septets `text` takes in GSM-7; it must satisfy `is_gsm7`."""
    return sum(2 if char in _EXTENSION else 1 for char in text)


def segment_count(text: str) -> int:
    """Count the SMS segments `text` takes, in GSM-7 when it fits that alphabet, else UCS-2."""
    if not is_gsm7(text):
        units = len(text.encode("utf-16-le")) // 2
        if units <= SINGLE_SEGMENT_UCS2:
            return 1
        return math.ceil(units / MULTI_SEGMENT_UCS2)
    if septet_count(text) <= SINGLE_SEGMENT_SEPTETS:
        return 1
    segments = 1
    used = 0
    for char in text:
        width = 2 if char in _EXTENSION else 1
        if used + width > MULTI_SEGMENT_SEPTETS:
            segments += 1
            used = 0
        used += width
    return segments


def to_gsm7(text: str) -> str:
    """Transliterate `text` into GSM-7.

    Typographic quotes, dashes and spaces become their plain forms, accented letters
    outside the alphabet lose their accents (`á` to `a`), and anything else becomes `?`.
    """
    out: list[str] = []
    for char in text:
        if char in _BASIC or char in _EXTENSION:
            out.append(char)
        elif char in _SUBSTITUTES:
            out.append(_SUBSTITUTES[char])
        else:
            out.append(_fold(char))
    return "".join(out)


def fit_segments(text: str, max_segments: int, ellipsis: str = "...") -> str:
    """Shorten GSM-7 `text` so it takes at most `max_segments`, ending it with `ellipsis`."""
    if segment_count(text) <= max_segments:
        return text
    budget = SINGLE_SEGMENT_SEPTETS if max_segments == 1 else MULTI_SEGMENT_SEPTETS * max_segments
    budget -= septet_count(ellipsis)
    shortened = text.rstrip()
    while shortened and (
        septet_count(shortened) > budget or segment_count(shortened + ellipsis) > max_segments
    ):
        shortened = shortened[:-1]
    return shortened.rstrip() + ellipsis


def _fold(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(part for part in decomposed if not unicodedata.combining(part))
    if base and all(part in _BASIC or part in _EXTENSION for part in base):
        return base
    return "?"
