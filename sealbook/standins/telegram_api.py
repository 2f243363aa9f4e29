"""A loopback stand-in of the Telegram Bot API that records calls and fails on request.

It serves `/bot{token}/METHOD` for the methods sealbook uses (`getMe`, `sendMessage`,
`answerCallbackQuery`, `editMessageReplyMarkup`, `setWebhook`, `deleteWebhook`,
`getUpdates`) and responds in the Bot API's envelope (`{"ok": true, "result": ...}` or
`{"ok": false, "error_code": ..., "description": ...}`), so the real
`python-telegram-bot` client raises the same exceptions it would against Telegram.
"""

from __future__ import annotations

import asyncio
import enum
import hmac
import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sealbook.standins.failures import FailureRules

JsonDict = dict[str, Any]

# Parameters whose values stay strings. Every other form value is JSON-decoded, which is
# how python-telegram-bot (22.x) encodes non-string parameters in a form body.
_STRING_PARAMETERS = frozenset(
    {"text", "url", "secret_token", "callback_query_id", "parse_mode", "inline_message_id"}
)


class TelegramFailure(enum.Enum):
    """A failure the stand-in returns for a chat, with the Bot API's status and text."""

    BLOCKED = (403, "Forbidden: bot was blocked by the user")
    CHAT_NOT_FOUND = (400, "Bad Request: chat not found")
    RATE_LIMITED = (429, "Too Many Requests: retry after {retry_after}")
    SERVER_ERROR = (500, "Internal Server Error")

    @property
    def status(self) -> int:
        return self.value[0]


@dataclass(frozen=True)
class BotApiCall:
    """One recorded call: the Bot API method, its decoded parameters and whether it succeeded."""

    method: str
    params: JsonDict
    succeeded: bool


class TelegramApiStandin:
    """The Bot API for one bot token, as a Starlette app with an inspectable record.

    State is guarded by a lock because tests read and arrange it from their own thread
    while the app runs in the server thread.
    """

    def __init__(
        self,
        token: str,
        *,
        bot_id: int = 700000001,
        bot_username: str = "sealbook_standin_bot",
        max_poll_seconds: float = 1.0,
    ) -> None:
        self._token = token
        self._bot_user: JsonDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "sealbook",
            "username": bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._max_poll_seconds = max_poll_seconds
        self._lock = threading.Lock()
        self._calls: list[BotApiCall] = []
        # Each rule is the failure and the retry_after it reports.
        self._failures: FailureRules[int, tuple[TelegramFailure, int]] = FailureRules()
        self._updates: list[JsonDict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._webhook_url: str | None = None
        self._handlers: dict[str, Callable[[JsonDict], Awaitable[JSONResponse]]] = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "answerCallbackQuery": self._return_true,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getUpdates": self._get_updates,
        }
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._dispatch, methods=["GET", "POST"])])

    # Arranging and inspecting, called from the test's thread.

    def fail_chat(
        self,
        chat_id: int | None,
        failure: TelegramFailure,
        *,
        times: int | None = None,
        retry_after_seconds: int = 3,
    ) -> None:
        """Make calls for `chat_id` (every chat when None) fail, `times` times or forever."""
        with self._lock:
            self._failures.set(chat_id, (failure, retry_after_seconds), times)

    def clear_failures(self) -> None:
        """Remove every failure rule."""
        with self._lock:
            self._failures.clear()

    def push_update(self, update: JsonDict) -> int:
        """Queue an update for `getUpdates`, giving it the next `update_id` unless it has one."""
        with self._lock:
            update = dict(update)
            update.setdefault("update_id", next(self._update_ids))
            self._updates.append(update)
            return int(update["update_id"])

    @property
    def calls(self) -> list[BotApiCall]:
        """Every call received so far, failed ones included, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str) -> list[BotApiCall]:
        """The recorded calls of one Bot API method."""
        return [call for call in self.calls if call.method == method]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts of the `sendMessage` calls that succeeded, optionally for one chat."""
        with self._lock:
            return [
                call.params["text"]
                for call in self._calls
                if call.method == "sendMessage"
                and call.succeeded
                and (chat_id is None or call.params.get("chat_id") == chat_id)
            ]

    @property
    def webhook_url(self) -> str | None:
        """The URL last registered with `setWebhook`, or None."""
        with self._lock:
            return self._webhook_url

    # Serving, called in the server's thread.

    async def _dispatch(self, request: Request) -> JSONResponse:
        token = request.path_params["token"]
        method = request.path_params["method"]
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            return _error(401, "Unauthorized")
        handler = self._handlers.get(method)
        if handler is None:
            return _error(404, "Not Found: method not found")

        params = await _read_params(request)
        with self._lock:
            chat_id = params.get("chat_id")
            rule = self._failures.take(chat_id) if isinstance(chat_id, int) else None
        response = _failure_response(rule) if rule is not None else await handler(params)
        with self._lock:
            self._calls.append(BotApiCall(method, params, response.status_code == 200))
        return response

    async def _get_me(self, params: JsonDict) -> JSONResponse:
        return _ok(self._bot_user)

    async def _return_true(self, params: JsonDict) -> JSONResponse:
        return _ok(True)

    async def _send_message(self, params: JsonDict) -> JSONResponse:
        chat_id = params.get("chat_id")
        text = params.get("text")
        if chat_id is None or not text:
            return _error(400, "Bad Request: message text is empty")
        message: JsonDict = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": self._bot_user,
            "text": text,
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return _ok(message)

    async def _edit_message_reply_markup(self, params: JsonDict) -> JSONResponse:
        if "inline_message_id" in params:
            return _ok(True)
        message: JsonDict = {
            "message_id": params.get("message_id", 0),
            "date": int(time.time()),
            "chat": {"id": params.get("chat_id"), "type": "private"},
            "from": self._bot_user,
            "text": "",
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return _ok(message)

    async def _set_webhook(self, params: JsonDict) -> JSONResponse:
        with self._lock:
            self._webhook_url = params.get("url")
        return _ok(True)

    async def _delete_webhook(self, params: JsonDict) -> JSONResponse:
        with self._lock:
            self._webhook_url = None
        return _ok(True)

    async def _get_updates(self, params: JsonDict) -> JSONResponse:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait_seconds = min(float(params.get("timeout") or 0), self._max_poll_seconds)
        deadline = time.monotonic() + wait_seconds
        while True:
            with self._lock:
                # As in the Bot API, asking for an offset confirms every earlier update.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                pending = self._updates[:limit]
            if pending or time.monotonic() >= deadline:
                return _ok(pending)
            await asyncio.sleep(0.02)


async def _read_params(request: Request) -> JsonDict:
    """Decode a JSON body, or a form or query string whose non-text values are JSON."""
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    raw: dict[str, str] = dict(request.query_params)
    if request.method == "POST":
        # Form bodies are parsed here rather than with `request.form()`, which needs the
        # optional python-multipart package; uploads (multipart bodies) are not served.
        raw.update(urllib.parse.parse_qsl((await request.body()).decode(), keep_blank_values=True))
    params: JsonDict = {}
    for key, value in raw.items():
        if key in _STRING_PARAMETERS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(status: int, description: str, parameters: JsonDict | None = None) -> JSONResponse:
    body: JsonDict = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)


def _failure_response(rule: tuple[TelegramFailure, int]) -> JSONResponse:
    failure, retry_after_seconds = rule
    status, description = failure.value
    if failure is TelegramFailure.RATE_LIMITED:
        return _error(
            status, description.format(retry_after=retry_after_seconds), {"retry_after": retry_after_seconds}
        )
    return _error(status, description)
