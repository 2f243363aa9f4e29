"""Settings of each component, read from ``HOME/sealbook.toml`` and ``SEALBOOK_*`` variables.

Each entry point loads only its own settings type, and each type has fields
only for the secrets that component may hold: the admin tool's settings have
no key or channel credential at all.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import phonenumbers

from sealbook.errors import ConfigError

HOME_VARIABLE = "SEALBOOK_HOME"
DEFAULT_HOME = Path("var")
SETTINGS_FILE = "sealbook.toml"
DATABASE_FILE = "sealbook.sqlite3"
KEYS_FOLDER = "keys"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SETTINGS_FILE_MODE = 0o600
# A settings key whose name ends in one of these contains a credential,
# such as front.telegram_token or relay.smtp_password.
SECRET_KEY_SUFFIXES = ("_token", "_secret", "_password")


def setting(toml_key: str, env: str | None = None, default: Any = "") -> Any:
    """Declare a settings field read from ``toml_key`` (``section.name``) and, if given, ``env``."""
    return field(default=default, metadata={"toml": toml_key, "env": env})


@dataclass(frozen=True)
class CommonSettings:
    """Settings every component reads."""

    home: Path
    database_url: str = setting("database.url", "SEALBOOK_DATABASE_URL")
    profile: str = setting("clinic.profile", None, "medical")
    default_region: str = setting("clinic.default_region", None, "AU")
    log_level: str = setting("logging.level", "SEALBOOK_LOG_LEVEL", "INFO")

    @property
    def keys_dir(self) -> Path:
        return self.home / KEYS_FOLDER

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the SQLite file in the home."""
        if self.database_url:
            return self.database_url
        # Quoting keeps a "?" or "%" in the home's path from being read as
        # URL syntax, which would put the database outside the home.
        return f"sqlite+pysqlite:///{quote(str((self.home / DATABASE_FILE).resolve()))}"


@dataclass(frozen=True)
class FrontSettings(CommonSettings):
    """The webhook server and dialogue: webhook secrets and the pseudonym keyring."""

    public_url: str = setting("front.public_url", "SEALBOOK_PUBLIC_URL")
    telegram_token: str = setting("front.telegram_token", "SEALBOOK_TELEGRAM_TOKEN")
    telegram_secret: str = setting("front.telegram_secret", "SEALBOOK_TELEGRAM_SECRET")
    telegram_api_url: str = setting("front.telegram_api_url", "SEALBOOK_TELEGRAM_API_URL")
    twilio_auth_token: str = setting("front.twilio_auth_token", "SEALBOOK_TWILIO_AUTH_TOKEN")
    board_token: str = setting("front.board_token", "SEALBOOK_BOARD_TOKEN")
    messages_per_minute: int = setting("front.messages_per_minute", "SEALBOOK_MESSAGES_PER_MINUTE", 20)


@dataclass(frozen=True)
class RelaySettings(CommonSettings):
    """The notification relay: the relay keyring and the channels' send credentials."""

    transport: str = setting("relay.transport", "SEALBOOK_RELAY_TRANSPORT", "console")
    telegram_token: str = setting("relay.telegram_token", "SEALBOOK_TELEGRAM_TOKEN")
    telegram_api_url: str = setting("relay.telegram_api_url", "SEALBOOK_TELEGRAM_API_URL")
    twilio_account_sid: str = setting("relay.twilio_account_sid", "SEALBOOK_TWILIO_ACCOUNT_SID")
    twilio_api_key: str = setting("relay.twilio_api_key", "SEALBOOK_TWILIO_API_KEY")
    twilio_api_secret: str = setting("relay.twilio_api_secret", "SEALBOOK_TWILIO_API_SECRET")
    twilio_api_url: str = setting("relay.twilio_api_url", "SEALBOOK_TWILIO_API_URL")
    sms_from: str = setting("relay.sms_from", "SEALBOOK_SMS_FROM")
    smtp_host: str = setting("relay.smtp_host", "SEALBOOK_SMTP_HOST")
    smtp_port: int = setting("relay.smtp_port", "SEALBOOK_SMTP_PORT", 587)
    smtp_user: str = setting("relay.smtp_user", "SEALBOOK_SMTP_USER")
    smtp_password: str = setting("relay.smtp_password", "SEALBOOK_SMTP_PASSWORD")
    smtp_tls: str = setting("relay.smtp_tls", "SEALBOOK_SMTP_TLS", "starttls")
    email_from: str = setting("relay.email_from", "SEALBOOK_EMAIL_FROM")


