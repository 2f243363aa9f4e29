"""Channel-agnostic booking dialogue: the state machine patients chat with.

Channel adapters call `handle_inbound` with a `TextEvent` or a `ChoiceEvent`
and send back the `Reply` objects it returns: Telegram as inline buttons
(each choice's `id` as callback data), SMS and the console as text with
numbered options (`render_plain`).
"""

from flows.render import fits_channel, render_plain
from flows.replies import Channel, Choice, ChoiceEvent, InboundEvent, Reply, TextEvent
from flows.runner import ContactActions, handle_inbound
from flows.when import warm_up

__all__ = [
    "Channel",
    "Choice",
    "ChoiceEvent",
    "ContactActions",
    "InboundEvent",
    "Reply",
    "TextEvent",
    "fits_channel",
    "handle_inbound",
    "render_plain",
    "warm_up",
]
