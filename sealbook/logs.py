"""Logging set-up, done once per entry point."""

from __future__ import annotations

import logging
import threading

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


class RepeatThrottle(logging.Filter):
    """Filter that passes the 1st, 2nd, 4th, 8th... record of each message template and drops the rest.

    A server's own warnings about malformed requests ("Invalid HTTP request
    received.") come once per request, so a client sending junk in a loop
    would otherwise fill the log. A repeat that passes carries the count so far.
    """

    def __init__(self) -> None:
        super().__init__()
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (str(record.msg), record.levelno)
        with self._lock:
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        if count & (count - 1) != 0:
            return False
        if count > 1:
            record.msg = f"{record.msg} ({count} so far)"
        return True


def throttle_repeats(logger_name: str) -> RepeatThrottle:
    """Attach a `RepeatThrottle` to a logger and return it."""
    throttle = RepeatThrottle()
    logging.getLogger(logger_name).addFilter(throttle)
    return throttle
