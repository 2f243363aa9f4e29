"""Logging set-up, done once per entry point."""

from __future__ import annotations

import logging

# These libraries log request URLs that carry the Telegram bot token, or query
# strings and bodies that carry phone numbers, so they stay at WARNING even
# when sealbook runs at DEBUG.
QUIET_LOGGERS = ("httpx", "httpcore", "twilio", "twilio.http_client", "telegram", "hpack")


def configure_logging(level: str = "INFO") -> None:
    """Send log records to standard error at ``level``, with the noisy clients held back."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        force=True,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # SQLAlchemy's engine logger prints statements; bound parameters are also
    # suppressed at the engine with hide_parameters=True.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    # Alembic narrates every migration step at INFO; storage.db logs the outcome.
    logging.getLogger("alembic").setLevel(logging.WARNING)
