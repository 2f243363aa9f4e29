"""No admin command prints a canary patient's phone number, chat id or e-mail address, in any spelling.

Contacts made from known identifiers get notices and audit entries; then
every command runs in its own process, with and without ``--json``, on
success and on error, and with ``--help``, and its whole output is searched.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import typer
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.app import app
from admin_cli.errors import EXIT_AUDIT_BROKEN, EXIT_OK, EXIT_USAGE
from crypto import normalise
from storage import db
from storage.audit import record_audit
from storage.models.audit import AuditEntry
from storage.models.outbox import Notice
from storage.outbox import enqueue_notice
from tests.admin_cli.canary import (
    CANARY_EMAIL,
    CANARY_PHONE_SPELLINGS,
    CANARY_TELEGRAM_CHAT_ID,
    find_canaries,
    seed_canary_contacts,
)
from tests.admin_cli.conftest import AdminRun, run_admin_process
from tests.conftest import FIXED_START

# Subprocesses mostly wait on imports and the database, so a few at a time
# shorten the run without starving a two-core machine.
PARALLEL_RUNS = 3


@dataclass(frozen=True)
class Case:
    """One run of the tool: the command it exercises, its arguments and the exit code expected."""

    command: str
    args: Sequence[str]
    expect: int
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seeded:
    """What the seeding made: the references to name and the secret bytes to look for."""

    references: tuple[str, ...]
    secret_bytes: tuple[bytes, ...]


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
    """Make canary contacts with notices and audit entries about their bookings."""
    references = ("K7QM-4X2P", "K7QM-4X2Q")
    staff_text = f"Call {CANARY_PHONE_SPELLINGS[1]} or write to {CANARY_EMAIL} about {{ref}}"
    with db.session_scope(factory) as session:
        canaries = seed_canary_contacts(session, FIXED_START)
        for index, contact_id in enumerate((canaries.sms_id, canaries.telegram_id)):
            enqueue_notice(
                session,
                kind="staff_message",
                contact_id=contact_id,
                booking_id=index + 1,
                reference=references[index],
                params={"staff_text": staff_text, "chat": CANARY_TELEGRAM_CHAT_ID},
                due_at=FIXED_START,
                priority_at=FIXED_START + timedelta(hours=1),
                created_at=FIXED_START,
            )
            record_audit(
                session,
                at=FIXED_START,
                actor="staff:reception",
                action="staff_message",
                reference=references[index],
                outcome="queued",
            )
        session.execute(
            update(Notice)
            .where(Notice.reference == references[0])
            .values(status="failed", attempts=3, last_error_class="Unreachable")
        )
    return Seeded(references, canaries.secret_bytes)


def data_cases(seeded: Seeded) -> list[Case]:
    """Return the success and error runs of every command against the seeded database."""
    phone = CANARY_PHONE_SPELLINGS[1]
    return [
        Case("audit", ["audit"], EXIT_OK),
        Case("audit", ["audit", "--json"], EXIT_OK),
        Case("audit", ["audit", "--since", "today", "--json"], EXIT_OK),
        Case("audit", ["audit", "--since", phone], EXIT_USAGE),
        Case("audit", ["audit", "--since", CANARY_EMAIL, "--json"], EXIT_USAGE),
        Case("audit verify", ["audit", "verify"], EXIT_OK),
        Case("audit verify", ["audit", "verify", "--json"], EXIT_OK),
        Case("outbox", ["outbox"], EXIT_OK),
        Case("outbox", ["outbox", "--json"], EXIT_OK),
        Case("outbox", ["outbox", "--failed"], EXIT_OK),
        Case("outbox", ["outbox", "--failed", "--json"], EXIT_OK),
        Case("outbox", ["outbox", "--reference", seeded.references[0], "--json"], EXIT_OK),
        Case("outbox", ["outbox", "--limit", phone], EXIT_USAGE),
        Case("outbox", ["outbox", "--limit", CANARY_TELEGRAM_CHAT_ID + "x", "--json"], EXIT_USAGE),
    ]


def broken_chain_cases() -> list[Case]:
    """Return the runs that expect ``audit verify`` to fail once an entry is edited."""
    return [
        Case("audit verify", ["audit", "verify"], EXIT_AUDIT_BROKEN),
        Case("audit verify", ["audit", "verify", "--json"], EXIT_AUDIT_BROKEN),
    ]


def run_cases(cases: Sequence[Case], env: dict[str, str]) -> list[tuple[Case, AdminRun]]:
    """Run every case in its own process, a few at a time."""
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        runs = pool.map(lambda case: run_admin_process(list(case.args), {**env, **case.env}), cases)
        return list(zip(cases, runs, strict=True))


def check_runs(results: Sequence[tuple[Case, AdminRun]], secret_bytes: Sequence[bytes]) -> None:
    """Assert each run's exit code, its one-line error, and that no canary is in its output."""
    for case, run in results:
        assert run.code == case.expect, (case.args, run.err)
        assert find_canaries(run.output, secret_bytes) == [], case.args
        assert "Traceback" not in run.output, case.args
        if case.expect != EXIT_OK:
            assert run.err.strip().count("\n") == 0, (case.args, run.err)


def test_canary_every_command(session_factory: sessionmaker[Session], admin_env: dict[str, str]) -> None:
    """Every command, with and without --json, on success and on error, shows no canary."""
    seeded = seed(session_factory)
    cases = data_cases(seeded)

    results = run_cases(cases, admin_env)
    with db.session_scope(session_factory) as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(outcome="edited"))
    results += run_cases(broken_chain_cases(), admin_env)

    check_runs(results, seeded.secret_bytes)
    paths = command_paths(app)
    all_cases = cases + broken_chain_cases()
    for path, takes_json in paths.items():
        ran = [case for case in all_cases if case.command == path]
        assert any(case.expect == EXIT_OK for case in ran), f"no successful run of {path!r}"
        assert any(case.expect != EXIT_OK for case in ran), f"no failing run of {path!r}"
        if takes_json:
            assert any("--json" in case.args for case in ran), f"no --json run of {path!r}"
            assert any("--json" not in case.args for case in ran), f"no table run of {path!r}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_canary_help(session_factory: sessionmaker[Session], admin_env: dict[str, str]) -> None:
    """``--help`` of the tool and of every command shows no canary and exits 0."""
    seeded = seed(session_factory)
    cases = [Case("", ["--help"], EXIT_OK)] + [
        Case(path, [*path.split(), "--help"], EXIT_OK) for path in command_paths(app)
    ]

    check_runs(run_cases(cases, admin_env), seeded.secret_bytes)


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
