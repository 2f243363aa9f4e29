"""HTTP helpers of the webhook routes: bounded body reading, failure responses and logging of rejections."""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

logger = logging.getLogger(__name__)

# Telegram updates and Twilio's SMS webhooks are a few kilobytes at most.
MAX_BODY_BYTES = 64 * 1024
# Retry-After of a 503, in seconds. It is only a hint, because Telegram and
# Twilio each keep their own redelivery schedule.
RETRY_AFTER_SECONDS = 30

Endpoint = Callable[[Request], Awaitable[Response]]


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
    """Log of rejected requests by source and reason, never with the presented value.

    Repeats are counted and logged at the 1st, 2nd, 4th, 8th... occurrence of
    each reason, so a flood of forged requests cannot flood the log. ``kind``
    names the requests in the log line: "rejected sms webhook request: ...".
    """

    def __init__(self, kind: str = "webhook request") -> None:
        self._kind = kind
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(self, source: str, reason: str) -> None:
        key = f"{source}: {reason}"
        with self._lock:
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        if count & (count - 1) == 0:
            logger.warning("rejected %s %s: %s (%d so far)", source, self._kind, reason, count)

    def count(self, source: str, reason: str) -> int:
        """Return how many requests were rejected for this reason."""
        with self._lock:
            return self._counts.get(f"{source}: {reason}", 0)


def retry_later(reason: str) -> Response:
    """Return 503 with Retry-After, which requests that the channel deliver the message again."""
    return PlainTextResponse(reason, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def guard_webhook(channel: str, endpoint: Endpoint) -> Endpoint:
    """Wrap a webhook endpoint so that an exception it lets through becomes a 503 response, never a 500.

    The log gets one ERROR line with the channel, the exception class and
    the Telegram update id if the endpoint stored one in
    ``request.state.update_id``. The exception's message is left out because
    it can quote SQL or request content, and the traceback is logged at
    DEBUG only. Telegram redelivers after a 503, and Twilio does when the
    webhook URL sets a retry policy. The once-only record turns a
    redelivery of a message already acted on into a no-op.
    """

    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except SQLAlchemyError as error:
            _log_failure(channel, request, "a database error", error)
            return retry_later("database unavailable")
        except Exception as error:  # noqa: BLE001 - the route boundary: nothing may reach uvicorn as a 500
            _log_failure(channel, request, "an unexpected error", error)
            return retry_later("temporarily unavailable")

    return guarded


def _log_failure(channel: str, request: Request, kind: str, error: Exception) -> None:
    update_id = getattr(request.state, "update_id", None)
    where = f" on update {update_id}" if isinstance(update_id, int) else ""
    logger.error(
        "%s webhook failed%s with %s (%s); returned 503 so that the message is delivered again",
        channel,
        where,
        kind,
        type(error).__name__,
    )
    logger.debug("traceback of the %s webhook failure", channel, exc_info=error)
