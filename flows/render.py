"""Plain-text rendering of replies, and the size limits each channel puts on them.

SMS and the console show choices as lines of `key) label` under the text;
Telegram shows them as inline buttons. SMS text must be GSM-7 and fit two
segments (306 septets), because one stray curly quote would switch it to
UCS-2 and halve what fits.
"""

from __future__ import annotations

from dataclasses import replace

from flows.replies import Channel, Reply
from sealbook.gsm7 import measure_sms, to_gsm7

SMS_MAX_SEGMENTS = 2
TELEGRAM_MAX_TEXT = 4096
"""Bot API limit on a message's text, in characters (after entity parsing)."""
TELEGRAM_MAX_CALLBACK_BYTES = 64
"""Bot API limit on an inline button's callback data."""
TELEGRAM_MAX_LABEL = 64
"""Label length kept on a button; longer labels are cut, because clients truncate them anyway."""
ELLIPSIS = "..."


def render_plain(reply: Reply) -> str:
    """Return the reply as SMS or console text: the text, then one `key) label` line per choice."""
    lines = [reply.text]
    lines.extend(f"{choice.key}) {choice.label}" for choice in reply.choices)
    return "\n".join(line for line in lines if line)


def fits_channel(reply: Reply, channel: Channel) -> bool:
    """Return whether `reply` can be sent on `channel` as it is."""
    if channel == "sms":
        size = measure_sms(render_plain(reply))
        return size.encoding == "GSM-7" and size.segments <= SMS_MAX_SEGMENTS
    if channel == "telegram":
        return (
            0 < len(reply.text) <= TELEGRAM_MAX_TEXT
            and all(len(c.id.encode()) <= TELEGRAM_MAX_CALLBACK_BYTES for c in reply.choices)
            and all(0 < len(c.label) <= TELEGRAM_MAX_LABEL for c in reply.choices)
        )
    return bool(reply.text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def fit_text(text: str, channel: Channel) -> str:
    """Return `text` made sendable on its own: GSM-7 and two segments for SMS, cut for Telegram."""
    if channel == "sms":
        text = to_gsm7(text)
        while measure_sms(text).segments > SMS_MAX_SEGMENTS:
            text = _cut(text, len(text) - 1)
        return text
    if channel == "telegram":
        return _cut(text, TELEGRAM_MAX_TEXT)
    return text


def fold_reply(reply: Reply, channel: Channel) -> Reply:
    """Return `reply` in the channel's alphabet and label limits, with its text not cut.

    For SMS the text and labels are folded into GSM-7; Telegram labels are
    cut to 64 characters. A caller checks the result with `fits_channel` to
    decide whether to offer fewer choices before the text would be cut.
    """
    if channel == "telegram":
        return Reply(
            reply.text, tuple(replace(c, label=_cut(c.label, TELEGRAM_MAX_LABEL)) for c in reply.choices)
        )
    if channel != "sms":
        return reply
    return Reply(to_gsm7(reply.text), tuple(replace(c, label=to_gsm7(c.label)) for c in reply.choices))


def fit_reply(reply: Reply, channel: Channel) -> Reply:
    """Return `reply` made to fit `channel`.

    The reply is folded as `fold_reply` does, and if it is still too long
    the text is cut: for SMS until the whole message fits two segments, for
    Telegram to 4,096 characters. Callers offer fewer choices first, so
    cutting is a last resort.
    """
    folded = fold_reply(reply, channel)
    if channel == "telegram":
        return Reply(_cut(folded.text, TELEGRAM_MAX_TEXT), folded.choices)
    if channel != "sms":
        return folded
    text, choices = folded.text, folded.choices
    while not fits_channel(Reply(text, choices), "sms") and len(text) > 1:
        text = _cut(text, len(text) - 1)
    return Reply(text, choices)
