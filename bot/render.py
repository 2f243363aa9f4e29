"""Rendering of dialogue replies as SMS text: numbered options, folded into GSM-7."""

from __future__ import annotations

from flows import Reply, render_plain
from sealbook.gsm7 import to_gsm7


def render_sms(reply: Reply) -> str:
    """Render a reply as one SMS text: its text, then one ``key) label`` line per choice, in GSM-7.

    The patient replies with the key (a number, or a letter such as Y), and
    the dialogue maps it back to the choice it offered. The dialogue already
    fits its replies to SMS; folding here also covers the adapters' own texts.
    """
    return to_gsm7(render_plain(reply))
