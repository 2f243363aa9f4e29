"""One relay per SQLite database: an exclusive lock on a file beside the database.

SQLite has no row locks, so two relays could both read a pending notice before
either marks it, and send it twice. The relay therefore takes `flock` on
`DATABASE.relay-lock` for its whole run. The kernel drops the lock when the process
ends, even by SIGKILL, so a relay started after a crash never waits for a stale lock.
PostgreSQL needs no such lock: its relays claim rows with `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import URL

from sealbook.errors import SealbookError

logger = logging.getLogger(__name__)

LOCK_SUFFIX = ".relay-lock"


class RelayAlreadyRunning(SealbookError):
    """Another relay holds the SQLite database's relay lock."""


class SqliteRelayLock:
    """Hold the relay lock of one SQLite database file while the context is open."""

    def __init__(self, database_file: Path) -> None:
        self.path = database_file.with_name(database_file.name + LOCK_SUFFIX)
        self._fd: int | None = None

    def __enter__(self) -> SqliteRelayLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RelayAlreadyRunning(
                f"another relay is already running on this SQLite database (it holds {self.path}); "
                "SQLite allows one relay, so stop the other one or move to PostgreSQL to run several"
            ) from None
        self._fd = fd
        logger.info("holding the SQLite relay lock %s", self.path)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def sqlite_database_file(url: URL) -> Path | None:
    """Return the database file of a SQLite URL, or None for another backend."""
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return Path(url.database).resolve()
