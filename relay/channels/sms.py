"""SMS sender: the `twilio` client on an httpx transport that never retries a request.

The HTTP clients that ship with `twilio` (9.x) do not fit. The synchronous
`TwilioHttpClient` blocks the event loop and has no timeout unless given one. The
asynchronous `AsyncTwilioHttpClient` ignores the timeout passed to its constructor,
and with `max_retries` it wraps its session in `aiohttp_retry`, which retries POSTs
and so can send one SMS twice. Here `twilio` still builds the request (URL, auth,
form fields) and parses the response into `TwilioRestException`, but the bytes
travel through `_NoRetryHttpClient`: one `httpx.AsyncClient` request per call, with
an explicit timeout and no retry. Only the relay decides whether to try again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from relay.channels.base import ChannelKind, DeliveryError, OutgoingMessage

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.twilio.com"

# Twilio REST error codes that no retry can fix, from Twilio's error dictionary.
_PERMANENT_CODES = {
    21610: "sms.opted_out",  # the recipient replied STOP
    21211: "sms.invalid_number",  # 'To' is not a valid phone number
    21614: "sms.not_mobile",  # 'To' is not a mobile number
    21612: "sms.unreachable",  # no route from this sender to that number
    21408: "sms.region_not_enabled",  # the account may not send to that country
}


@dataclass(frozen=True)
class SmsSettings:
    """Twilio account, API key and secret, sender number, API root URL and timeout."""

    account_sid: str
    api_key: str
    api_secret: str
    from_number: str
    api_url: str = DEFAULT_API_URL
    timeout_seconds: float = 10.0

    def __repr__(self) -> str:
        return f"SmsSettings(api_url={self.api_url!r}, credentials=<hidden>)"


class _NoRetryHttpClient(AsyncHttpClient):  # type: ignore[misc]  # twilio ships no types
    """A `twilio` async HTTP client that sends each request once, with a timeout."""

    def __init__(self, timeout_seconds: float) -> None:
        super().__init__(logger, is_async=True, timeout=timeout_seconds)
        # httpx retries nothing by default (its transport's `retries` is 0), and that
        # count only ever covers failed connection attempts, never a sent request.
        self._client = httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False)

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        response = await self._client.request(
            method,
            uri,
            params=params,  # type: ignore[arg-type]  # twilio passes plain str/int values
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout if timeout is not None else self.timeout,
        )
        return Response(response.status_code, response.text, response.headers)

    async def aclose(self) -> None:
        await self._client.aclose()


class SmsSender:
    """Send notices as SMS from one Twilio number.

    Besides the per-request timeout, the whole call is bounded by `timeout_seconds`,
    so a slow response cannot hold a relay slot. A timeout leaves it unknown whether
    Twilio accepted the message; the relay then retries, which may deliver it twice.
    """

    def __init__(self, settings: SmsSettings) -> None:
        self._settings = settings
        self._http = _NoRetryHttpClient(settings.timeout_seconds)
        self._client = Client(
            settings.api_key,
            settings.api_secret,
            settings.account_sid,
            http_client=self._http,
        )
        self._client.api.base_url = settings.api_url.rstrip("/")

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.SMS

    @property
    def from_number(self) -> str:
        """The sender number, which is also the key of the SMS rate limit."""
        return self._settings.from_number

    async def start(self) -> None:
        logger.info("sms sender started")

    async def send(self, address: str, message: OutgoingMessage) -> None:
        """Send `message.text` to the E.164 number `address`."""
        try:
            async with asyncio.timeout(self._settings.timeout_seconds):
                await self._client.messages.create_async(
                    to=address, from_=self._settings.from_number, body=message.text
                )
        except TwilioRestException as exc:
            raise classify_twilio_error(exc) from exc
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise DeliveryError(ChannelKind.SMS, "sms.timeout", permanent=False) from exc
        except (httpx.HTTPError, TwilioException) as exc:
            raise DeliveryError(ChannelKind.SMS, "sms.network", permanent=False) from exc

    async def close(self) -> None:
        await self._http.aclose()


def classify_twilio_error(exc: TwilioRestException) -> DeliveryError:
    """Map a Twilio REST error to a delivery failure class, by its code and HTTP status."""
    kind = ChannelKind.SMS
    code = exc.code if isinstance(exc.code, int) else None
    if code in _PERMANENT_CODES:
        return DeliveryError(kind, _PERMANENT_CODES[code], permanent=True)
    if exc.status == 429 or code == 20429:
        return DeliveryError(kind, "sms.rate_limited", permanent=False)
    if exc.status in (401, 403):
        # Wrong credentials fail every notice alike; retrying lets corrected
        # credentials deliver them, and the worker logs the class for an operator.
        return DeliveryError(kind, "sms.unauthorized", permanent=False)
    if exc.status >= 500:
        return DeliveryError(kind, "sms.server_error", permanent=False)
    return DeliveryError(kind, "sms.rejected", permanent=True)
