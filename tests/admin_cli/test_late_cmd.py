"""`sealbook-admin late` and `away`: counts, confirmation, operator and errors, on both databases."""

from __future__ import annotations

import getpass
import io
import json
import logging
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.app import app
from admin_cli.runner import run_admin
from booking.late_notices import RUNNING_LATE, SESSION_CANCELLED
from storage.models.audit import AuditEntry
from storage.models.contacts import Contact
from storage.models.outbox import Notice
from tests.booking.late_db_driver import DatabaseDayDriver
from tests.booking.late_replay import Scenario, at

Factory = sessionmaker[Session]
Run = Callable[..., tuple[int, str, str]]

# Eight 15-minute bookings every half hour from 13:00 with Dr Lee.
AFTERNOON = Scenario(
    name="afternoon",
    first_start="13:00",
    count=8,
    interval_minutes=30,
    duration_minutes=15,
    replay_from="12:00",
    replay_until="12:00",
)


@pytest.fixture
def day(session_factory: Factory) -> DatabaseDayDriver:
    """Return a driver over the afternoon's bookings."""
    return DatabaseDayDriver(session_factory, AFTERNOON)


@pytest.fixture
def run(
    db_url: str, day: DatabaseDayDriver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """Return a function that runs sealbook-admin at 12:00 on the scenario day and returns code, out, err."""
    for name in ("SEALBOOK_HOME", "SEALBOOK_OPERATOR", "SEALBOOK_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEALBOOK_DATABASE_URL", db_url)
    monkeypatch.setenv("SEALBOOK_NOW", at("12:00").isoformat())

    def invoke(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> tuple[int, str, str]:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        # The command configures logging on the root logger; put pytest's
        # handlers back so no later test logs to this test's closed stderr.
        handlers, level = logging.root.handlers[:], logging.root.level
        try:
            code = run_admin(app, list(args))
        finally:
            logging.root.handlers[:] = handlers
            logging.root.setLevel(level)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def count_notices(factory: Factory, kind: str) -> int:
    """Return how many notices of one kind are in the outbox."""
    with factory() as session:
        return len(session.scalars(select(Notice.id).where(Notice.kind == kind)).all())


def audit_actors(factory: Factory, action: str) -> list[str]:
    """Return the actors of the audit entries of one action."""
    with factory() as session:
        return list(session.scalars(select(AuditEntry.actor).where(AuditEntry.action == action)))


def test_late_with_yes(session_factory: Factory, day: DatabaseDayDriver, run: Run) -> None:
    """With --yes the declaration goes ahead, says what it reaches and lists references only."""
    code, out, err = run("late", "lee", "40", "--date", "2027-03-10", "--yes", "--operator", "alex.reception")

    assert code == 0, err
    assert "lee 40 minutes late on 2027-03-10: reaches 8 remaining bookings; 8 patients" in err
    assert "declared; 8 running-late notices queued" in out
    assert f"  {day.references[1]}  expected 13:40" in out
    assert count_notices(session_factory, RUNNING_LATE) == 8
    assert audit_actors(session_factory, "declare_late") == ["staff:alex.reception"]


def test_late_declined_changes_nothing(session_factory: Factory, day: DatabaseDayDriver, run: Run) -> None:
    """Answering no at the prompt exits 4 and writes nothing."""
    code, out, err = run("late", "lee", "40", stdin="n\n")

    assert code == 4
    assert "reaches 8 remaining bookings" in err
    assert "not confirmed; nothing changed" in err
    assert out.strip() == ""
    assert count_notices(session_factory, RUNNING_LATE) == 0
    assert audit_actors(session_factory, "declare_late") == []


def test_late_confirmed_at_prompt(session_factory: Factory, day: DatabaseDayDriver, run: Run) -> None:
    """Answering yes at the prompt declares, with the operator from SEALBOOK_OPERATOR."""
    code, _out, _err = run("late", "lee", "45", stdin="y\n", env={"SEALBOOK_OPERATOR": "Sam"})

    assert code == 0
    assert audit_actors(session_factory, "declare_late") == ["staff:Sam"]


def test_operator_defaults_to_login(session_factory: Factory, day: DatabaseDayDriver, run: Run) -> None:
    """Without --operator or SEALBOOK_OPERATOR the login name is recorded."""
    code, _out, err = run("late", "lee", "0", "--yes")

    assert code == 0, err
    assert audit_actors(session_factory, "declare_late") == [f"staff:{getpass.getuser()}"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("late", "nobody", "30", "--yes"), 3, "no practitioner has that id"),
        (("late", "lee", "30", "--date", "31/02", "--yes"), 2, "must be an ISO date"),
        (("late", "lee", "900", "--yes"), 2, "0 to 720"),
        (("late", "lee", "100000", "--yes"), 2, "0 to 720"),
        (("late", "lee", "--yes", "--", "-5"), 2, "0 to 720"),
        (("late", "lee", "ten", "--yes"), 2, "valid integer"),
        (("late", "lee", "30", "--date", "2027-03-09", "--yes"), 2, "has already passed"),
        (("late", "lee", "30", "--yes", "--operator", "0412 345 678"), 2, "operator name"),
        (("late", "0412 345 678", "30", "--yes"), 3, "no practitioner has that id"),
        (("away", "lee", "--from", "3pm", "--yes"), 2, "must be a local time HH:MM"),
        (("away", "lee", "--from", "25:00", "--yes"), 2, "must be a local time HH:MM"),
        (("away", "lee", "--from", "15:00", "--date", "2027-03-09", "--yes"), 2, "has already passed"),
        (("away", "nobody", "--from", "15:00", "--yes"), 3, "no practitioner has that id"),
        (("away", "lee", "--from", "19:00", "--yes"), 2, "no working session at or after 19:00"),
    ],
)
def test_bad_input_one_line(
    session_factory: Factory, day: DatabaseDayDriver, run: Run, args: tuple[str, ...], code: int, message: str
) -> None:
    """Bad input gets a plain message, no traceback, and the database is left alone."""
    actual_code, out, err = run(*args)

    assert actual_code == code
    assert message in err
    assert out == ""
    assert "reaches" not in err
    assert "Traceback" not in out + err
    assert "0412" not in out + err
    assert audit_actors(session_factory, "declare_late") == []


