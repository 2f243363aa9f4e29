"""Relay throughput with one and two workers against the Telegram stand-in, and the cost of opening contacts.

Run from the repository root: `python bench/bench_relay.py [--notices N]`.

Throughput: `sealbook relay` processes deliver N staff messages to N Telegram chats
through the loopback Bot API stand-in. The clock runs from the commit of the notices
to the moment none is pending or being sent. The baseline is a bare
`python-telegram-bot` process sending N messages to the same stand-in with the same
concurrency, without database or sealed contacts, timed in the same run. One worker
runs on SQLite; one and two workers run on PostgreSQL when it is reachable at
`SEALBOOK_TEST_POSTGRES_URL` (default `postgresql+psycopg://postgres@127.0.0.1:5432/test`).

Opening cost: per notice, the relay reads the contact row and opens its sealed
address; both are timed against a bare HPKE `Suite.decrypt` of the same blob.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from booking import DEMO_CLINIC, import_clinic, load_clinic_file
from crypto import Identifier, load_front_keyring, load_relay_keyring, open_contact, seal_contact
from crypto.seal import build_info, read_header
from crypto.suites import SPECS
from sealbook.clock import FixedClock
from sealbook.home import initialise_home
from sealbook.standins.server import serve_in_background
from sealbook.standins.telegram_api import TelegramApiStandin
from storage import db
from storage.models.contacts import Contact
from storage.models.outbox import Notice
from storage.outbox import enqueue_notice

NOW = dt.datetime(2027, 3, 10, 0, 0, tzinfo=dt.UTC)
TOKEN = "700000001:bench"  # noqa: S105 - the stand-in's made-up bot token
CONCURRENCY = 16
SEALBOOK = str(Path(sys.executable).with_name("sealbook"))
POSTGRES_URL = os.environ.get(
    "SEALBOOK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

BARE_SENDER = """
import asyncio, sys, time
from telegram import Bot
from telegram.request import HTTPXRequest

async def main(url, count, concurrency):
    request = HTTPXRequest(connection_pool_size=concurrency)
    async with Bot(sys.argv[4], base_url=url + "/bot", request=request) as bot:
        gate = asyncio.Semaphore(concurrency)
        async def send(chat_id):
            async with gate:
                await bot.send_message(chat_id=chat_id, text="Please bring your Medicare card. (ref T00000)")
        started = time.perf_counter()
        await asyncio.gather(*(send(9_000_000 + index) for index in range(count)))
        print(time.perf_counter() - started)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


def seed(factory: sessionmaker[Session], home: Path, count: int) -> None:
    """Load the demo clinic and create `count` sealed Telegram contacts."""
    keyring = load_front_keyring(home / "keys")
    with db.session_scope(factory) as session:
        import_clinic(session, load_clinic_file(DEMO_CLINIC, now=NOW), NOW)
        rows = [
            Contact(
                channel="telegram",
                pseudonym=secrets.token_bytes(32),
                pseudonym_key_id="bench",
                created_at=NOW,
            )
            for _ in range(count)
        ]
        session.add_all(rows)
        session.flush()
        for index, row in enumerate(rows):
            identifier = Identifier("telegram", str(8_000_000 + index))
            row.sealed_contact = seal_contact(keyring.active_seal_key, identifier, row.id)
            row.seal_key_id = keyring.active_seal_key.key_id


def enqueue(factory: sessionmaker[Session], run: int) -> int:
    """Queue one staff message per contact and return how many."""
    with db.session_scope(factory) as session:
        contact_ids = list(session.scalars(select(Contact.id).order_by(Contact.id)))
        for index, contact_id in enumerate(contact_ids):
            reference = f"B{run}{index:05d}"
            enqueue_notice(
                session,
                kind="staff_message",
                contact_id=contact_id,
                booking_id=None,
                reference=reference,
                params={
                    "reference": reference,
                    "practitioner_name": "Dr Mei Lee",
                    "starts_at": (NOW + dt.timedelta(hours=2)).isoformat(),
                    "text": "Please bring your Medicare card.",
                },
                due_at=NOW,
                priority_at=NOW + dt.timedelta(hours=2),
                created_at=NOW,
            )
    return len(contact_ids)


def unfinished(factory: sessionmaker[Session]) -> int:
    """Count notices still pending or being sent."""
    with factory() as session:
        count = session.scalar(
            select(func.count()).select_from(Notice).where(Notice.status.in_(("pending", "sending")))
        )
    return int(count or 0)


