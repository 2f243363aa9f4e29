"""Settings come from the home's file, overridden by SEALBOOK_* variables, per component."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sealbook.clock import FixedClock, OffsetClock, SystemClock, clock_from_env
from sealbook.errors import ConfigError
from sealbook.logs import QUIET_LOGGERS, configure_logging
from sealbook.settings import AdminSettings, CommonSettings, FrontSettings, RelaySettings, load_settings


def _write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "sealbook.toml").write_text(text, encoding="utf-8")
    return home


def test_environment_overrides_file(tmp_path: Path) -> None:
    """An environment variable wins over the same setting in sealbook.toml."""
    home = _write(tmp_path, '[front]\npublic_url = "https://from-file.example"\n')

    from_file = load_settings(FrontSettings, home, environ={})
    from_env = load_settings(FrontSettings, home, environ={"SEALBOOK_PUBLIC_URL": "https://from-env.example"})

    assert from_file.public_url == "https://from-file.example"
    assert from_env.public_url == "https://from-env.example"


def test_home_from_environment(tmp_path: Path) -> None:
    """Without an explicit home, SEALBOOK_HOME is used."""
    settings = load_settings(CommonSettings, None, environ={"SEALBOOK_HOME": str(tmp_path)})

    assert settings.home == tmp_path


def test_default_database_is_home_sqlite(tmp_path: Path) -> None:
    """With no URL configured, the database is the SQLite file in the home."""
    settings = load_settings(CommonSettings, tmp_path, environ={})

    assert settings.effective_database_url.startswith("sqlite+pysqlite:///")
    assert settings.effective_database_url.endswith("sealbook.sqlite3")


def test_admin_settings_hold_no_secret() -> None:
    """The staff tool's settings type has no field for a key, token or credential."""
    names = {spec.name for spec in dataclasses.fields(AdminSettings)}

    assert names == {"home", "database_url", "profile", "default_region", "log_level", "operator"}


def test_front_settings_hold_no_send_credential() -> None:
    """The front cannot hold the relay's sending credentials, and the relay cannot hold webhook secrets."""
    front = {spec.name for spec in dataclasses.fields(FrontSettings)}
    relay = {spec.name for spec in dataclasses.fields(RelaySettings)}

    assert "twilio_api_secret" not in front
    assert "smtp_password" not in front
    assert "twilio_auth_token" not in relay
    assert "telegram_secret" not in relay


def test_invalid_toml_named(tmp_path: Path) -> None:
    """A broken settings file gives an error naming the file."""
    home = _write(tmp_path, "[front\npublic_url = 1\n")

    with pytest.raises(ConfigError, match=r"sealbook\.toml"):
        load_settings(FrontSettings, home, environ={})


def test_wrong_type_named(tmp_path: Path) -> None:
    """A number where text belongs names the setting."""
    home = _write(tmp_path, "[front]\npublic_url = 5\n")

    with pytest.raises(ConfigError, match=r"front\.public_url"):
        load_settings(FrontSettings, home, environ={})


def test_bad_port_named(tmp_path: Path) -> None:
    """A port that is not a number names the variable it came from."""
    with pytest.raises(ConfigError, match="SEALBOOK_SMTP_PORT"):
        load_settings(RelaySettings, tmp_path, environ={"SEALBOOK_SMTP_PORT": "twenty-five"})


def test_clock_from_env_starts_at_instant() -> None:
    """SEALBOOK_NOW starts the clock at that instant, and it then runs forward."""
    clock = clock_from_env({"SEALBOOK_NOW": "2027-03-08T09:00:00+11:00"})
    first = clock.now()
    second = clock.now()

    assert isinstance(clock, OffsetClock)
    assert datetime(2027, 3, 7, 22, 0, tzinfo=UTC) <= first < datetime(2027, 3, 7, 22, 1, tzinfo=UTC)
    assert second >= first


def test_clock_from_env_default_is_system() -> None:
    """Without SEALBOOK_NOW the system clock is used."""
    assert isinstance(clock_from_env({}), SystemClock)


@pytest.mark.parametrize("value", ["tomorrow", "2027-03-08T09:00:00", "2027-13-01T00:00:00+00:00"])
def test_clock_rejects_bad_now(value: str) -> None:
    """A SEALBOOK_NOW that is not an ISO instant with an offset is rejected, naming the variable."""
    with pytest.raises(ConfigError, match="SEALBOOK_NOW"):
        clock_from_env({"SEALBOOK_NOW": value})


