"""No admin command prints a canary patient's phone number, chat id or e-mail address, in any spelling.

Contacts made from known identifiers get notices and audit entries; then
every command runs, with and without ``--json``, on success and on error,
and with ``--help``, and its whole output is searched. The runs happen in
this process with file descriptors 1 and 2 captured. One run also goes
through the installed console script, and its output must match the
in-process run's output exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import typer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.app import app
from admin_cli.errors import EXIT_AUDIT_BROKEN, EXIT_ERROR, EXIT_NOT_FOUND, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from crypto import normalise
from storage import db
from storage.models.audit import AuditEntry
from storage.models.contacts import Contact
from storage.models.outbox import Notice
from storage.outbox import enqueue_notice
from tests.admin_cli.canary import (
    CANARY_EMAIL,
    CANARY_PHONE_SPELLINGS,
    CANARY_TELEGRAM_CHAT_ID,
    find_canaries,
)
from tests.admin_cli.clinic_day import ADMIN_NOW, DEMO_CLINIC_FILE, ClinicDay, local, seed_clinic_day
from tests.admin_cli.conftest import AdminInProcessRunner, AdminRun, run_admin_process


@dataclass(frozen=True)
class Case:
    """One run of the tool: the command it exercises, its arguments and the exit code expected."""

    command: str
    args: Sequence[str]
    expect: int
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seeded:
    """What the seeding made: the clinic day, a spare booking and the secret bytes to look for."""

    day: ClinicDay
    secret_bytes: tuple[bytes, ...]
    spare: str = ""


def book_spare(session: Session) -> str:
    """Book one more appointment, for the move and cancel runs to change."""
    from booking.service import book
    from booking.store import load_clinic

    contact_id = session.scalar(select(Contact.id).order_by(Contact.id).limit(1))
    assert contact_id is not None
    view = book(
        session,
        load_clinic(session),
        contact_id=contact_id,
        appointment_type_id="standard",
        practitioner_id="lee",
        starts_at=local(10, 0),
        now=ADMIN_NOW,
        actor="staff:seeder",
    )
    return view.reference


def command_paths(group: typer.Typer) -> dict[str, bool]:
    """Return every command path of the app, each with whether it takes ``--json``."""
    paths: dict[str, bool] = {}

    # Typer builds its own vendored click commands; they are read by attribute.
    def walk(command: Any, prefix: str) -> None:
        if prefix:
            paths[prefix] = any("--json" in getattr(param, "opts", []) for param in command.params)
        for name, child in getattr(command, "commands", {}).items():
            walk(child, f"{prefix} {name}".strip())

    walk(typer.main.get_command(group), "")
    return paths


def seed(factory: sessionmaker[Session]) -> Seeded:
    """Make the clinic day, plus a failed notice and a staff message naming the canaries."""
    day = seed_clinic_day(factory)
    staff_text = f"Call {CANARY_PHONE_SPELLINGS[1]} or write to {CANARY_EMAIL} about {{ref}}"
    with db.session_scope(factory) as session:
        enqueue_notice(
            session,
            kind="staff_message",
            contact_id=day.canaries.telegram_id,
            booking_id=None,
            reference=day.lee_second,
            params={"text": staff_text, "chat": CANARY_TELEGRAM_CHAT_ID},
            due_at=ADMIN_NOW,
            priority_at=ADMIN_NOW + timedelta(hours=1),
            created_at=ADMIN_NOW,
        )
        session.execute(
            update(Notice)
            .where(Notice.reference == day.lee_first)
            .values(status="failed", attempts=3, last_error_class="Unreachable")
        )
    return Seeded(day, day.canaries.secret_bytes)


def read_cases(seeded: Seeded) -> list[Case]:
    """Return the runs that change nothing: listings, and every command's failing runs."""
    day = seeded.day
    phone, phone_compact, email = CANARY_PHONE_SPELLINGS[1], CANARY_PHONE_SPELLINGS[3], CANARY_EMAIL
    chat = CANARY_TELEGRAM_CHAT_ID
    return [
        Case("day", ["day"], EXIT_OK),
        Case("day", ["day", "--json", "--all"], EXIT_OK),
        Case("day", ["day", "--date", phone], EXIT_USAGE),
        Case("day", ["day", "--practitioner", email, "--json"], EXIT_NOT_FOUND),
        Case("show", ["show", day.lee_first], EXIT_OK),
        Case("show", ["show", day.nair_first, "--json"], EXIT_OK),
        Case("show", ["show", phone], EXIT_NOT_FOUND),
        Case("show", ["show", chat, "--json"], EXIT_NOT_FOUND),
        Case("move", ["move", day.lee_second, phone], EXIT_USAGE),
        Case("move", ["move", phone_compact, "2027-03-10 10:30", "--json"], EXIT_NOT_FOUND),
        Case("cancel", ["cancel", phone, "--yes"], EXIT_NOT_FOUND),
        Case("cancel", ["cancel", day.cancelled, "--json"], EXIT_REFUSED),
        Case("checkin", ["checkin", email], EXIT_NOT_FOUND),
        Case("checkin", ["checkin", day.cancelled, "--json"], EXIT_REFUSED),
        Case("start", ["start", chat], EXIT_NOT_FOUND),
        Case("start", ["start", day.cancelled, "--json"], EXIT_REFUSED),
        Case("finish", ["finish", phone_compact], EXIT_NOT_FOUND),
        Case("finish", ["finish", day.nair_first, "--json"], EXIT_REFUSED),
        Case("noshow", ["noshow", day.nair_first], EXIT_REFUSED),
        Case("noshow", ["noshow", phone, "--json"], EXIT_NOT_FOUND),
        Case("message", ["message", phone_compact, "Hello"], EXIT_NOT_FOUND),
        Case("message", ["message", "-p", "lee", "Call {phone}", "--yes", "--json"], EXIT_USAGE),
        Case("message", ["message", "-p", chat, "Hello", "--yes"], EXIT_NOT_FOUND),
        Case("late", ["late", "lee", "soon", "--yes"], EXIT_USAGE),
        Case("late", ["late", phone_compact, "20", "--yes", "--json"], EXIT_NOT_FOUND),
        Case("late", ["late", "lee", "20", "--date", phone, "--yes"], EXIT_USAGE),
        Case("away", ["away", "nobody", "--from", "14:00", "--yes"], EXIT_NOT_FOUND),
        Case("away", ["away", "lee", "--from", phone_compact, "--yes", "--json"], EXIT_USAGE),
        Case("away", ["away", email, "--from", "14:00", "--yes"], EXIT_NOT_FOUND),
        Case("practitioners", ["practitioners"], EXIT_OK),
        Case("practitioners", ["practitioners", "--json"], EXIT_OK),
        Case("practitioners", ["practitioners", phone_compact], EXIT_USAGE),
        Case("hours", ["hours"], EXIT_OK),
        Case("hours", ["hours", "nair", "--json"], EXIT_OK),
        Case("hours", ["hours", phone], EXIT_NOT_FOUND),
        Case("hours", ["hours", "--date", email, "--json"], EXIT_USAGE),
        Case("leave", ["leave", "lee", phone], EXIT_USAGE),
        Case("leave", ["leave", email, "2027-03-12"], EXIT_NOT_FOUND),
        Case("import", ["import", "/nonexistent/clinic.toml"], EXIT_ERROR),
        Case("audit", ["audit"], EXIT_OK),
        Case("audit", ["audit", "--json"], EXIT_OK),
        Case("audit", ["audit", "--since", "today", "--json"], EXIT_OK),
        Case("audit", ["audit", "--since", phone], EXIT_USAGE),
        Case("audit", ["audit", "--since", email, "--json"], EXIT_USAGE),
        Case("audit verify", ["audit", "verify"], EXIT_OK),
        Case("audit verify", ["audit", "verify", "--json"], EXIT_OK),
        Case("outbox", ["outbox"], EXIT_OK),
        Case("outbox", ["outbox", "--json"], EXIT_OK),
        Case("outbox", ["outbox", "--failed"], EXIT_OK),
        Case("outbox", ["outbox", "--failed", "--json"], EXIT_OK),
        Case("outbox", ["outbox", "--reference", day.lee_first, "--json"], EXIT_OK),
        Case("outbox", ["outbox", "--limit", phone], EXIT_USAGE),
        Case("outbox", ["outbox", "--limit", chat + "x", "--json"], EXIT_USAGE),
    ]


