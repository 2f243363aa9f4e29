"""Creating a sealbook home: settings file, keyrings and a migrated database."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from booking.clinic_file import DEMO_CLINIC
from booking.importing import import_clinic_file
from booking.profiles import profile_names
from booking.store import ImportSummary
from crypto import KeyringError, SealSuite, init_keyrings
from sealbook.clock import Clock, clock_from_env
from sealbook.errors import ConfigError
from sealbook.settings import (
    DATABASE_FILE,
    KEYS_FOLDER,
    SETTINGS_FILE,
    SETTINGS_FILE_MODE,
    CommonSettings,
    CustodianSettings,
    load_settings,
)
from storage import db

logger = logging.getLogger(__name__)


SETTINGS_TEMPLATE = """\
# sealbook settings for this home folder.
# Environment variables named SEALBOOK_* override the values here, which is
# the better place for secrets such as bot tokens.

[clinic]
# Domain profile: medical, student-consultations or law-practice. It sets the
# wording (patient, student or client) and the default booking rules.
profile = "{profile}"
# The clinic's name as patients see it.
name = "Harbourside Family Practice"
# Region for phone numbers written without a country code (ISO 3166 code).
default_region = "AU"

[database]
# SQLAlchemy URL. Empty means the SQLite file {database_file} in this folder.
# PostgreSQL: "postgresql://USER@HOST:5432/DBNAME" (or SEALBOOK_DATABASE_URL).
url = ""

[front]
# Public base URL that Telegram and Twilio call, such as https://book.example.org
# (SEALBOOK_PUBLIC_URL). Twilio signs PUBLIC_URL/sms.
public_url = ""
# Base URL of the Telegram Bot API, for a self-hosted Bot API server
# (SEALBOOK_TELEGRAM_API_URL). Empty means Telegram's own.
telegram_api_url = ""

[keys]
# HPKE suite for new relay keys: "x25519" (X25519, HKDF-SHA256,
# ChaCha20-Poly1305) or "mlkem768-x25519" (the post-quantum hybrid
# ML-KEM-768 + X25519; blobs of 1402 bytes instead of 314). Applies when
# keys are created or rotated; existing keys keep their suite.
seal_suite = "x25519"

[relay]
# How the relay delivers: "console" prints deliveries (the demo), "live"
# sends over Telegram, SMS and e-mail with the credentials in the environment.
transport = "console"

[logging]
# DEBUG, INFO, WARNING or ERROR (SEALBOOK_LOG_LEVEL). No level logs contact
# details, pseudonyms, tokens or message text.
level = "INFO"
"""


@dataclass
class InitReport:
    """Outcome of ``initialise_home``: the parts it created and the parts it found already there."""

    home: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    database_before: str | None = None
    database_after: str | None = None
    clinic: ImportSummary | None = None

    @property
    def changed(self) -> bool:
        return bool(self.created) or self.database_before != self.database_after


def initialise_home(
    home: Path, profile: str = "medical", clock: Clock | None = None, *, demo_clinic: bool = False
) -> InitReport:
    """Create whatever part of a home is missing; never overwrite a file or regenerate a key."""
    if profile not in profile_names():
        raise ConfigError(f"unknown profile {profile!r}; choose one of {', '.join(profile_names())}")
    report = InitReport(home=home)

    if not home.exists():
        # The database and keys inside hold personal data: owner only.
        home.mkdir(mode=0o700, parents=True)
    settings_path = home / SETTINGS_FILE
    if settings_path.exists():
        report.kept.append(SETTINGS_FILE)
    else:
        _write_settings_file(
            settings_path, SETTINGS_TEMPLATE.format(profile=profile, database_file=DATABASE_FILE)
        )
        report.created.append(SETTINGS_FILE)

    clock = clock or clock_from_env()
    if create_keyrings(home, clock):
        report.created.append(f"{KEYS_FOLDER}/")
    else:
        report.kept.append(f"{KEYS_FOLDER}/")

    settings = load_settings(CommonSettings, home)
    engine = db.make_engine(settings.effective_database_url)
    try:
        report.database_before, report.database_after = db.upgrade(engine)
    finally:
        engine.dispose()
    if report.database_before is None:
        report.created.append("database")
    database_file = home / DATABASE_FILE
    if not settings.database_url and database_file.exists():
        database_file.chmod(0o600)
    if demo_clinic:
        report.clinic = import_clinic_file(
            settings.effective_database_url, DEMO_CLINIC, now=clock.now(), actor="system"
        )
    return report


def _write_settings_file(path: Path, text: str) -> None:
    """Create the settings file with mode 0600, since an operator may add a token or password to it.

    Raises FileExistsError rather than overwrite an existing file.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SETTINGS_FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        # A umask such as 0277 would leave 0400, which the operator cannot
        # edit, so the mode is set exactly.
        os.fchmod(handle.fileno(), SETTINGS_FILE_MODE)
        handle.write(text)


def create_keyrings(home: Path, clock: Clock) -> bool:
    """Create the home's three keyring files unless all exist; return whether they were created.

    Existing files are loaded and checked as each component loads them
    (folder and file modes, format), so `sealbook init` does not report a
    home as ready whose keyrings every component would reject. Raises
    ConfigError with the loaders' message and fix for such a file, when
    only some of the files exist, or when the seal suite setting is
    unknown, because new keys then cannot be made safely.
    """
    settings = load_settings(CustodianSettings, home)
    try:
        suite = SealSuite.from_name(settings.seal_suite)
    except ValueError as error:
        raise ConfigError(f"keys.seal_suite in {home / SETTINGS_FILE}: {error}") from None
    try:
        return init_keyrings(settings.keys_dir, suite, now=clock.now())
    except KeyringError as error:
        raise ConfigError(str(error)) from None