def test_fixed_clock_moves_only_when_told() -> None:
    """A fixed clock stays put until advanced."""
    start = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    clock = FixedClock(start)
    clock.advance(timedelta(minutes=5))

    assert clock.now() == datetime(2027, 3, 10, 9, 5, tzinfo=UTC)


def test_noisy_loggers_held_at_warning() -> None:
    """HTTP client loggers stay at WARNING even when sealbook logs at DEBUG."""
    configure_logging("DEBUG")

    for name in QUIET_LOGGERS:
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() == logging.WARNING


def test_log_level_error_names_file_key(tmp_path: Path) -> None:
    """A bad level written in the file is reported by its key in the file, not by the variable."""
    home = _write(tmp_path, '[logging]\nlevel = "LOUD"\n')

    with pytest.raises(ConfigError, match=r"logging\.level in"):
        load_settings(CommonSettings, home, environ={})


def test_unknown_region_rejected(tmp_path: Path) -> None:
    """A default region that phonenumbers does not know is rejected."""
    home = _write(tmp_path, '[clinic]\ndefault_region = "ZZ"\n')

    with pytest.raises(ConfigError, match=r"clinic\.default_region"):
        load_settings(CommonSettings, home, environ={})


def test_section_must_be_table(tmp_path: Path) -> None:
    """A value where a section table belongs is reported, not ignored."""
    home = _write(tmp_path, 'database = "x"\n')

    with pytest.raises(ConfigError, match=r"must be a table"):
        load_settings(CommonSettings, home, environ={})


def test_non_utf8_file_rejected(tmp_path: Path) -> None:
    """A settings file that is not UTF-8 gives a plain error."""
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "sealbook.toml").write_bytes(b'[clinic]\nname = "\xff\xfe"\n')

    with pytest.raises(ConfigError, match="UTF-8"):
        load_settings(CommonSettings, tmp_path, environ={})


def test_clock_rejects_out_of_range_now() -> None:
    """An instant that cannot be expressed in UTC is rejected, naming the variable."""
    with pytest.raises(ConfigError, match="SEALBOOK_NOW"):
        clock_from_env({"SEALBOOK_NOW": "0001-01-01T00:00:00+14:00"})


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("front.telegram_token", '[front]\ntelegram_token = "{}"\n', "123456789:AAbotvalue"),
        ("relay.smtp_password", '[relay]\nsmtp_password = "{}"\n', "mail-password-value"),
        ("front.board_token", '[front]\nboard_token = "{}"\n', "board-token-value"),
        ("relay.twilio_api_secret", '[relay]\ntwilio_api_secret = "{}"\n', "twilio-secret-value"),
        ("database.url", '[database]\nurl = "postgresql://sealbook:{}@127.0.0.1:5432/sealbook"\n', "dbpass"),
    ],
)
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604], ids=["0644", "0640", "0604"])
def test_readable_secret_file_rejected(tmp_path: Path, key: str, text: str, value: str, mode: int) -> None:
    """A settings file holding a secret that group or others can read is rejected, naming key and chmod."""
    home = _write(tmp_path, text.format(value))
    (home / "sealbook.toml").chmod(mode)

    with pytest.raises(ConfigError) as raised:
        load_settings(CommonSettings, home, environ={})

    message = str(raised.value)
    assert key in message
    assert f"mode {mode:04o}" in message
    assert f"chmod 600 {home / 'sealbook.toml'}" in message
    assert value not in message


@pytest.mark.parametrize(
    "text",
    [
        '[front]\npublic_url = "https://book.example.org"\n',
        '[front]\ntelegram_token = ""\n',
        '[database]\nurl = "postgresql://sealbook@127.0.0.1:5432/sealbook"\n',
    ],
)
def test_readable_file_without_secret_accepted(tmp_path: Path, text: str) -> None:
    """A file that group or others can read is accepted while it contains no token, secret or password."""
    home = _write(tmp_path, text)
    (home / "sealbook.toml").chmod(0o644)

    settings = load_settings(FrontSettings, home, environ={})

    assert settings.home == home


def test_private_secret_file_accepted(tmp_path: Path) -> None:
    """A settings file of mode 0600 may hold a token."""
    home = _write(tmp_path, '[front]\ntelegram_token = "123456789:AAbot"\n')
    (home / "sealbook.toml").chmod(0o600)

    settings = load_settings(FrontSettings, home, environ={})

    assert settings.telegram_token == "123456789:AAbot"
