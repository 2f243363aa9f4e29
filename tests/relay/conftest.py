"""Fixtures for relay tests: loopback Bot API, Twilio and SMTP stand-ins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from relay.channels.sms import SmsSettings
from relay.channels.telegram import TelegramSettings
from sealbook.standins.smtp import (
    CertificateFiles,
    SmtpMode,
    SmtpServer,
    make_certificates,
    serve_smtp,
)
from sealbook.standins.telegram_api import TelegramApiStandin
from sealbook.standins.twilio_api import TwilioApiStandin
from tests.conftest import StandinHost

TELEGRAM_TOKEN = "123456:standin-token"
TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_API_KEY = "SK" + "1" * 32
TWILIO_API_SECRET = "standin-secret"
SMS_FROM = "+61400000000"


@pytest.fixture
def telegram_api() -> TelegramApiStandin:
    """A Bot API stand-in for one token, not yet served."""
    return TelegramApiStandin(TELEGRAM_TOKEN)


@pytest.fixture
def telegram_settings(
    telegram_api: TelegramApiStandin, standin_host: StandinHost
) -> Iterator[TelegramSettings]:
    """Serve the Bot API stand-in on loopback and return sender settings that reach it."""
    with standin_host.mount(telegram_api.app) as url:
        yield TelegramSettings(token=TELEGRAM_TOKEN, api_url=url, timeout_seconds=5)


@pytest.fixture
def twilio_api() -> TwilioApiStandin:
    """A Twilio Messages stand-in that accepts one API key, not yet served."""
    return TwilioApiStandin(TWILIO_ACCOUNT_SID, {TWILIO_API_KEY: TWILIO_API_SECRET})


@pytest.fixture
def sms_settings(twilio_api: TwilioApiStandin, standin_host: StandinHost) -> Iterator[SmsSettings]:
    """Serve the Twilio stand-in on loopback and return sender settings that reach it."""
    with standin_host.mount(twilio_api.app) as url:
        yield SmsSettings(
            account_sid=TWILIO_ACCOUNT_SID,
            api_key=TWILIO_API_KEY,
            api_secret=TWILIO_API_SECRET,
            from_number=SMS_FROM,
            api_url=url,
            timeout_seconds=5,
        )


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    """Write a private CA and a server certificate for 127.0.0.1."""
    return make_certificates(tmp_path_factory.mktemp("tls"), now=dt.datetime.now(dt.UTC))


@pytest.fixture
def starttls_smtp(certificates: CertificateFiles) -> Iterator[SmtpServer]:
    """Run an SMTP server that requires STARTTLS before mail."""
    with serve_smtp(SmtpMode.STARTTLS, certificates) as server:
        yield server


@pytest.fixture
def implicit_tls_smtp(certificates: CertificateFiles) -> Iterator[SmtpServer]:
    """Run an SMTP server that speaks TLS from the first byte."""
    with serve_smtp(SmtpMode.IMPLICIT_TLS, certificates) as server:
        yield server