def relay_throughput(home: Path, url: str, api_url: str, workers: int, run: int, logs: Path) -> float:
    """Start `workers` relays, queue the notices, and return notices per second until all finish."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("SEALBOOK_")}
    environ |= {
        "SEALBOOK_HOME": str(home),
        "SEALBOOK_DATABASE_URL": url,
        "SEALBOOK_NOW": NOW.isoformat(),
        "SEALBOOK_RELAY_TRANSPORT": "live",
        "SEALBOOK_TELEGRAM_TOKEN": TOKEN,
        "SEALBOOK_TELEGRAM_API_URL": api_url,
        "SEALBOOK_RELAY_TELEGRAM_PER_SECOND": "100000",
        "SEALBOOK_RELAY_CONCURRENCY": str(CONCURRENCY),
        "SEALBOOK_RELAY_POLL_MILLISECONDS": "50",
    }
    factory = db.make_session_factory(db.make_engine(url))
    processes = []
    for index in range(workers):
        log = logs / f"relay-{run}-{index}.log"
        with log.open("w") as stream:
            processes.append(subprocess.Popen([SEALBOOK, "relay"], env=environ, stdout=stream, stderr=stream))
        while "started" not in log.read_text():
            time.sleep(0.05)
    count = enqueue(factory, run)
    started = time.perf_counter()
    while unfinished(factory):
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    for process in processes:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    return count / elapsed


def bare_throughput(api_url: str, count: int) -> float:
    """Return messages per second of a bare python-telegram-bot process against the stand-in."""
    output = subprocess.run(
        [sys.executable, "-c", BARE_SENDER, api_url, str(count), str(CONCURRENCY), TOKEN],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return count / float(output.strip())


def opening_costs(home: Path, url: str, number: int) -> list[str]:
    """Time the relay's per-notice contact opening against a bare HPKE open; return Markdown rows."""
    keyring = load_relay_keyring(home / "keys")
    factory = db.make_session_factory(db.make_engine(url))
    with factory() as session:
        contact = session.scalars(select(Contact).order_by(Contact.id).limit(1)).one()
    blob = contact.sealed_contact
    assert blob is not None
    header, header_len = read_header(blob)
    info = build_info(header, contact.channel, contact.id)
    private_key = keyring.find(header.key_id)
    assert private_key is not None
    suite = SPECS[header.suite].hpke_suite()

    def bare() -> object:
        return suite.decrypt(blob[header_len:], private_key.hpke_key, info=info)

    def open_only() -> object:
        return open_contact(keyring, blob, channel=contact.channel, contact_id=contact.id)

    def load_and_open() -> object:
        with factory() as session:
            row = session.get(Contact, contact.id)
            assert row is not None
            assert row.sealed_contact is not None
            return open_contact(keyring, row.sealed_contact, channel=row.channel, contact_id=row.id)

    rows = []
    for name, ours, calls in (
        ("open_contact", open_only, number),
        ("read contact row + open_contact (SQLite)", load_and_open, number // 4),
    ):
        ours_best = bare_best = float("inf")
        for _ in range(5):
            ours_best = min(ours_best, timeit.timeit(ours, number=calls) / calls * 1e6)
            bare_best = min(bare_best, timeit.timeit(bare, number=calls) / calls * 1e6)
        rows.append(f"| {name} | {ours_best:.1f} | {bare_best:.1f} | {ours_best / bare_best:.2f} |")
    return rows


def postgres_schema() -> tuple[str, str] | None:
    """Create a fresh schema and return (its URL, its name), or None if PostgreSQL is unreachable."""
    name = f"bench_{secrets.token_hex(4)}"
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means the PostgreSQL rows are skipped
        print(f"PostgreSQL unreachable ({type(error).__name__}); its rows are skipped", file=sys.stderr)
        return None
    return f"{POSTGRES_URL}?options=-csearch_path%3D{name}", name


def drop_schema(name: str) -> None:
    """Drop a schema made by `postgres_schema`."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))


def main() -> None:
    """Run every measurement and print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=500, help="notices per throughput run (default 500)")
    arguments = parser.parse_args()
    count = arguments.notices

    workdir = Path(tempfile.mkdtemp(prefix="sealbook-bench-relay-"))
    home = workdir / "home"
    initialise_home(home, clock=FixedClock(NOW))
    sqlite_url = f"sqlite+pysqlite:///{home / 'sealbook.sqlite3'}"
    seed(db.make_session_factory(db.make_engine(sqlite_url)), home, count)
    postgres = postgres_schema()

    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| sealed contact, per notice | µs | Suite.decrypt µs | ratio |")
    print("| --- | --- | --- | --- |")
    for row in opening_costs(home, sqlite_url, 2000):
        print(row)
    print()

    standin = TelegramApiStandin(TOKEN)
    results = []
    try:
        with serve_in_background(standin.app) as api_url:
            baseline = bare_throughput(api_url, count)
            results.append(("SQLite", 1, relay_throughput(home, sqlite_url, api_url, 1, 1, workdir)))
            if postgres is not None:
                postgres_url, _ = postgres
                engine = db.make_engine(postgres_url)
                db.upgrade(engine)
                seed(db.make_session_factory(engine), home, count)
                for run, workers in ((2, 1), (3, 2)):
                    results.append(
                        (
                            "PostgreSQL",
                            workers,
                            relay_throughput(home, postgres_url, api_url, workers, run, workdir),
                        )
                    )
    finally:
        if postgres is not None:
            drop_schema(postgres[1])
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{count} notices per run, concurrency {CONCURRENCY} per relay and for the bare sender:")
    print()
    print("| database | relay workers | notices/s | bare sends/s | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for database, workers, rate in results:
        print(f"| {database} | {workers} | {rate:.0f} | {baseline:.0f} | {rate / baseline:.2f} |")


if __name__ == "__main__":
    main()
