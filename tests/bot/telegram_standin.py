"""A minimal Bot API stand-in for the bot tests: records calls and serves queued updates.

NOTE: the relay's shared stand-in (``sealbook.standins.telegram_api``) is
not on main yet; the tests switch to it once it is.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

JsonDict = dict[str, Any]
_STRING_PARAMETERS = frozenset({"text", "callback_query_id", "parse_mode"})


@dataclass(frozen=True)
class BotApiCall:
    """One recorded Bot API call: the method and its decoded parameters."""

    method: str
    params: JsonDict


class TelegramApiStandin:
    """The Bot API of one bot token as a Starlette app, with a record of every call."""

    def __init__(self, token: str) -> None:
        self._token = token
        self._lock = threading.Lock()
        self._calls: list[BotApiCall] = []
        self._updates: list[JsonDict] = []
        self._message_ids = itertools.count(1)
        # When True, getUpdates returns 409 as Telegram does while a webhook is set.
        self.webhook_set = False
        self.bot_user: JsonDict = {
            "id": 700000001,
            "is_bot": True,
            "first_name": "sealbook",
            "username": "sb_bot",
        }
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._dispatch, methods=["GET", "POST"])])

    @property
    def calls(self) -> list[BotApiCall]:
        """Every call so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str) -> list[BotApiCall]:
        """The calls of one method."""
        return [call for call in self.calls if call.method == method]

    def push_update(self, update: JsonDict) -> None:
        """Queue an update for ``getUpdates``."""
        with self._lock:
            self._updates.append(update)

    async def _dispatch(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self._token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = request.path_params["method"]
        params = await _read_params(request)
        with self._lock:
            self._calls.append(BotApiCall(method, params))
        if method == "getMe":
            return _ok(self.bot_user)
        if method in ("answerCallbackQuery", "deleteWebhook"):
            return _ok(True)
        if method == "sendMessage":
            message = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": params["chat_id"], "type": "private"},
                "text": params["text"],
            }
            return _ok(message)
        if method == "getUpdates":
            if self.webhook_set:
                description = "Conflict: can't use getUpdates method while webhook is active"
                return JSONResponse({"ok": False, "error_code": 409, "description": description}, 409)
            return _ok(await self._get_updates(params))
        return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.5)
        while True:
            with self._lock:
                self._updates = [update for update in self._updates if update["update_id"] >= offset]
                pending = list(self._updates)
            if pending or time.monotonic() >= deadline:
                return pending
            await asyncio.sleep(0.02)


async def _read_params(request: Request) -> JsonDict:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    # python-telegram-bot sends methods without files as a urlencoded form.
    form = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    params: JsonDict = {}
    for key, value in form:
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