def change_cases(seeded: Seeded) -> list[Case]:
    """Return the runs that change the day, in the order they must run."""
    day = seeded.day
    after_start = {"SEALBOOK_NOW": (ADMIN_NOW + timedelta(hours=2)).isoformat()}
    return [
        Case("import", ["import", str(DEMO_CLINIC_FILE)], EXIT_OK),
        Case("message", ["message", day.lee_first, "See you at {time}, {ref}"], EXIT_OK),
        Case("message", ["message", "-p", "lee", "Running late", "--yes", "--json"], EXIT_OK),
        Case("late", ["late", "lee", "20", "--yes"], EXIT_OK),
        Case("late", ["late", "lee", "25", "--yes", "--json"], EXIT_OK),
        Case("checkin", ["checkin", day.lee_first], EXIT_OK),
        Case("start", ["start", day.lee_first, "--json"], EXIT_OK),
        Case("finish", ["finish", day.lee_first], EXIT_OK),
        Case("checkin", ["checkin", day.lee_second, "--json"], EXIT_OK),
        Case("start", ["start", day.lee_second], EXIT_OK),
        Case("finish", ["finish", day.lee_second, "--json"], EXIT_OK),
        Case("noshow", ["noshow", day.nair_first, "--json"], EXIT_OK, after_start),
        Case("away", ["away", "nair", "--from", "13:00", "--yes"], EXIT_OK),
        Case("away", ["away", "nair", "--from", "13:00", "--yes", "--json"], EXIT_OK),
        Case("leave", ["leave", "nair", "2027-03-11", "--yes"], EXIT_OK),
    ]


