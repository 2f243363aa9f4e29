"""Console transport: prints each delivery to a stream, for the embedded default and `make demo`."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from relay.channels.base import ChannelKind, OutgoingMessage

logger = logging.getLogger(__name__)


class ConsoleSender:
    """Print deliveries instead of sending them.

    The printed line shows the booking reference and the message text, never the
    address: the demo shows what a patient would receive, not who they are.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.CONSOLE

    async def start(self) -> None:
        logger.info("console sender started")

    async def send(self, address: str, message: OutgoingMessage) -> None:
        """Print `message`; `address` is accepted for the protocol and not shown.

        An e-mail (a message with a subject) is shown by its subject and calendar method
        only, because its body repeats the chat text printed beside it.
        """
        stream = self._stream if self._stream is not None else sys.stdout
        header = f"[relay] notice {message.notice_id} for {message.reference}"
        if message.subject:
            method = f" with calendar {message.calendar.method}" if message.calendar else ""
            stream.write(f"{header}: e-mail '{message.subject}'{method}\n")
        else:
            indented = "\n".join("    " + line for line in message.text.splitlines())
            stream.write(f"{header}\n{indented}\n")
        stream.flush()

    async def close(self) -> None:
        return None