@dataclass(frozen=True)
class AdminSettings(CommonSettings):
    """The staff tool: database access and the operator's name, and no key of any kind."""

    operator: str = setting("admin.operator", "SEALBOOK_OPERATOR")


@dataclass(frozen=True)
class CustodianSettings(CommonSettings):
    """The key custodian: the keys folder (from ``CommonSettings``) and database access."""

    seal_suite: str = setting("keys.seal_suite", "SEALBOOK_SEAL_SUITE", "x25519")


SettingsT = TypeVar("SettingsT", bound=CommonSettings)


def resolve_home(home: Path | None, environ: dict[str, str] | None = None) -> Path:
    """Return the home folder: ``--home``, else ``SEALBOOK_HOME``, else ``./var``."""
    values = os.environ if environ is None else environ
    if home is not None:
        return home
    from_env = values.get(HOME_VARIABLE, "").strip()
    return Path(from_env) if from_env else DEFAULT_HOME


def read_settings_file(home: Path) -> dict[str, Any]:
    """Read ``HOME/sealbook.toml``; a missing file counts as empty.

    Raises ConfigError when the file contains a secret (see ``secret_keys``)
    and its mode lets group or others read it.
    """
    path = home / SETTINGS_FILE
    try:
        with path.open("rb") as handle:
            # The mode is taken from the open file, so it is the mode of the
            # bytes read even if the path is replaced meanwhile.
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            text = handle.read().decode("utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}; check its permissions") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; save it as UTF-8") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix that line") from None

    secret_names = secret_keys(document)
    if secret_names and mode & 0o044:
        raise ConfigError(
            f"{path} contains {', '.join(secret_names)} and group or others can read it (mode {mode:04o}). "
            f"Fix it with: chmod 600 {path}, or move each value to its SEALBOOK_* environment variable"
        )
    return document


def secret_keys(document: dict[str, Any]) -> list[str]:
    """Return the keys of a settings document that contain a non-empty credential, as ``section.name``.

    A credential is a value whose key ends in ``_token``, ``_secret`` or
    ``_password``, or a ``database.url`` with a password in it.
    """
    found: list[str] = []
    for section, table in document.items():
        if not isinstance(table, dict):
            continue
        for name, value in table.items():
            if not isinstance(value, str) or not value.strip():
                continue
            if name.endswith(SECRET_KEY_SUFFIXES) or (
                f"{section}.{name}" == "database.url" and _has_password(value)
            ):
                found.append(f"{section}.{name}")
    return found


def _has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url.strip()).password)
    except ValueError:
        # An unreadable URL is reported when the database is opened; here it
        # may still hold a password, so it counts as one.
        return True


def load_settings(
    kind: type[SettingsT], home: Path | None = None, environ: dict[str, str] | None = None
) -> SettingsT:
    """Load one component's settings: file values, overridden by environment variables."""
    values = dict(os.environ if environ is None else environ)
    resolved_home = resolve_home(home, values)
    document = read_settings_file(resolved_home)

    arguments: dict[str, Any] = {"home": resolved_home}
    sources: dict[str, str] = {}
    for spec in dataclasses.fields(kind):
        if spec.name == "home":
            continue
        toml_key: str = spec.metadata["toml"]
        env_name: str | None = spec.metadata["env"]
        source = f"{toml_key} in {resolved_home / SETTINGS_FILE}"
        raw = _lookup_toml(document, toml_key, source)
        if env_name and values.get(env_name, "") != "":
            raw = values[env_name]
            source = env_name
        if raw is None:
            continue
        arguments[spec.name] = _coerce(raw, spec.default, source)
        sources[spec.name] = source

    settings = kind(**arguments)
    _validate(settings, sources)
    return settings


def _lookup_toml(document: dict[str, Any], dotted: str, source: str) -> Any:
    section, _, name = dotted.partition(".")
    table = document.get(section)
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{section} in {source.split(' in ', 1)[1]} must be a table: write [{section}]")
    return table.get(name)


def _coerce(raw: Any, default: Any, source: str) -> Any:
    if isinstance(default, int) and not isinstance(default, bool):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{source} must be a whole number") from None
    if not isinstance(raw, str):
        raise ConfigError(f"{source} must be a string")
    return raw.strip()


def _validate(settings: CommonSettings, sources: dict[str, str]) -> None:
    if settings.log_level.upper() not in LOG_LEVELS:
        where = sources.get("log_level", "SEALBOOK_LOG_LEVEL")
        raise ConfigError(f"{where} must be one of {', '.join(LOG_LEVELS)}")
    if settings.default_region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        where = sources.get("default_region", "clinic.default_region")
        raise ConfigError(f"{where} must be a two-letter region code such as AU or NZ")
