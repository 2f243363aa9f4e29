"""SMS delivery with the real `twilio` client against the loopback Twilio REST stand-in."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from relay.channels.base import DeliveryError, OutgoingMessage
from relay.channels.sms import SmsSender, SmsSettings
from sealbook.standins.twilio_api import TwilioApiStandin, TwilioFailure

PATIENT_NUMBER = "+61412345678"
MESSAGE = OutgoingMessage(notice_id=9, reference="K7QM-4X2P", text="Reminder: Tue 8 Dec at 2:30pm.")


@pytest_asyncio.fixture
async def sender(sms_settings: SmsSettings) -> AsyncIterator[SmsSender]:
    """A started sender pointed at the stand-in."""
    sender = SmsSender(sms_settings)
    await sender.start()
    yield sender
    await sender.close()


@pytest.mark.asyncio
async def test_send_reaches_standin(
    sender: SmsSender, sms_settings: SmsSettings, twilio_api: TwilioApiStandin
) -> None:
    """A send posts To, From and Body with the API key, and the stand-in accepts it."""
    await sender.send(PATIENT_NUMBER, MESSAGE)

    assert len(twilio_api.messages) == 1
    sent = twilio_api.messages[0]
    assert sent.to == PATIENT_NUMBER
    assert sent.from_ == sms_settings.from_number
    assert sent.body == MESSAGE.text
    assert sent.account_sid == sms_settings.account_sid


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("failure", "error_class"),
    [
        (TwilioFailure.OPTED_OUT, "sms.opted_out"),
        (TwilioFailure.INVALID_NUMBER, "sms.invalid_number"),
    ],
)
async def test_permanent_failures(
    sender: SmsSender, twilio_api: TwilioApiStandin, failure: TwilioFailure, error_class: str
) -> None:
    """Error 21610 (opted out) and 21211 (invalid number) are permanent and name no number."""
    twilio_api.fail_number(PATIENT_NUMBER, failure)

    with pytest.raises(DeliveryError) as caught:
        await sender.send(PATIENT_NUMBER, MESSAGE)

    assert caught.value.permanent is True
    assert caught.value.error_class == error_class
    assert PATIENT_NUMBER not in str(caught.value)
    assert "unsubscribed" not in str(caught.value)
    assert twilio_api.messages == []
    assert twilio_api.request_count == 1


@pytest.mark.asyncio
async def test_opted_out_number_fails_every_time(sender: SmsSender, twilio_api: TwilioApiStandin) -> None:
    """After a STOP, every send to that number fails with the opted-out class."""
    twilio_api.opt_out(PATIENT_NUMBER)

    for _ in range(2):
        with pytest.raises(DeliveryError) as caught:
            await sender.send(PATIENT_NUMBER, MESSAGE)
        assert caught.value.error_class == "sms.opted_out"


@pytest.mark.asyncio
async def test_malformed_number_is_invalid(sender: SmsSender, twilio_api: TwilioApiStandin) -> None:
    """A number that is not E.164 is rejected by Twilio as invalid, permanently."""
    with pytest.raises(DeliveryError) as caught:
        await sender.send("0412 345 678", MESSAGE)

    assert caught.value.error_class == "sms.invalid_number"
    assert caught.value.permanent is True


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("failure", "error_class"),
    [
        (TwilioFailure.RATE_LIMITED, "sms.rate_limited"),
        (TwilioFailure.SERVER_ERROR, "sms.server_error"),
    ],
)
async def test_temporary_failures_are_sent_once(
    sender: SmsSender, twilio_api: TwilioApiStandin, failure: TwilioFailure, error_class: str
) -> None:
    """A 429 or 500 is temporary, and the client made exactly one request: no automatic retry."""
    twilio_api.fail_number(PATIENT_NUMBER, failure, times=1)

    with pytest.raises(DeliveryError) as caught:
        await sender.send(PATIENT_NUMBER, MESSAGE)

    assert caught.value.permanent is False
    assert caught.value.error_class == error_class
    assert twilio_api.request_count == 1

    await sender.send(PATIENT_NUMBER, MESSAGE)
    assert [sent.to for sent in twilio_api.messages] == [PATIENT_NUMBER]


@pytest.mark.asyncio
async def test_wrong_secret_is_unauthorized(sms_settings: SmsSettings, twilio_api: TwilioApiStandin) -> None:
    """Credentials the account does not accept give a temporary unauthorized failure."""
    sender = SmsSender(dataclasses.replace(sms_settings, api_secret="wrong"))
    try:
        with pytest.raises(DeliveryError) as caught:
            await sender.send(PATIENT_NUMBER, MESSAGE)
    finally:
        await sender.close()

    assert caught.value.error_class == "sms.unauthorized"
    assert caught.value.permanent is False
    assert twilio_api.messages == []


@pytest.mark.asyncio
async def test_timeout_is_bounded_and_does_not_block_loop(
    sms_settings: SmsSettings, twilio_api: TwilioApiStandin
) -> None:
    """A slow API hits the explicit timeout after one request, and the event loop keeps running."""
    twilio_api.delay_responses(3.0)
    sender = SmsSender(dataclasses.replace(sms_settings, timeout_seconds=0.3))
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    try:
        with pytest.raises(DeliveryError) as caught:
            await sender.send(PATIENT_NUMBER, MESSAGE)
    finally:
        elapsed = time.monotonic() - started
        ticker.cancel()
        await sender.close()

    assert caught.value.error_class == "sms.timeout"
    assert caught.value.permanent is False
    assert elapsed < 1.5
    assert ticks >= 10
    assert twilio_api.request_count == 1
