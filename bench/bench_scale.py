"""Measure sealbook at clinic scale: bookings, webhook turns and relay notices per second, and serve's memory.

Run: `.venv/bin/python bench/bench_scale.py [--quick]` from the repository
root (PostgreSQL at 127.0.0.1:5432, user postgres, database test, or
SEALBOOK_TEST_POSTGRES_URL; without it the PostgreSQL rows are skipped with
the reason printed). Each figure is printed beside a baseline measured in
the same run:

1. Bookings per second through `booking.book` (rules, references, time
   cells, outbox notices, audit entry, commit) from one and from two
   threads, against bare insert-and-commit transactions of one small row.
2. Webhook turns per second: signed `POST /sms` requests answered by a
   `sealbook serve` process on loopback, against `GET /healthz` requests
   to the same process; and that process's resident memory.
3. Relay notices per second with one and two `sealbook relay --once`
   processes (console transport) on PostgreSQL, against one relay on
   SQLite.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_services import bench_relay, bench_webhooks

from booking.availability import Slot
from booking.clinic import Clinic
from booking.clinic_file import parse_clinic_file
from booking.service import book, find_slots
from booking.store import import_clinic, load_clinic
from storage import db
from storage.models.contacts import Contact

NOW = datetime(2027, 3, 1, 20, 0, tzinfo=UTC)  # Tue 2 Mar 2027 07:00 in Sydney
PRACTITIONERS = 20
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_server_url() -> str:
    """Return the PostgreSQL server the bench uses: SEALBOOK_TEST_POSTGRES_URL, else the local one."""
    return os.environ.get("SEALBOOK_TEST_POSTGRES_URL", POSTGRES_URL)


def clinic_text() -> str:
    """Return a clinic file with 20 practitioners working weekdays with a lunch break."""
    parts = [
        '[clinic]\nname = "Scale Clinic"\nphone = "02 9000 0000"\n',
        "[rules]\nhorizon_days = 90\nminimum_notice_minutes = 60\n",
    ]
    for number in range(PRACTITIONERS):
        parts.append(
            f'[[practitioners]]\nid = "p{number:02d}"\nname = "Dr Scale {number}"\n'
            "[practitioners.hours]\n"
            + "".join(
                f'{day} = ["08:00-12:00", "13:00-17:00"]\n'
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
            )
        )
    parts.append('[[appointment_types]]\nid = "standard"\nname = "Standard"\nduration_minutes = 15\n')
    return "\n".join(parts)


@contextmanager
def postgres_schema() -> Iterator[str | None]:
    """Yield the URL of a throw-away PostgreSQL schema, or None (with the reason printed) without a server."""
    server = postgres_server_url()
    schema = f"scale_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # noqa: BLE001 - any failure means no PostgreSQL to measure
        print(f"  PostgreSQL skipped: {type(error).__name__}: {str(error).splitlines()[0]}")
        admin.dispose()
        yield None
        return
    try:
        yield f"{server}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def prepare(engine: Engine) -> tuple[Clinic, int]:
    """Migrate, import the scale clinic and add one contact; return the clinic and the contact id."""
    db.upgrade(engine)
    factory = db.make_session_factory(engine)
    with db.session_scope(factory) as session:
        import_clinic(session, parse_clinic_file(clinic_text(), now=NOW), NOW)
        contact = Contact(
            channel="sms", pseudonym=secrets.token_bytes(32), pseudonym_key_id="bench", created_at=NOW
        )
        session.add(contact)
        session.flush()
        contact_id = contact.id
    with factory() as session:
        return load_clinic(session), contact_id


def run_threads(work: list[Callable[[], None]]) -> float:
    """Run each callable in its own thread and return the wall-clock seconds until all finish."""
    errors: list[BaseException] = []

    def guarded(action: Callable[[], None]) -> None:
        try:
            action()
        except BaseException as error:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(action,)) for action in work]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed


def bare_commits_per_second(engine: Engine, count: int) -> float:
    """Return how many one-row insert-and-commit transactions one thread makes per second."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS scale_bare (id INTEGER PRIMARY KEY, at TEXT)"))
    started = time.perf_counter()
    for number in range(count):
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO scale_bare (id, at) VALUES (:id, :at)"),
                {"id": number, "at": NOW.isoformat()},
            )
    return count / (time.perf_counter() - started)


def bookings_per_second(engine: Engine, clinic: Clinic, contact_id: int, count: int, threads: int) -> float:
    """Book `count` distinct free slots from `threads` threads at once; return bookings per second."""
    factory = db.make_session_factory(engine)
    with factory() as session:
        slots = find_slots(session, clinic, appointment_type_id="standard", now=NOW, limit=count)
    shares = [slots[index::threads] for index in range(threads)]

    def book_share(share: list[Slot]) -> Callable[[], None]:
        def run() -> None:
            for slot in share:
                with db.session_scope(factory) as session:
                    book(
                        session,
                        clinic,
                        contact_id=contact_id,
                        appointment_type_id="standard",
                        practitioner_id=slot.practitioner_id,
                        starts_at=slot.starts_at,
                        now=NOW,
                        actor="patient",
                    )

        return run

    elapsed = run_threads([book_share(share) for share in shares])
    return count / elapsed


def bench_bookings_on(label: str, url: str, count: int) -> None:
    """Print bookings per second with one and two threads on one database, against bare commits."""
    engine = db.make_engine(url)
    try:
        clinic, contact_id = prepare(engine)
        baseline = bare_commits_per_second(engine, count)
        one = bookings_per_second(engine, clinic, contact_id, count, threads=1)
        two = bookings_per_second(engine, clinic, contact_id, count, threads=2)
    finally:
        engine.dispose()
    print(
        f"  {label}: {one:.0f} bookings/s from 1 thread, {two:.0f}/s from 2 threads; "
        f"baseline {baseline:.0f} bare commits/s; ratio {one / baseline:.3f} (1 thread)"
    )


def bench_bookings(count: int) -> None:
    """Bookings per second on SQLite and PostgreSQL."""
    print(f"bookings ({count} per run through booking.book):")
    with tempfile.TemporaryDirectory() as folder:
        bench_bookings_on("SQLite", f"sqlite+pysqlite:///{Path(folder) / 'scale.sqlite3'}", count)
    with postgres_schema() as url:
        if url is not None:
            bench_bookings_on("PostgreSQL", url, count)


def main() -> None:
    """Run every part; `--quick` runs each with a few requests, to check that the script works."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few requests per part, for tests")
    quick = parser.parse_args().quick

    bench_bookings(20 if quick else 300)
    bench_webhooks(turns=10 if quick else 300)
    with postgres_schema() as url:
        bench_relay(notices=10 if quick else 400, postgres_url=url)


if __name__ == "__main__":
    main()