def test_away_with_yes(session_factory: Factory, day: DatabaseDayDriver, run: Run) -> None:
    """Away from 15:00 cancels the four later bookings and lists them by reference."""
    code, out, err = run("away", "lee", "--from", "15:00", "--yes", "--operator", "Alex")

    assert code == 0, err
    assert "from 15:00 to 18:00: reaches 4 bookings; 4 will be cancelled" in err
    assert "declared; 4 bookings cancelled" in out
    for number in range(5, 9):
        assert f"  {day.references[number]}  cancelled, patient offered a new time" in out
    assert count_notices(session_factory, SESSION_CANCELLED) == 4
    assert audit_actors(session_factory, "declare_away") == ["staff:Alex"]


def test_output_has_no_pseudonym(session_factory: Factory, day: DatabaseDayDriver, run: Run) -> None:
    """Nothing the commands print contains any contact's pseudonym, in hex or raw."""
    _code, late_out, _ = run("late", "lee", "40", "--yes")
    _code, away_out, _ = run("away", "lee", "--from", "15:00", "--yes")

    with session_factory() as session:
        pseudonyms = list(session.scalars(select(Contact.pseudonym)))
    for pseudonym in pseudonyms:
        assert pseudonym.hex() not in late_out + away_out
        assert pseudonym.hex().upper() not in late_out + away_out


def test_late_json(session_factory: Factory, day: DatabaseDayDriver, run: Run) -> None:
    """``late --json`` prints one object naming each notice by reference and expected time."""
    code, out, err = run("late", "lee", "40", "--date", "2027-03-10", "--yes", "--json")

    assert code == 0, err
    result = json.loads(out)
    assert result["practitioner"] == "lee"
    assert result["date"] == "2027-03-10"
    assert result["minutes"] == 40
    assert result["remaining"] == 8
    assert [notice["reference"] for notice in result["notices"]] == [
        day.references[number] for number in range(1, 9)
    ]
    expected = datetime.fromisoformat(result["notices"][0]["expected_at"])
    assert expected == at("13:40")
    assert expected.utcoffset() is not None


def test_away_json(session_factory: Factory, day: DatabaseDayDriver, run: Run) -> None:
    """``away --json`` prints the window with its offset and the cancelled references."""
    code, out, err = run("away", "lee", "--from", "15:00", "--yes", "--json")

    assert code == 0, err
    result = json.loads(out)
    assert result["cancelled"] == [day.references[number] for number in range(5, 9)]
    assert result["in_waiting_room"] == []
    assert datetime.fromisoformat(result["from"]) == at("15:00")
    assert datetime.fromisoformat(result["until"]) == at("18:00")


def test_away_declined_changes_nothing(session_factory: Factory, day: DatabaseDayDriver, run: Run) -> None:
    """Standard input ending without a reply exits 4 and cancels no booking."""
    code, out, err = run("away", "lee", "--from", "15:00")

    assert code == 4
    assert "reaches 4 bookings" in err
    assert out.strip() == ""
    assert count_notices(session_factory, SESSION_CANCELLED) == 0
    assert audit_actors(session_factory, "declare_away") == []


def test_visit_step_recomputes_day(session_factory: Factory, day: DatabaseDayDriver, run: Run) -> None:
    """A consult started 50 minutes late from the desk queues notices for the later patients at once, without a tick."""
    assert count_notices(session_factory, RUNNING_LATE) == 0
    code, _out, err = run("start", day.references[1], "--yes", env={"SEALBOOK_NOW": at("13:50").isoformat()})

    assert code == 0, err
    assert count_notices(session_factory, RUNNING_LATE) > 0
