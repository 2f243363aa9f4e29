"""Benchmark one running-late event that reaches 1,000 bookings, against a bare insert of 1,000 outbox rows.

Run: `.venv/bin/python bench/bench_late.py` (PostgreSQL at 127.0.0.1:5432,
user postgres, database test, or SEALBOOK_TEST_POSTGRES_URL; without it the
PostgreSQL part is skipped with the reason printed).

The event is `booking.late.declare_late` declaring one practitioner 45
minutes late. It takes the practitioner's lock, appends the declaration,
loads and projects the day and applies the notice policy. Then it writes one
notified step and one outbox notice per booking (the notices in one batch
through `storage.outbox.enqueue_notices`), appends an audit entry and
commits. It is timed from the call to the commit. The baseline inserts 1,000
outbox rows with the same parameters in one executemany statement and
commits, on the same database in the same run. Two middle rows queue the
same notices with nothing else: one `enqueue_notice` call each, and one
`enqueue_notices` batch.

No real practitioner has 1,000 bookings in a day, and the booking core's
time cells would refuse them, so the day is synthetic: 1,000 one-minute
bookings from 06:00, written straight into the bookings table without
cells. The projection and the notices do not read the cells.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from booking.clinic import Clinic
from booking.clinic_file import parse_clinic_file
from booking.late import declare_late
from booking.references import new_reference
from booking.store import import_clinic, load_clinic
from storage import db
from storage.models.audit import AuditEntry
from storage.models.bookings import BookingRow
from storage.models.clinic import AppointmentTypeRow, PractitionerRow
from storage.models.contacts import Contact
from storage.models.delays import DelayDeclaration, LateNoticeStep
from storage.models.outbox import Notice
from storage.outbox import NewNotice, enqueue_notice, enqueue_notices

BOOKINGS = 1_000
ROUNDS = 5
DAY = date(2027, 3, 10)
DAY_START = datetime(2027, 3, 9, 19, 0, tzinfo=UTC)  # 06:00 in Sydney on 10 March 2027
NOW = DAY_START - timedelta(hours=1)
POSTGRES_URL = os.environ.get(
    "SEALBOOK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CLINIC = """
[clinic]
name = "Bench Clinic"
phone = "02 9000 0000"

[[practitioners]]
id = "lee"
name = "Dr Lee"

[practitioners.hours]
wednesday = ["06:00-23:00"]

[[appointment_types]]
id = "standard"
name = "Standard consultation"
duration_minutes = 15
"""


def prepare(engine: Engine) -> Clinic:
    """Migrate, import the clinic and write the synthetic day of 1,000 bookings, one contact each."""
    db.upgrade(engine)
    factory = db.make_session_factory(engine)
    with db.session_scope(factory) as session:
        import_clinic(session, parse_clinic_file(CLINIC, now=NOW), NOW)
    with db.session_scope(factory) as session:
        practitioner_id = session.scalars(select(PractitionerRow.id)).one()
        type_id = session.scalars(select(AppointmentTypeRow.id)).one()
        contacts = [
            {
                "channel": "sms",
                "pseudonym": secrets.token_bytes(32),
                "pseudonym_key_id": "bench",
                "created_at": NOW,
            }
            for _ in range(BOOKINGS)
        ]
        session.execute(insert(Contact), contacts)
        contact_ids = list(session.scalars(select(Contact.id).order_by(Contact.id)))
        bookings: list[dict[str, Any]] = []
        for number, contact_id in enumerate(contact_ids):
            starts_at = DAY_START + timedelta(minutes=number)
            bookings.append(
                {
                    "reference": new_reference(),
                    "contact_id": contact_id,
                    "practitioner_id": practitioner_id,
                    "appointment_type_id": type_id,
                    "starts_at": starts_at,
                    "ends_at": starts_at + timedelta(minutes=1),
                    "occupied_until": starts_at + timedelta(minutes=1),
                    "status": "booked",
                    "created_at": NOW,
                    "updated_at": NOW,
                    "moves": 0,
                }
            )
        session.execute(insert(BookingRow), bookings)
    with factory() as session:
        return load_clinic(session)


def reset(engine: Engine) -> None:
    """Remove what the previous round wrote, so every round starts from the same day."""
    with db.session_scope(db.make_session_factory(engine)) as session:
        session.execute(delete(LateNoticeStep))
        session.execute(delete(DelayDeclaration))
        session.execute(delete(Notice))  # the event's notices and both baselines' rows
        session.execute(delete(AuditEntry).where(AuditEntry.action == "declare_late"))


def time_event(engine: Engine, clinic: Clinic) -> float:
    """Return the seconds from the declaration to its commit, with every notice in the outbox."""
    factory = db.make_session_factory(engine)
    started = time.perf_counter()
    with db.session_scope(factory) as session:
        outcome = declare_late(
            session, clinic, practitioner_id="lee", minutes=45, local_date=DAY, now=NOW, actor="staff:Bench"
        )
    elapsed = time.perf_counter() - started
    if len(outcome.notices) != BOOKINGS:
        raise RuntimeError(f"the event queued {len(outcome.notices)} notices, expected {BOOKINGS}")
    return elapsed


def time_bare_insert(engine: Engine) -> float:
    """Return the seconds to insert and commit 1,000 outbox rows like the event's, in one statement."""
    factory = db.make_session_factory(engine)
    with factory() as session:
        sample = session.scalars(select(Notice).limit(1)).one()
        contact_ids = list(session.scalars(select(Contact.id).order_by(Contact.id)))
    rows = [
        {
            "kind": "bench_bare",
            "contact_id": contact_id,
            "booking_id": None,
            "reference": sample.reference,
            "params": sample.params,
            "status": "pending",
            "due_at": NOW,
            "priority_at": NOW,
            "attempts": 0,
            "dedupe_key": f"bench:{number}",
            "created_at": NOW,
        }
        for number, contact_id in enumerate(contact_ids)
    ]
    started = time.perf_counter()
    with db.session_scope(factory) as session:
        session.execute(insert(Notice), rows)
    return time.perf_counter() - started