def moving_cases(seeded: Seeded) -> list[Case]:
    """Return the move and cancel runs, on a booking of their own made for them."""
    reference = seeded.spare
    return [
        Case("move", ["move", reference, "2027-03-10 10:30"], EXIT_OK),
        Case("move", ["move", reference, "2027-03-10T10:45", "--json"], EXIT_OK),
        Case("cancel", ["cancel", reference, "--reason", "duplicate", "--json"], EXIT_OK),
    ]


def broken_chain_cases() -> list[Case]:
    """Return the runs that expect ``audit verify`` to fail once an entry is edited."""
    return [
        Case("audit verify", ["audit", "verify"], EXIT_AUDIT_BROKEN),
        Case("audit verify", ["audit", "verify", "--json"], EXIT_AUDIT_BROKEN),
    ]


def run_cases(
    run: AdminInProcessRunner, cases: Sequence[Case], env: dict[str, str]
) -> list[tuple[Case, AdminRun]]:
    """Run every case in order, each with the shared variables plus its own."""
    return [(case, run(list(case.args), {**env, **case.env})) for case in cases]


def check_runs(results: Sequence[tuple[Case, AdminRun]], secret_bytes: Sequence[bytes]) -> None:
    """Assert each run's exit code, its one-line error, and that no canary is in its output."""
    for case, run in results:
        assert run.code == case.expect, (case.args, run.err)
        assert find_canaries(run.output, secret_bytes) == [], case.args
        assert "Traceback" not in run.output, case.args
        if case.expect != EXIT_OK:
            assert run.err.strip().count("\n") == 0, (case.args, run.err)


def test_canary_every_command(
    session_factory: sessionmaker[Session], admin_env: dict[str, str], admin_in_process: AdminInProcessRunner
) -> None:
    """Every command, with and without --json, on success and on error, shows no canary."""
    seeded = seed(session_factory)
    with db.session_scope(session_factory) as session:
        seeded = Seeded(seeded.day, seeded.secret_bytes, spare=book_spare(session))
    read_only = read_cases(seeded)
    in_order = moving_cases(seeded) + change_cases(seeded)

    results = run_cases(admin_in_process, read_only, admin_env)
    results += run_cases(admin_in_process, in_order, admin_env)
    with db.session_scope(session_factory) as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(outcome="edited"))
    results += run_cases(admin_in_process, broken_chain_cases(), admin_env)

    check_runs(results, seeded.secret_bytes)
    all_cases = read_only + in_order + broken_chain_cases()
    for path, takes_json in command_paths(app).items():
        ran = [case for case in all_cases if case.command == path]
        assert any(case.expect == EXIT_OK for case in ran), f"no successful run of {path!r}"
        assert any(case.expect != EXIT_OK for case in ran), f"no failing run of {path!r}"
        if takes_json:
            assert any("--json" in case.args for case in ran), f"no --json run of {path!r}"
            assert any("--json" not in case.args for case in ran), f"no table run of {path!r}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_canary_help(
    session_factory: sessionmaker[Session], admin_env: dict[str, str], admin_in_process: AdminInProcessRunner
) -> None:
    """``--help`` of the tool and of every command shows no canary and exits 0."""
    seeded = seed(session_factory)
    cases = [Case("", ["--help"], EXIT_OK)] + [
        Case(path, [*path.split(), "--help"], EXIT_OK) for path in command_paths(app)
    ]

    check_runs(run_cases(admin_in_process, cases, admin_env), seeded.secret_bytes)


@pytest.mark.parametrize(
    "spelling",
    [*CANARY_PHONE_SPELLINGS, CANARY_TELEGRAM_CHAT_ID, CANARY_EMAIL, CANARY_EMAIL.lower(), "0491.570.157"],
)
def test_canary_search_finds_spelling(spelling: str) -> None:
    """The search finds each canary spelling inside other text, so the checks above can fail."""
    assert find_canaries(f"booking K7QM-4X2P: {spelling}.\n") != []


def test_canary_spellings_one_patient() -> None:
    """Every phone spelling searched for is the same patient as the seeded SMS contact."""
    values = {normalise("sms", spelling).value for spelling in CANARY_PHONE_SPELLINGS}

    assert values == {"+61491570157"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_canary_console_script(
    session_factory: sessionmaker[Session], admin_env: dict[str, str], admin_in_process: AdminInProcessRunner
) -> None:
    """The installed ``sealbook-admin`` prints the day with no canary, exactly as the in-process run does."""
    seeded = seed(session_factory)
    args = ["day", "--json", "--all"]

    in_process = admin_in_process(args, admin_env)
    console_script = run_admin_process(args, admin_env)

    assert console_script.code == EXIT_OK, console_script.err
    assert find_canaries(console_script.output, seeded.secret_bytes) == []
    assert seeded.day.lee_first in console_script.out
    assert console_script.out == in_process.out
    assert console_script.err == in_process.err
