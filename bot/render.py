"""Rendering of dialogue replies per channel: numbered GSM-7 text for SMS, a numbered list for the console."""

from __future__ import annotations

import math

from bot.handler import Reply

# The GSM 03.38 default alphabet, and its extension table whose characters
# take two septets each.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

# Typography that would switch a whole message to UCS-2, with its GSM-7 stand-in.
_GSM7_SUBSTITUTES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "\u2022": "-",
    "\u00b7": "-",
    "á": "a",
    "â": "a",
    "ã": "a",
    "ç": "c",
    "ê": "e",
    "ë": "e",
    "í": "i",
    "î": "i",
    "ï": "i",
    "ó": "o",
    "ô": "o",
    "õ": "o",
    "ú": "u",
    "û": "u",
    "ý": "y",
}

SMS_SEGMENT_SEPTETS = 160
SMS_CONCATENATED_SEGMENT_SEPTETS = 153


def to_gsm7(text: str) -> str:
    """Return ``text`` in the GSM-7 alphabet: known typography replaced, anything else as ``?``.

    One character outside GSM-7 would send the whole message as UCS-2, at 70
    characters a segment instead of 160.
    """
    converted: list[str] = []
    for character in text:
        if character in GSM7_BASIC or character in GSM7_EXTENSION:
            converted.append(character)
        else:
            converted.append(_GSM7_SUBSTITUTES.get(character, "?"))
    return "".join(converted)


def gsm7_segments(text: str) -> int:
    """Return how many SMS segments a GSM-7 text takes (extension characters count twice)."""
    septets = sum(2 if character in GSM7_EXTENSION else 1 for character in text)
    if septets <= SMS_SEGMENT_SEPTETS:
        return 1
    return math.ceil(septets / SMS_CONCATENATED_SEGMENT_SEPTETS)


def render_sms(reply: Reply) -> str:
    """Render a reply as one SMS text: its text, then one numbered line per choice, in GSM-7.

    The patient replies with the number, and the dialogue maps it back to
    the choice it offered.
    """
    lines = [reply.text]
    lines.extend(f"{number}. {choice.label}" for number, choice in enumerate(reply.choices, start=1))
    return to_gsm7("\n".join(lines))


def render_console(reply: Reply) -> str:
    """Render a reply for the terminal: its text, then an indented numbered list of the choices."""
    lines = [reply.text]
    lines.extend(f"  {number}) {choice.label}" for number, choice in enumerate(reply.choices, start=1))
    return "\n".join(lines)
