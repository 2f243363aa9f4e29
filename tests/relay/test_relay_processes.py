"""`sealbook relay` as real processes: a SIGKILL mid-run, two relays at once, and SQLite's one-relay rule."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from relay.channels.telegram import TelegramSettings
from sealbook.standins.telegram_api import TelegramApiStandin
from storage.models.outbox import Notice
from tests.relay.helpers import add_telegram_contacts, enqueue_staff_messages, import_demo_clinic, notice_rows

Factory = sessionmaker[Session]
NOW = dt.datetime(2027, 3, 10, 0, 0, tzinfo=dt.UTC)
SEALBOOK = str(Path(sys.executable).with_name("sealbook"))
REFERENCE = re.compile(r"\(ref (T\d{5})\)")
# Sends time out after 5 s, well above the stand-in's latency on a loaded machine, and the
# lease must be over twice that.
LEASE_SECONDS = 11
# Enough for both relays to claim many batches of 16 at the same time. 1,000
# took about 30 s to deliver on two loaded cores.
SHARED_NOTICES = 500


@pytest.fixture
def launch(
    home: Path, db_url: str, telegram_settings: TelegramSettings, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Return a function that starts `sealbook relay` against the stand-in; every process is ended after."""
    processes: list[subprocess.Popen[str]] = []
    files: list[TextIO] = []

    def start(name: str, *args: str, clock_start: dt.datetime = NOW) -> subprocess.Popen[str]:
        environ = {key: value for key, value in os.environ.items() if not key.startswith("SEALBOOK_")}
        environ.update(
            {
                "SEALBOOK_HOME": str(home),
                "SEALBOOK_DATABASE_URL": db_url,
                "SEALBOOK_NOW": clock_start.isoformat(),
                "SEALBOOK_RELAY_TRANSPORT": "live",
                "SEALBOOK_TELEGRAM_TOKEN": telegram_settings.token,
                "SEALBOOK_TELEGRAM_API_URL": telegram_settings.api_url,
                "SEALBOOK_RELAY_TELEGRAM_PER_SECOND": "100000",
                "SEALBOOK_RELAY_LEASE_SECONDS": str(LEASE_SECONDS),
                "SEALBOOK_RELAY_SEND_TIMEOUT_SECONDS": "5",
                "SEALBOOK_RELAY_RETRY_BASE_SECONDS": "1",
                "SEALBOOK_RELAY_CONCURRENCY": "16",
                "SEALBOOK_RELAY_POLL_MILLISECONDS": "100",
            }
        )
        stdout = (tmp_path / f"{name}.out").open("w")
        stderr = (tmp_path / f"{name}.err").open("w")
        files.extend((stdout, stderr))
        process = subprocess.Popen(
            [SEALBOOK, "relay", *args], env=environ, stdout=stdout, stderr=stderr, text=True
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
    for file in files:
        file.close()


def delivered(standin: TelegramApiStandin) -> Counter[str]:
    """Count the successful sends of each notice reference."""
    return Counter(
        match.group(1) for text in standin.sent_texts() if (match := REFERENCE.search(text)) is not None
    )


def wait_until(condition: Callable[[], bool], timeout_seconds: float, what: str) -> None:
    """Poll `condition` every 100 ms, failing the test with `what` after the timeout."""
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_seconds} s waiting for {what}")
        time.sleep(0.1)


def all_finished(factory: Factory) -> bool:
    """Tell whether no notice is pending or being sent any more."""
    with factory() as session:
        unfinished = session.scalar(
            select(func.count()).select_from(Notice).where(Notice.status.in_(("pending", "sending")))
        )
    return unfinished == 0


def stop(process: subprocess.Popen[str]) -> int:
    """Ask a relay to stop with SIGTERM and return its exit code."""
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


def test_killed_relay_is_taken_over(
    session_factory: Factory,
    home: Path,
    telegram_api: TelegramApiStandin,
    launch: Callable[..., subprocess.Popen[str]],
) -> None:
    """After a SIGKILL mid-run a second relay delivers every notice; only in-flight ones may repeat."""
    import_demo_clinic(session_factory, NOW)
    chat_ids = list(range(7_000_000, 7_000_500))
    contact_ids = add_telegram_contacts(session_factory, home, chat_ids, NOW)
    references = enqueue_staff_messages(session_factory, contact_ids, NOW)
    started = time.monotonic()

    first = launch("first")
    wait_until(lambda: sum(delivered(telegram_api).values()) >= 150, 60, "150 deliveries")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    in_flight = {notice.reference for notice in notice_rows(session_factory) if notice.status == "sending"}
    sent_by_first = sum(delivered(telegram_api).values())

    # The second relay starts as if restarted one lease later, so the killed
    # relay's leases have run out without 11 s of waiting in real time.
    # test_relay_worker checks that a live relay's lease is left alone.
    restarted_at = NOW + dt.timedelta(seconds=time.monotonic() - started + LEASE_SECONDS)
    second = launch("second", clock_start=restarted_at)
    wait_until(lambda: all_finished(session_factory), 90, "every notice to finish")
    assert stop(second) == 0

    counts = delivered(telegram_api)
    duplicates = {reference for reference, count in counts.items() if count > 1}
    assert set(counts) == set(references)
    assert duplicates <= in_flight
    assert max(counts.values()) <= 2
    assert {notice.status for notice in notice_rows(session_factory)} == {"sent"}
    assert 150 <= sent_by_first < len(references)


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_relays_deliver_each_notice_once(
    session_factory: Factory,
    home: Path,
    telegram_api: TelegramApiStandin,
    launch: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    """Two relays on PostgreSQL share 500 notices, and each notice is delivered exactly once."""
    import_demo_clinic(session_factory, NOW)
    relays = [launch("one"), launch("two")]
    wait_until(
        lambda: all("relay " in (tmp_path / f"{name}.err").read_text() for name in ("one", "two")),
        60,
        "both relays to start",
    )

    chat_ids = list(range(8_000_000, 8_000_000 + SHARED_NOTICES))
    contact_ids = add_telegram_contacts(session_factory, home, chat_ids, NOW)
    references = enqueue_staff_messages(session_factory, contact_ids, NOW)
    wait_until(lambda: all_finished(session_factory), 120, "every notice to finish")

    assert [stop(relay) for relay in relays] == [0, 0]
    counts = delivered(telegram_api)
    assert set(counts) == set(references)
    assert set(counts.values()) == {1}
    sent_per_relay = [
        int(re.search(r"relay finished: (\d+) sent", (tmp_path / f"{name}.out").read_text()).group(1))  # type: ignore[union-attr]
        for name in ("one", "two")
    ]
    assert sum(sent_per_relay) == SHARED_NOTICES
    assert min(sent_per_relay) > 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_second_relay_on_sqlite_exits(
    session_factory: Factory, launch: Callable[..., subprocess.Popen[str]], tmp_path: Path
) -> None:
    """A second relay on one SQLite database stops at once with a one-line reason."""
    import_demo_clinic(session_factory, NOW)
    first = launch("first")
    wait_until(
        lambda: "holding the SQLite relay lock" in (tmp_path / "first.err").read_text(), 60, "the lock"
    )

    second = launch("second", "--once")
    code = second.wait(timeout=60)

    error = (tmp_path / "second.err").read_text()
    assert code == 1
    assert "another relay is already running on this SQLite database" in error
    assert "Traceback" not in error
    assert stop(first) == 0
