"""A loopback stand-in of Twilio's Messages REST resource that records sends and fails on request.

It serves `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP basic auth
(an account SID and auth token, or an API key SID and secret), and returns errors in
Twilio's JSON shape (`code`, `message`, `more_info`, `status`), so the real `twilio`
client raises `TwilioRestException` with the same `code` and `status` as against Twilio.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import enum
import hmac
import re
import secrets
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sealbook.standins.failures import FailureRules

JsonDict = dict[str, Any]

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_API_VERSION = "2010-04-01"


class TwilioFailure(enum.Enum):
    """A failure the stand-in returns for a number: HTTP status, Twilio code and message."""

    OPTED_OUT = (400, 21610, "Attempt to send to unsubscribed recipient")
    INVALID_NUMBER = (400, 21211, "The 'To' number {to} is not a valid phone number.")
    RATE_LIMITED = (429, 20429, "Too Many Requests")
    SERVER_ERROR = (500, 20500, "Internal Server Error")


@dataclass(frozen=True)
class SentSms:
    """One accepted message as the stand-in stored it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str


class TwilioApiStandin:
    """The Messages resource of one Twilio account, as a Starlette app.

    `credentials` maps each accepted basic-auth user name (the account SID, or an API
    key SID) to its password. State is guarded by a lock because tests read and
    arrange it from their own thread while the app runs in the server thread.
    """

    def __init__(self, account_sid: str, credentials: Mapping[str, str]) -> None:
        self.account_sid = account_sid
        self._credentials = dict(credentials)
        self._lock = threading.Lock()
        self._messages: list[SentSms] = []
        self._failures: FailureRules[str, TwilioFailure] = FailureRules()
        self._opted_out: set[str] = set()
        self._request_count = 0
        self._response_delay_seconds = 0.0
        self.app = Starlette(
            routes=[
                Route(
                    f"/{_API_VERSION}/Accounts/{{account_sid}}/Messages.json",
                    self._create_message,
                    methods=["POST"],
                )
            ]
        )

    # Arranging and inspecting, called from the test's thread.

    def fail_number(self, to: str | None, failure: TwilioFailure, *, times: int | None = None) -> None:
        """Make sends to `to` (every number when None) fail, `times` times or forever."""
        with self._lock:
            self._failures.set(to, failure, times)

    def opt_out(self, to: str) -> None:
        """Record that `to` replied STOP: every later send to it fails with 21610."""
        with self._lock:
            self._opted_out.add(to)

    def clear_failures(self) -> None:
        """Remove every failure rule and opt-out."""
        with self._lock:
            self._failures.clear()
            self._opted_out.clear()

    def delay_responses(self, seconds: float) -> None:
        """Delay every later response by `seconds`, to exercise client timeouts."""
        with self._lock:
            self._response_delay_seconds = seconds

    @property
    def messages(self) -> list[SentSms]:
        """Every accepted message, oldest first."""
        with self._lock:
            return list(self._messages)

    @property
    def request_count(self) -> int:
        """How many message requests arrived, accepted or not."""
        with self._lock:
            return self._request_count

    # Serving, called in the server's thread.

    async def _create_message(self, request: Request) -> JSONResponse:
        with self._lock:
            self._request_count += 1
            delay_seconds = self._response_delay_seconds
        if delay_seconds:
            await asyncio.sleep(delay_seconds)

        if not self._authorised(request.headers.get("authorization", "")):
            return _error(401, 20003, "Authenticate")
        if request.path_params["account_sid"] != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")

        # Parsed here rather than with `request.form()`, which needs python-multipart.
        form = dict(urllib.parse.parse_qsl((await request.body()).decode(), keep_blank_values=True))
        to = form.get("To", "")
        from_ = form.get("From", "")
        body = form.get("Body", "")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not from_:
            return _error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if not _E164.match(to):
            status, code, message = TwilioFailure.INVALID_NUMBER.value
            return _error(status, code, message.format(to=to))

        with self._lock:
            failure = self._failures.take(to)
            if failure is None and to in self._opted_out:
                failure = TwilioFailure.OPTED_OUT
            if failure is None:
                sent = SentSms(
                    sid="SM" + secrets.token_hex(16),
                    account_sid=self.account_sid,
                    to=to,
                    from_=from_,
                    body=body,
                )
                self._messages.append(sent)
        if failure is not None:
            status, code, message = failure.value
            return _error(status, code, message.format(to=to))
        return JSONResponse(_message_resource(sent), status_code=201)

    def _authorised(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            return False
        username, _, password = decoded.partition(":")
        expected = self._credentials.get(username)
        return expected is not None and hmac.compare_digest(password.encode(), expected.encode())


def _message_resource(sent: SentSms) -> JsonDict:
    now = email.utils.formatdate(usegmt=True)
    return {
        "sid": sent.sid,
        "account_sid": sent.account_sid,
        "api_version": _API_VERSION,
        "to": sent.to,
        "from": sent.from_,
        "body": sent.body,
        "status": "queued",
        "direction": "outbound-api",
        "num_media": "0",
        "date_created": now,
        "date_updated": now,
        "date_sent": None,
        "error_code": None,
        "error_message": None,
        "messaging_service_sid": None,
        "price": None,
        "uri": f"/{_API_VERSION}/Accounts/{sent.account_sid}/Messages/{sent.sid}.json",
    }


def _error(status: int, code: int, message: str) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status)
