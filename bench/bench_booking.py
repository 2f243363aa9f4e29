"""Benchmark the booking core: slot search cost, and the booking transaction against a bare insert.

Run: `.venv/bin/python bench/bench_booking.py` (PostgreSQL at 127.0.0.1:5432,
user postgres, database test, or SEALBOOK_TEST_POSTGRES_URL; without it the
PostgreSQL part is skipped with the reason printed).

1. Slot search over 20 practitioners and a 90-day horizon, a third of the
   first 30 days already booked: the day-by-day search for the nearest 5,
   50 and 500 slots, against generating every slot of the horizon and
   taking the first ones (the baseline whose cost grows with the horizon).
2. The booking transaction (`booking.book`: rule checks, booking row, time
   cells, two outbox notices, an audit entry, commit) against a bare
   insert-and-commit of the same rows with no checks, on the same database
   in the same run, for SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from booking import availability
from booking.claims import cells_between
from booking.clinic import Clinic
from booking.clinic_file import parse_clinic_file
from booking.references import new_reference
from booking.service import book, find_slots
from booking.store import import_clinic, load_clinic
from storage import db
from storage.audit import entry_digest
from storage.models.audit import AuditEntry
from storage.models.bookings import BookingCellRow, BookingRow
from storage.models.clinic import AppointmentTypeRow, PractitionerRow
from storage.models.contacts import Contact
from storage.models.outbox import Notice

NOW = datetime(2027, 3, 1, 20, 0, tzinfo=UTC)  # Tue 2 Mar 2027 07:00 in Sydney
PRACTITIONERS = 20
BOOKINGS = 300
POSTGRES_URL = os.environ.get(
    "SEALBOOK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def clinic_text() -> str:
    """Return a clinic file with 20 practitioners working weekdays with a lunch break."""
    parts = [
        '[clinic]\nname = "Bench Clinic"\nphone = "02 9000 0000"\n',
        "[rules]\nhorizon_days = 90\nminimum_notice_minutes = 60\n",
    ]
    for number in range(PRACTITIONERS):
        parts.append(
            f'[[practitioners]]\nid = "p{number:02d}"\nname = "Dr Bench {number}"\n'
            "[practitioners.hours]\n"
            + "".join(
                f'{day} = ["08:00-12:00", "13:00-17:00"]\n'
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
            )
        )
    parts.append('[[appointment_types]]\nid = "standard"\nname = "Standard"\nduration_minutes = 15\n')
    return "\n".join(parts)


def timed(action: Callable[[], object], repeat: int) -> float:
    """Return the median seconds of `repeat` runs of `action`."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def prepare(engine: Engine) -> tuple[Clinic, int]:
    """Migrate, import the bench clinic and add one contact; return the clinic and contact id."""
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


def fill_third(engine: Engine, clinic: Clinic, contact_id: int) -> None:
    """Book every third slot of the first 30 days with bare inserts, to give the search work."""
    slots = availability.find_slots(
        clinic,
        appointment_type_id="standard",
        now=NOW,
        to_date=(NOW + timedelta(days=30)).date(),
        limit=10**6,
    )[::3]
    with engine.begin() as connection:
        ids = dict(connection.execute(select(PractitionerRow.slug, PractitionerRow.id)).all())
        type_id = connection.scalar(select(AppointmentTypeRow.id))
        for slot in slots:
            booking_id = connection.execute(
                insert(BookingRow).returning(BookingRow.id),
                _booking_values(ids[slot.practitioner_id], type_id, contact_id, slot),
            ).scalar_one()
            connection.execute(
                insert(BookingCellRow),
                [
                    {"practitioner_id": ids[slot.practitioner_id], "cell": cell, "booking_id": booking_id}
                    for cell in cells_between(slot.starts_at, slot.ends_at)
                ],
            )


def _booking_values(
    practitioner_row: int, type_row: int | None, contact_id: int, slot: availability.Slot
) -> dict[str, object]:
    return {
        "reference": new_reference(),
        "contact_id": contact_id,
        "practitioner_id": practitioner_row,
        "appointment_type_id": type_row,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "occupied_until": slot.ends_at,
        "status": "booked",
        "created_at": NOW,
        "updated_at": NOW,
        "moves": 0,
    }


