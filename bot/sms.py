"""The SMS channel: Twilio's inbound-message webhook, verified by signature, with replies in TwiML."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot._http import BadContentLength, BodyTooLarge, RejectionLog, read_limited_body
from bot.dispatch import Dispatcher, Inbound
from bot.handler import Reply, TextEvent
from bot.keywords import classify_sms
from bot.render import render_sms

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
# Twilio's webhooks carry a few dozen parameters; more is not a Twilio request.
MAX_FORM_FIELDS = 200


class SmsWebhook:
    """The ``POST /sms`` endpoint for one Twilio auth token and one public URL."""

    def __init__(
        self, *, auth_token: str, public_url: str, dispatcher: Dispatcher, rejections: RejectionLog
    ) -> None:
        if not auth_token or not public_url:
            raise ValueError("the SMS webhook needs both the Twilio auth token and the public URL")
        self._validator = RequestValidator(auth_token)
        # Twilio signs the URL it was configured to call. Behind a proxy that
        # terminates TLS the request's own URL and Host differ from it, so the
        # configured URL is the only one checked.
        self.signed_url = public_url.rstrip("/") + "/sms"
        self._dispatcher = dispatcher
        self._rejections = rejections

    async def handle(self, request: Request) -> Response:
        """Verify, parse and dispatch one inbound SMS webhook, and return the replies as TwiML."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return self._refuse("missing signature")
        try:
            body = await read_limited_body(request)
        except BodyTooLarge:
            self._rejections.record("sms", "body too large")
            return PlainTextResponse("request body too large", status_code=413)
        except BadContentLength:
            self._rejections.record("sms", "invalid Content-Length")
            return PlainTextResponse("invalid Content-Length", status_code=400)
        except ClientDisconnect:
            # The client closed the connection before the body ended, so uvicorn discards this response.
            self._rejections.record("sms", "client disconnected before the whole body arrived")
            return PlainTextResponse("incomplete request body", status_code=400)
        params = _parse_form(body)
        if params is None or not self._validator.validate(self.signed_url, params, signature):
            return self._refuse("invalid signature")

        inbound = _inbound_from_params(params)
        if inbound is None:
            logger.info("signed SMS webhook is missing MessageSid or From; returned no reply")
            return _twiml([])
        # A database error propagates to guard_webhook, which returns 503.
        result = await run_in_threadpool(self._dispatcher.process, inbound)
        if result.replies:
            # The replies travel in this response, and Twilio sends them once it reads
            # it, so they are recorded as delivered here. NOTE: a response that Twilio
            # never reads (it gives up after about 15 s) is recorded all the same, and
            # the relay then skips the turn's confirmation.
            await run_in_threadpool(self._dispatcher.record_replies_delivered, result)
        return _twiml(result.replies)

    def _refuse(self, reason: str) -> Response:
        self._rejections.record("sms", reason)
        return PlainTextResponse("forbidden", status_code=403)


def _parse_form(body: bytes) -> ImmutableMultiDict[str, str] | None:
    """Parse a form body; None when it is not UTF-8 or has a field without ``=``."""
    try:
        text = body.decode("utf-8")
        # Strict parsing rejects an empty body outright, which is better read as no fields.
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FORM_FIELDS
        )
    except ValueError:  # UnicodeDecodeError is a ValueError
        return None
    return ImmutableMultiDict(pairs)


def _inbound_from_params(params: ImmutableMultiDict[str, str]) -> Inbound | None:
    """Read Twilio's parameters by name; None when the ones that identify a message are missing."""
    message_sid = params.get("MessageSid", "").strip()
    sender = params.get("From", "").strip()
    if not message_sid or not sender:
        return None
    body = params.get("Body", "")
    keyword = classify_sms(body, params.get("OptOutType"))
    text = body.strip()
    event = TextEvent(text) if text else None
    return Inbound(channel="sms", message_id=message_sid, sender=sender, event=event, sms_keyword=keyword)


def _twiml(replies: list[Reply]) -> Response:
    """Return TwiML: one ``<Message>`` per reply, or an empty ``<Response/>`` to send nothing."""
    response = MessagingResponse()
    for reply in replies:
        response.message(render_sms(reply))
    return Response(str(response), media_type="application/xml")
