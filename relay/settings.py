"""The relay's settings: the foundation's `RelaySettings` plus the worker's tuning, and the senders' settings.

Every field is read from `sealbook.toml` (section `[relay]`) and may be overridden by
the environment variable named beside it. Values are checked here, so a bad one stops
`sealbook relay` with one line naming the setting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from relay.channels.email import EmailSettings, SmtpSecurity
from relay.channels.sms import DEFAULT_API_URL as SMS_API_URL
from relay.channels.sms import SmsSettings
from relay.channels.telegram import DEFAULT_API_URL as TELEGRAM_API_URL
from relay.channels.telegram import TelegramSettings
from relay.pacing import PacingSettings, RateLimit
from sealbook.errors import ConfigError
from sealbook.settings import RelaySettings, setting

TRANSPORTS = ("console", "live")


@dataclass(frozen=True)
class RelayWorkerSettings(RelaySettings):
    """`RelaySettings` with the worker's leases, retries, concurrency and rate limits."""

    lease_seconds: int = setting("relay.lease_seconds", "SEALBOOK_RELAY_LEASE_SECONDS", 60)
    max_attempts: int = setting("relay.max_attempts", "SEALBOOK_RELAY_MAX_ATTEMPTS", 6)
    retry_base_seconds: int = setting("relay.retry_base_seconds", "SEALBOOK_RELAY_RETRY_BASE_SECONDS", 30)
    retry_max_seconds: int = setting("relay.retry_max_seconds", "SEALBOOK_RELAY_RETRY_MAX_SECONDS", 3600)
    concurrency: int = setting("relay.concurrency", "SEALBOOK_RELAY_CONCURRENCY", 8)
    poll_milliseconds: int = setting("relay.poll_milliseconds", "SEALBOOK_RELAY_POLL_MILLISECONDS", 1000)
    send_timeout_seconds: int = setting(
        "relay.send_timeout_seconds", "SEALBOOK_RELAY_SEND_TIMEOUT_SECONDS", 10
    )
    telegram_per_second: int = setting("relay.telegram_per_second", "SEALBOOK_RELAY_TELEGRAM_PER_SECOND", 30)
    sms_per_second: int = setting("relay.sms_per_second", "SEALBOOK_RELAY_SMS_PER_SECOND", 1)
    email_per_second: int = setting("relay.email_per_second", "SEALBOOK_RELAY_EMAIL_PER_SECOND", 10)
    smtp_ca_file: str = setting("relay.smtp_ca_file", "SEALBOOK_SMTP_CA_FILE")

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.lease_seconds)

    def check(self) -> None:
        """Raise ConfigError naming the first invalid setting."""
        if self.transport not in TRANSPORTS:
            raise ConfigError(
                f"relay.transport (SEALBOOK_RELAY_TRANSPORT) is {self.transport!r}; "
                f"use one of {', '.join(TRANSPORTS)}"
            )
        positive = {
            "relay.lease_seconds": self.lease_seconds,
            "relay.max_attempts": self.max_attempts,
            "relay.retry_base_seconds": self.retry_base_seconds,
            "relay.retry_max_seconds": self.retry_max_seconds,
            "relay.concurrency": self.concurrency,
            "relay.poll_milliseconds": self.poll_milliseconds,
            "relay.send_timeout_seconds": self.send_timeout_seconds,
            "relay.telegram_per_second": self.telegram_per_second,
            "relay.sms_per_second": self.sms_per_second,
            "relay.email_per_second": self.email_per_second,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ConfigError(f"{name} is {value}; it must be a whole number above 0")
        if self.lease_seconds <= 2 * self.send_timeout_seconds:
            raise ConfigError(
                "relay.lease_seconds must be more than twice relay.send_timeout_seconds, "
                "or a lease can expire during a send and another relay send the notice again"
            )
        if self.smtp_tls not in {security.value for security in SmtpSecurity}:
            raise ConfigError(
                f"relay.smtp_tls (SEALBOOK_SMTP_TLS) is {self.smtp_tls!r}; use starttls, tls or none"
            )
        if self.transport == "live" and not (self.telegram() or self.sms() or self.email()):
            raise ConfigError(
                "relay.transport is live but no channel is configured; set SEALBOOK_TELEGRAM_TOKEN, "
                "the SEALBOOK_TWILIO_* variables with SEALBOOK_SMS_FROM, or SEALBOOK_SMTP_HOST with "
                "SEALBOOK_EMAIL_FROM"
            )

    def telegram(self) -> TelegramSettings | None:
        """Telegram sender settings, or None when no bot token is configured."""
        if not self.telegram_token:
            return None
        return TelegramSettings(
            token=self.telegram_token,
            api_url=self.telegram_api_url or TELEGRAM_API_URL,
            timeout_seconds=self.send_timeout_seconds,
        )

    def sms(self) -> SmsSettings | None:
        """SMS sender settings, or None unless the account, API key, secret and sender are all set."""
        required = (self.twilio_account_sid, self.twilio_api_key, self.twilio_api_secret, self.sms_from)
        if not all(required):
            return None
        return SmsSettings(
            account_sid=self.twilio_account_sid,
            api_key=self.twilio_api_key,
            api_secret=self.twilio_api_secret,
            from_number=self.sms_from,
            api_url=self.twilio_api_url or SMS_API_URL,
            timeout_seconds=self.send_timeout_seconds,
        )

    def email(self) -> EmailSettings | None:
        """E-mail sender settings, or None unless the SMTP host and sender address are set."""
        if not (self.smtp_host and self.email_from):
            return None
        return EmailSettings(
            host=self.smtp_host,
            port=self.smtp_port,
            from_address=self.email_from,
            security=SmtpSecurity(self.smtp_tls),
            username=self.smtp_user or None,
            password=self.smtp_password or None,
            timeout_seconds=self.send_timeout_seconds,
            ca_file=self.smtp_ca_file or None,
        )

    def pacing(self) -> PacingSettings:
        """Return the channels' rate limits."""
        return PacingSettings(
            telegram_per_bot=RateLimit(per_second=float(self.telegram_per_second)),
            sms_per_sender=RateLimit(per_second=float(self.sms_per_second)),
            email_per_server=RateLimit(per_second=float(self.email_per_second), burst=self.email_per_second),
        )