def bench_search(engine: Engine, clinic: Clinic) -> None:
    """Print slot search timings against the full-horizon baseline."""
    factory = db.make_session_factory(engine)
    with factory() as session:
        full = timed(
            lambda: find_slots(session, clinic, appointment_type_id="standard", now=NOW, limit=10**6), 3
        )
        total = len(find_slots(session, clinic, appointment_type_id="standard", now=NOW, limit=10**6))
        print(f"  baseline, every free slot of the 90-day horizon: {total} slots in {full * 1000:.1f} ms")
        for limit in (5, 50, 500):
            search = partial(
                find_slots, session, clinic, appointment_type_id="standard", now=NOW, limit=limit
            )
            seconds = timed(search, 20)
            print(
                f"  nearest {limit:>3} slots: {seconds * 1000:7.2f} ms; "
                f"baseline / search = {full / seconds:6.1f}"
            )
        far = (NOW + timedelta(days=80)).date()
        seconds = timed(
            lambda: find_slots(
                session, clinic, appointment_type_id="standard", now=NOW, from_date=far, limit=5
            ),
            20,
        )
        print(
            f"  nearest   5 from day 80: {seconds * 1000:7.2f} ms; baseline / search = {full / seconds:6.1f}"
        )


def bench_booking(engine: Engine, clinic: Clinic, contact_id: int) -> float:
    """Time BOOKINGS booking transactions and BOOKINGS bare inserts of the same rows; return the ratio."""
    factory = db.make_session_factory(engine)
    with factory() as session:
        slots = find_slots(session, clinic, appointment_type_id="standard", now=NOW, limit=2 * BOOKINGS)
    booked, bare = slots[:BOOKINGS], slots[BOOKINGS:]

    started = time.perf_counter()
    for slot in booked:
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
    booking_seconds = time.perf_counter() - started

    with engine.connect() as connection:
        ids = dict(connection.execute(select(PractitionerRow.slug, PractitionerRow.id)).all())
        type_id = connection.scalar(select(AppointmentTypeRow.id))
        seq = connection.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
    started = time.perf_counter()
    for slot in bare:
        seq += 1
        with engine.begin() as connection:
            booking_id = connection.execute(
                insert(BookingRow).returning(BookingRow.id),
                _booking_values(ids[slot.practitioner_id], type_id, contact_id, slot),
            ).scalar_one()
            connection.execute(
                insert(BookingCellRow),
                [
                    {"practitioner_id": ids[slot.practitioner_id], "cell": cell, "booking_id": booking_id}
                    for cell in cells_between(slot.starts_at, slot.ends_at)
                ],
            )
            notice = {
                "contact_id": contact_id,
                "booking_id": booking_id,
                "reference": "BENC-H000",
                "params": {},
                "status": "pending",
                "due_at": NOW,
                "priority_at": slot.starts_at,
                "attempts": 0,
                "created_at": NOW,
            }
            connection.execute(
                insert(Notice), [notice | {"kind": "booking_confirmed"}, notice | {"kind": "reminder"}]
            )
            digest = entry_digest(bytes(32), seq, NOW, "patient", "book", "BENC-H000", "ok", None)
            connection.execute(
                insert(AuditEntry),
                {
                    "seq": seq,
                    "at": NOW,
                    "actor": "patient",
                    "action": "book",
                    "reference": "BENC-H000",
                    "outcome": "ok",
                    "detail": None,
                    "prev_hash": bytes(32),
                    "entry_hash": digest,
                },
            )
    bare_seconds = time.perf_counter() - started

    ratio = booking_seconds / bare_seconds
    print(
        f"  {BOOKINGS} booking transactions: {booking_seconds / BOOKINGS * 1000:.2f} ms each; "
        f"bare insert-and-commit of the same rows: {bare_seconds / BOOKINGS * 1000:.2f} ms each; "
        f"ratio {ratio:.2f}"
    )
    return ratio


def run_on(label: str, url: str) -> None:
    """Run both benchmarks on one database."""
    print(f"{label}:")
    engine = db.make_engine(url)
    try:
        clinic, contact_id = prepare(engine)
        fill_third(engine, clinic, contact_id)
        bench_search(engine, clinic)
        bench_booking(engine, clinic, contact_id)
    finally:
        engine.dispose()


def main() -> None:
    """Run on a temporary SQLite file, then on a temporary PostgreSQL schema."""
    with tempfile.TemporaryDirectory() as folder:
        run_on("SQLite (WAL, synchronous=NORMAL)", f"sqlite+pysqlite:///{Path(folder) / 'bench.sqlite3'}")

    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # noqa: BLE001 - any failure means no PostgreSQL to measure
        print(f"PostgreSQL skipped: {type(error).__name__}: {str(error).splitlines()[0]}")
        return
    try:
        run_on("PostgreSQL", f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
