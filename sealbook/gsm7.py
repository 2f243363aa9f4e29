"""GSM-7 text for SMS: the alphabet, segment counting, transliteration and shortening to fit.

Facts from 3GPP TS 23.038 (GSM 03.38): the default alphabet has 128 characters,
127 printable ones and 0x1B, the escape to the extension table. The extension
table adds ten more, and each takes two septets (the escape and the character).
A message written only in those tables is sent as 7-bit septets: up to 160 fit
in one segment, and a longer message is split into segments of 153 septets,
because 7 go to the concatenation header. One character outside GSM-7 turns the
whole message into UCS-2: 70 UTF-16 code units in one segment, 67 per segment
when split. `measure_sms` never splits an escape pair or a surrogate pair
across two segments, so its greedy count can exceed the plain ratio.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The 127 printable characters of the default alphabet, in code-point order (0x1B is the escape)."""

GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""Characters of the extension table, each sent as an escape plus one septet."""

GSM7_SINGLE_SEGMENT = 160
GSM7_MULTI_SEGMENT = 153
UCS2_SINGLE_SEGMENT = 70
UCS2_MULTI_SEGMENT = 67

_TYPOGRAPHIC_SUBSTITUTES = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u0060\u00b4", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    **dict.fromkeys("\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\t", " "),
    **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad", ""),
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": "-",
    "\u00d7": "x",
    "\u00a9": "(c)",
    "\u00ae": "(R)",
    "\u2122": "TM",
    "\u00bd": "1/2",
    "\u00bc": "1/4",
    "\u00be": "3/4",
}
"""Quotes, dashes, spaces, invisible marks and symbols that phones and word processors insert,
with the plain GSM-7 text that reads the same."""

_LETTER_SUBSTITUTES = {
    "\u0141": "L",  # Ł, Polish
    "\u0142": "l",  # ł
    "\u0110": "D",  # Đ, Croatian, Serbian and Vietnamese
    "\u0111": "d",  # đ
    "\u00d0": "D",  # Ð, Icelandic eth
    "\u00f0": "d",  # ð
    "\u0131": "i",  # Turkish dotless i
    "\u0152": "OE",  # Œ, French
    "\u0153": "oe",  # œ
    "\u00de": "TH",  # Þ, Icelandic thorn
    "\u00fe": "th",  # þ
    "\u0126": "H",  # Ħ, Maltese
    "\u0127": "h",  # ħ
    "\u0166": "T",  # Ŧ, Northern Sami
    "\u0167": "t",  # ŧ
}
"""Latin letters outside GSM-7 that NFKD does not split into a base letter and an accent,
with their usual plain-Latin spelling."""

UNKNOWN_REPLACEMENT = "?"


@dataclass(frozen=True)
class SmsSize:
    """Encoding, length and segment count of one SMS body."""

    encoding: Literal["GSM-7", "UCS-2"]
    units: int
    """Septets for GSM-7, UTF-16 code units for UCS-2."""
    segments: int
    """Segments billed and sent; 0 for an empty body."""


def is_gsm7(text: str) -> bool:
    """Return whether every character of `text` is in the GSM-7 alphabet or its extension."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _count_segments(unit_sizes: list[int], single: int, multi: int) -> int:
    total = sum(unit_sizes)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in unit_sizes:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return segments


def measure_sms(text: str) -> SmsSize:
    """Return the encoding, length in units and segment count of an SMS body."""
    if is_gsm7(text):
        septets = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        segments = _count_segments(septets, GSM7_SINGLE_SEGMENT, GSM7_MULTI_SEGMENT)
        return SmsSize("GSM-7", sum(septets), segments)
    code_units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    segments = _count_segments(code_units, UCS2_SINGLE_SEGMENT, UCS2_MULTI_SEGMENT)
    return SmsSize("UCS-2", sum(code_units), segments)


def _fold_character(ch: str) -> str:
    if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
        return ch
    if ch in _TYPOGRAPHIC_SUBSTITUTES:
        return _TYPOGRAPHIC_SUBSTITUTES[ch]
    if ch in _LETTER_SUBSTITUTES:
        return _LETTER_SUBSTITUTES[ch]
    # Accented letters outside the alphabet lose the accent: "á" becomes "a".
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and is_gsm7(base):
        return base
    return UNKNOWN_REPLACEMENT


def to_gsm7(text: str) -> str:
    """Return `text` with every character turned into GSM-7.

    Curly quotes become straight ones, dashes become hyphens, an ellipsis
    becomes three dots, odd spaces become plain spaces and invisible marks
    are dropped. Accented letters outside the alphabet lose the accent
    ("á" becomes "a"), letters such as "ł" and "œ" get their plain-Latin
    spelling ("l", "oe"), and anything else (an emoji, a CJK character)
    becomes `?`.
    """
    return "".join(_fold_character(ch) for ch in text)


def fit_segments(text: str, max_segments: int, ellipsis: str = "...") -> str:
    """Shorten GSM-7 `text` to at most `max_segments` segments, ending it with `ellipsis`.

    Raises `ValueError` unless `text` and `ellipsis` are GSM-7, so pass other text
    through `to_gsm7` first.
    """
    if not is_gsm7(text + ellipsis):
        raise ValueError("fit_segments: text or ellipsis is not GSM-7, so pass it through to_gsm7 first")
    if measure_sms(text).segments <= max_segments:
        return text
    budget = GSM7_SINGLE_SEGMENT if max_segments == 1 else GSM7_MULTI_SEGMENT * max_segments
    budget -= measure_sms(ellipsis).units
    shortened = text.rstrip()
    while shortened and (
        measure_sms(shortened).units > budget or measure_sms(shortened + ellipsis).segments > max_segments
    ):
        shortened = shortened[:-1]
    return shortened.rstrip() + ellipsis
