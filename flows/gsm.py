"""GSM-7 character tables, SMS segment counting and a sanitiser for SMS-bound text.

The alphabet is the GSM 03.38 (3GPP TS 23.038) default alphabet with its
extension table. A message written only in that alphabet is sent as 7-bit
septets: 160 fit in one segment, and a longer message is split into segments
of 153, because each part carries a 7-septet concatenation header. Extension
characters take two septets (an escape and the character). One character
outside the alphabet switches the whole message to UCS-2: 70 UTF-16 code units
in one segment, 67 per segment when split. A character is never split across
two segments, which is why the greedy count below can exceed the plain ratio.
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
"""The 127 printable characters of the default alphabet (0x1B is the escape)."""

GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""Characters of the extension table, each sent as an escape plus one septet."""

GSM7_SINGLE_SEGMENT = 160
GSM7_MULTI_SEGMENT = 153
UCS2_SINGLE_SEGMENT = 70
UCS2_MULTI_SEGMENT = 67

_REPLACEMENTS = {
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
"""Typographic characters that have a plain GSM-7 equivalent."""

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
    if ch in _REPLACEMENTS:
        return _REPLACEMENTS[ch]
    # Accented letters outside the alphabet lose the accent: "á" becomes "a".
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and is_gsm7(base):
        return base
    return UNKNOWN_REPLACEMENT


def to_gsm7(text: str) -> str:
    """Return `text` with every character turned into GSM-7.

    Curly quotes become straight ones, dashes become hyphens, an ellipsis
    becomes three dots, odd spaces become plain spaces, accents outside the
    alphabet are dropped, and anything else (an emoji, a CJK character)
    becomes `?`.
    """
    return "".join(_fold_character(ch) for ch in text)