def bench_notices(engine: Engine, kind: str) -> list[NewNotice]:
    """Return 1,000 notices like the event's, one per contact, with dedupe keys unique to `kind`."""
    with db.make_session_factory(engine)() as session:
        sample = session.scalars(select(Notice).where(Notice.kind == "running_late").limit(1)).one()
        contact_ids = list(session.scalars(select(Contact.id).order_by(Contact.id)))
    return [
        NewNotice(
            kind=kind,
            contact_id=contact_id,
            booking_id=None,
            reference=sample.reference,
            params=sample.params,
            due_at=NOW,
            priority_at=NOW,
            created_at=NOW,
            dedupe_key=f"{kind}:{number}",
        )
        for number, contact_id in enumerate(contact_ids)
    ]


def time_enqueue_loop(engine: Engine) -> float:
    """Return the seconds to queue 1,000 notices one `enqueue_notice` call at a time, and commit.

    This is the part of the event that the outbox's one-notice-per-call
    interface costs (a duplicate check and a flushed insert per notice).
    """
    arguments = [asdict(notice) for notice in bench_notices(engine, "bench_loop")]
    started = time.perf_counter()
    with db.session_scope(db.make_session_factory(engine)) as session:
        for notice_arguments in arguments:
            enqueue_notice(session, **notice_arguments)
    return time.perf_counter() - started


def time_enqueue_batch(engine: Engine) -> float:
    """Return the seconds to queue 1,000 notices in one `enqueue_notices` batch, and commit."""
    notices = bench_notices(engine, "bench_batch")
    started = time.perf_counter()
    with db.session_scope(db.make_session_factory(engine)) as session:
        enqueue_notices(session, notices)
    return time.perf_counter() - started


def run_on(label: str, url: str) -> None:
    """Prepare a database, then alternate the event and the baseline for several rounds."""
    engine = db.make_engine(url)
    try:
        clinic = prepare(engine)
        events: list[float] = []
        bares: list[float] = []
        loops: list[float] = []
        batches: list[float] = []
        for _ in range(ROUNDS):
            reset(engine)
            events.append(time_event(engine, clinic))
            bares.append(time_bare_insert(engine))
            loops.append(time_enqueue_loop(engine))
            batches.append(time_enqueue_batch(engine))
    finally:
        engine.dispose()
    event = statistics.median(events)
    bare = statistics.median(bares)
    loop = statistics.median(loops)
    batch = statistics.median(batches)
    print(f"{label} (median of {ROUNDS} rounds, {BOOKINGS} notices each):")
    print(f"  bare insert of {BOOKINGS} outbox rows, one statement:  {bare * 1000:8.1f} ms  (1.0)")
    print(
        f"  enqueue_notice called {BOOKINGS} times:              {loop * 1000:8.1f} ms  ({loop / bare:.1f})"
    )
    print(
        f"  enqueue_notices, one batch of {BOOKINGS}:            {batch * 1000:8.1f} ms  ({batch / bare:.1f})"
    )
    print(f"  declare_late, event to commit:                {event * 1000:8.1f} ms  ({event / bare:.1f})")


def main() -> None:
    """Run on a temporary SQLite file, then on a temporary PostgreSQL schema."""
    with tempfile.TemporaryDirectory() as folder:
        run_on("SQLite", f"sqlite+pysqlite:///{Path(folder) / 'bench.sqlite3'}")

    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # noqa: BLE001 - any failure means PostgreSQL is not usable here
        print(f"PostgreSQL skipped: {type(error).__name__}: {str(error).splitlines()[0]}")
        admin.dispose()
        return
    try:
        run_on("PostgreSQL", f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
