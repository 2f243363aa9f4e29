"""The ``POST /telegram`` endpoint: the secret token checked in constant time, then the update handled."""

from __future__ import annotations

import hmac
import json
import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

from bot._http import BadContentLength, BodyTooLarge, RejectionLog, read_limited_body, retry_later
from bot.telegram import TelegramChannel, TelegramUnavailable

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


class TelegramWebhook:
    """Verifies and handles webhook updates for one bot and one secret token."""

    def __init__(self, *, secret: str, channel: TelegramChannel, rejections: RejectionLog) -> None:
        if not secret:
            raise ValueError("the Telegram webhook needs its secret token")
        self._secret = secret.encode("utf-8")
        self._channel = channel
        self._rejections = rejections

    async def handle(self, request: Request) -> Response:
        """Verify, parse and handle one update; a verified update gets 200 unless it should be retried."""
        presented = request.headers.get(SECRET_HEADER)
        if presented is None or not hmac.compare_digest(presented.encode("utf-8"), self._secret):
            self._rejections.record("telegram", "missing or wrong secret token")
            return PlainTextResponse("forbidden", status_code=403)
        try:
            body = await read_limited_body(request)
        except BodyTooLarge:
            self._rejections.record("telegram", "body too large")
            return PlainTextResponse("request body too large", status_code=413)
        except BadContentLength:
            self._rejections.record("telegram", "invalid Content-Length")
            return PlainTextResponse("invalid Content-Length", status_code=400)
        except ClientDisconnect:
            # The client closed the connection before the body ended, so uvicorn discards this response.
            self._rejections.record("telegram", "client disconnected before the whole body arrived")
            return PlainTextResponse("incomplete request body", status_code=400)

        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deeply
            logger.info("Telegram webhook body is not JSON; acknowledged and ignored")
            return Response(status_code=200)
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if type(update_id) is int:
            # guard_webhook names the update if handling it fails.
            request.state.update_id = update_id
        # A database error propagates to guard_webhook, which returns 503.
        try:
            await self._channel.handle_json(data)
        except TelegramUnavailable as error:
            logger.error(
                "telegram webhook failed on update %s: %s; returned 503 so that it is delivered again",
                update_id,
                error,
            )
            return retry_later("Bot API unavailable")
        return Response(status_code=200)
