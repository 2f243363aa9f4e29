"""Relay settings checks, the channel settings they build, and the SQLite relay lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.channels.email import SmtpSecurity
from relay.lock import RelayAlreadyRunning, SqliteRelayLock
from relay.settings import RelayWorkerSettings
from sealbook.errors import ConfigError
from sealbook.settings import load_settings


def settings(home: Path, **variables: str) -> RelayWorkerSettings:
    """Load relay settings for `home` with `SEALBOOK_*` variables given as keywords."""
    environ = {f"SEALBOOK_{name.upper()}": value for name, value in variables.items()}
    return load_settings(RelayWorkerSettings, home, environ=environ)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"relay_transport": "carrier-pigeon"}, "relay.transport"),
        ({"relay_transport": "live"}, "no channel is configured"),
        ({"relay_concurrency": "0"}, "relay.concurrency is 0"),
        ({"relay_lease_seconds": "20", "relay_send_timeout_seconds": "10"}, "relay.lease_seconds"),
        ({"smtp_tls": "ssl"}, "relay.smtp_tls"),
    ],
)
def test_invalid_settings_are_named(home: Path, variables: dict[str, str], message: str) -> None:
    """Each invalid relay setting stops the check with a message naming it."""
    with pytest.raises(ConfigError, match=message):
        settings(home, **variables).check()


def test_defaults_are_console_and_valid(home: Path) -> None:
    """A fresh home's relay prints to the console and passes the check with no channel configured."""
    loaded = settings(home)

    loaded.check()
    assert loaded.transport == "console"
    assert (loaded.telegram(), loaded.sms(), loaded.email()) == (None, None, None)


def test_channel_settings_from_environment(home: Path) -> None:
    """Telegram, SMS and e-mail settings are built only when all their values are present."""
    loaded = settings(
        home,
        relay_transport="live",
        telegram_token="123:abc",
        twilio_account_sid="AC1",
        twilio_api_key="SK1",
        twilio_api_secret="secret",
        smtp_host="127.0.0.1",
        smtp_port="465",
        smtp_tls="tls",
        email_from="bookings@clinic.example",
    )

    loaded.check()
    telegram = loaded.telegram()
    email = loaded.email()
    assert telegram is not None
    assert telegram.api_url == "https://api.telegram.org"
    assert loaded.sms() is None  # SEALBOOK_SMS_FROM is missing
    assert email is not None
    assert (email.port, email.security) == (465, SmtpSecurity.TLS)
    assert "secret" not in repr(loaded.email())
    assert "123:abc" not in repr(telegram)


def test_sqlite_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    """A second holder of one database's relay lock is rejected until the first lets go."""
    database = tmp_path / "sealbook.sqlite3"

    with (
        SqliteRelayLock(database),
        pytest.raises(RelayAlreadyRunning, match="another relay is already running"),
        SqliteRelayLock(database),
    ):
        pass
    with SqliteRelayLock(database) as again:
        assert again.path.name == "sealbook.sqlite3.relay-lock"
