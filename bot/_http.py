"""HTTP helpers of the webhook routes: bounded body reading and rate-limited logging of rejections."""

from __future__ import annotations

import logging
import threading

from starlette.requests import Request

logger = logging.getLogger(__name__)

# Telegram updates and Twilio's SMS webhooks are a few kilobytes at most.
MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    """The request body, or its declared Content-Length, exceeds the limit."""


class BadContentLength(Exception):
    """The Content-Length header is not a non-negative whole number."""


async def read_limited_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read the body, raising ``BodyTooLarge`` as soon as it is known to exceed ``limit`` bytes.

    Content-Length is checked first. A chunked body has none, so it is
    counted while it is read and a long one is never held in memory whole.
    Starlette's ``ClientDisconnect`` propagates when the client closes the
    connection before the body ends.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isascii() or not declared.isdigit():
            raise BadContentLength
        if int(declared) > limit:
            raise BodyTooLarge
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class RejectionLog:
    """Log of rejected webhook requests by reason, never with the presented value.

    Repeats are counted and logged at the 1st, 2nd, 4th, 8th... occurrence of
    each reason, so a flood of forged requests cannot flood the log.
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(self, channel: str, reason: str) -> None:
        key = f"{channel}: {reason}"
        with self._lock:
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        if count & (count - 1) == 0:
            logger.warning("rejected %s webhook request: %s (%d so far)", channel, reason, count)

    def count(self, channel: str, reason: str) -> int:
        """Return how many requests were rejected for this reason."""
        with self._lock:
            return self._counts.get(f"{channel}: {reason}", 0)
