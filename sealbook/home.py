"""Creating a sealbook home: settings file, keyrings and a migrated database."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sealbook import keys_minimal
from sealbook.errors import ConfigError
from sealbook.settings import DATABASE_FILE, KEYS_FOLDER, SETTINGS_FILE, CommonSettings, load_settings
from storage import db

logger = logging.getLogger(__name__)

PROFILES = ("medical", "student-consultations", "law-practice")

SETTINGS_TEMPLATE = """\
# sealbook settings for this home folder.
# Environment variables named SEALBOOK_* override the values here, which is
# the better place for secrets such as bot tokens.

[clinic]
# Domain profile: medical, student-consultations or law-practice. It sets the
# wording (patient, student or client) and the default booking rules.
profile = "{profile}"
# The clinic's name as patients see it.
name = "Harbour Street Medical"
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
    """What ``initialise_home`` created, and what it found already there."""

    home: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    database_before: str | None = None
    database_after: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.created) or self.database_before != self.database_after


def initialise_home(home: Path, profile: str = "medical") -> InitReport:
    """Create whatever part of a home is missing; never overwrite a file or regenerate a key."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    report = InitReport(home=home)

    if not home.exists():
        # The database and keys inside hold personal data: owner only.
        home.mkdir(mode=0o700, parents=True)
    settings_path = home / SETTINGS_FILE
    if settings_path.exists():
        report.kept.append(SETTINGS_FILE)
    else:
        settings_path.write_text(
            SETTINGS_TEMPLATE.format(profile=profile, database_file=DATABASE_FILE), encoding="utf-8"
        )
        report.created.append(SETTINGS_FILE)

    keys_dir = home / KEYS_FOLDER
    if keys_minimal.init_keyrings(keys_dir):
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
    return report
