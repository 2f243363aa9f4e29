"""The booking commands on a seeded clinic day: listing, changing one booking, messages and set-up."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.errors import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_USAGE
from booking.references import ALPHABET
from relay.params import read_facts
from relay.templates import NoticeKind
from storage.models.audit import AuditEntry
from storage.models.outbox import Notice
from tests.admin_cli.clinic_day import DEMO_CLINIC_FILE, ClinicDay, seed_clinic_day
from tests.admin_cli.conftest import AdminRunner


@pytest.fixture
def clinic_day(session_factory: sessionmaker[Session]) -> ClinicDay:
    """Return the seeded demo clinic day."""
    return seed_clinic_day(session_factory)


def _mistype(reference: str) -> str:
    """Return the reference with its first symbol changed, which its check symbol catches."""
    first = ALPHABET[(ALPHABET.index(reference[0]) + 1) % len(ALPHABET)]
    return first + reference[1:]


def test_day_json_objects(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """``day --json`` lists today's bookings with local start times carrying the clinic's offset."""
    run = admin("day", "--json")

    assert run.code == 0, run.err
    bookings = json.loads(run.out)
    assert [entry["reference"] for entry in bookings] == [
        clinic_day.lee_first,
        clinic_day.nair_first,
        clinic_day.lee_second,
    ]
    first = bookings[0]
    assert first["practitioner"] == "lee"
    assert first["appointment_type"] == "standard"
    assert first["starts_at"] == "2027-03-10T09:00:00+11:00"
    assert first["status"] == "booked"


def test_day_shows_projected_delay(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """After ``late lee 30``, ``day`` gives lee's bookings an expected start 30 minutes on."""
    before = json.loads(admin("day", "--json", "--practitioner", "lee").out)
    late = admin("late", "lee", "30", "--yes")
    after = json.loads(admin("day", "--json", "--practitioner", "lee").out)
    shown = json.loads(admin("show", clinic_day.lee_first, "--json").out)

    assert before[0]["delay_minutes"] == 0
    assert late.code == 0, late.err
    assert after[0]["expected_at"] == "2027-03-10T09:30:00+11:00"
    assert after[0]["delay_minutes"] == 30
    assert shown["delay_minutes"] == 30
    assert "30 min" in admin("day", "--practitioner", "lee").out


def test_day_filters(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """``--practitioner`` keeps one practitioner's; ``--all`` adds cancelled; other days are empty."""
    lee = json.loads(admin("day", "--json", "--practitioner", "lee").out)
    everything = json.loads(admin("day", "--json", "--all", "--date", "2027-03-10").out)
    tomorrow = json.loads(admin("day", "--json", "--date", "tomorrow").out)

    assert [entry["reference"] for entry in lee] == [clinic_day.lee_first, clinic_day.lee_second]
    assert clinic_day.cancelled in [entry["reference"] for entry in everything]
    assert tomorrow == []


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["day", "--date", "next tuesday"], EXIT_USAGE, "--date"),
        (["day", "--date", "2027-02-30"], EXIT_USAGE, "--date"),
        (["day", "--practitioner", "smith"], EXIT_NOT_FOUND, "no practitioner"),
        (["show", "K7QM"], EXIT_NOT_FOUND, "reference"),
    ],
)
def test_bad_input_one_line(
    clinic_day: ClinicDay, admin: AdminRunner, args: list[str], code: int, words: str
) -> None:
    """An unreadable date, unknown practitioner or malformed reference gives one line and its code."""
    run = admin(*args)

    assert run.code == code
    assert run.err.count("\n") == 1
    assert words in run.err
    assert run.out == ""


def test_show_booking(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """``show`` finds a booking typed in lower case without its dash."""
    run = admin("show", clinic_day.nair_first.replace("-", "").lower(), "--json")

    assert run.code == 0, run.err
    shown = json.loads(run.out)
    assert shown["reference"] == clinic_day.nair_first
    assert shown["practitioner"] == "nair"


def test_show_mistyped_reference(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """A reference with a wrong symbol is caught by its check symbol: exit 3, one line."""
    run = admin("show", _mistype(clinic_day.lee_first))

    assert run.code == EXIT_NOT_FOUND
    assert "mistyped" in run.err
    assert run.err.count("\n") == 1


def test_visit_steps(
    clinic_day: ClinicDay, admin: AdminRunner, session_factory: sessionmaker[Session]
) -> None:
    """checkin, start and finish move a booking along, each audited with the operator."""
    reference = clinic_day.lee_first

    steps = [admin(command, reference, "--operator", "desk-1") for command in ("checkin", "start", "finish")]
    shown = json.loads(admin("show", reference, "--json").out)

    assert [step.code for step in steps] == [0, 0, 0], [step.err for step in steps]
    assert "checked in" in steps[0].out
    assert shown["status"] == "fulfilled"
    with session_factory() as session:
        actors = session.scalars(select(AuditEntry.actor).where(AuditEntry.reference == reference)).all()
    assert actors[-3:] == ["staff:desk-1", "staff:desk-1", "staff:desk-1"]


def test_step_output_names_status(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """Each visit step prints the status as ``day`` shows it: ``in consult`` once the consult starts."""
    reference = clinic_day.lee_first

    outputs = [admin(command, reference).out for command in ("checkin", "start")]
    day_row = next(line for line in admin("day").out.splitlines() if reference in line)
    finished = admin("finish", reference).out

    assert outputs[0].rstrip().endswith("now arrived")
    assert outputs[1].rstrip().endswith("now in consult")
    assert "in consult" in day_row
    assert finished.rstrip().endswith("now fulfilled")


def test_step_refused(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """A step the status does not allow, or a no-show before the start, is refused with exit 4."""
    finish = admin("finish", clinic_day.lee_first)
    noshow = admin("noshow", clinic_day.lee_first)
    cancelled = admin("checkin", clinic_day.cancelled)

    assert finish.code == EXIT_REFUSED
    assert noshow.code == EXIT_REFUSED
    assert cancelled.code == EXIT_REFUSED
    assert cancelled.err.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["checkin"],
        ["noshow"],
        ["cancel", "--yes"],
        ["move", "2027-03-10 10:30"],
    ],
)
def test_refusal_names_status_as_day(clinic_day: ClinicDay, admin: AdminRunner, args: list[str]) -> None:
    """A step refused for a booking in consult names its status ``in consult``, as ``day`` does."""
    reference = clinic_day.lee_first
    started = admin("start", reference)
    after_start = {"SEALBOOK_NOW": "2027-03-09T22:30:00+00:00"}

    run = admin(args[0], reference, *args[1:], env=after_start)

    assert started.code == 0, started.err
    assert run.code == EXIT_REFUSED
    assert run.err.count("\n") == 1
    assert f"booking {reference} is in consult, so it cannot be" in run.err
    assert "arrived" not in run.err


def test_refusal_keeps_day_status(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """A refusal for a checked-in, cancelled or started booking keeps the status ``day`` shows for it."""
    admin("checkin", clinic_day.lee_first)

    checked_in = admin("checkin", clinic_day.lee_first)
    cancelled = admin("checkin", clinic_day.cancelled)
    first_start = admin("start", clinic_day.lee_second)
    second_start = admin("start", clinic_day.lee_second)

    assert checked_in.code == EXIT_REFUSED
    assert f"booking {clinic_day.lee_first} is arrived, so it cannot be checked in" in checked_in.err
    assert cancelled.code == EXIT_REFUSED
    assert f"booking {clinic_day.cancelled} is cancelled, so it cannot be checked in" in cancelled.err
    assert first_start.code == 0, first_start.err
    assert second_start.code == EXIT_REFUSED
    assert "already in consult" in second_start.err


def test_move_booking(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """``move`` takes a local time with a space or a T; the reference stays and the time changes."""
    run = admin("move", clinic_day.lee_second, "2027-03-10 10:30", "--json")
    again = admin("move", clinic_day.lee_second, "2027-03-10T10:45")

    assert run.code == 0, run.err
    assert json.loads(run.out)["starts_at"] == "2027-03-10T10:30:00+11:00"
    assert again.code == 0, again.err
    assert "10:45" in again.out


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ("2027-03-10 09:00", EXIT_REFUSED),
        ("2027-03-10 03:00", EXIT_REFUSED),
        ("10/3/2027 10:30", EXIT_USAGE),
        ("tomorrow", EXIT_USAGE),
    ],
)
def test_move_rejected(clinic_day: ClinicDay, admin: AdminRunner, when: str, code: int) -> None:
    """A taken or closed time is refused; a time in another form is rejected; nothing changes."""
    run = admin("move", clinic_day.lee_second, when)
    shown = json.loads(admin("show", clinic_day.lee_second, "--json").out)

    assert run.code == code
    assert run.err.count("\n") == 1
    assert shown["starts_at"] == "2027-03-10T09:15:00+11:00"


def test_cancel_with_reason(
    clinic_day: ClinicDay, admin: AdminRunner, session_factory: sessionmaker[Session]
) -> None:
    """``cancel --reason`` cancels, tells the patient, and audits the reason code."""
    run = admin("cancel", clinic_day.nair_first, "--reason", "practitioner-unavailable", "--yes")
    twice = admin("cancel", clinic_day.nair_first)

    assert run.code == 0, run.err
    assert twice.code == EXIT_REFUSED
    with session_factory() as session:
        details = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.reference == clinic_day.nair_first)
        ).all()
        kinds = session.scalars(select(Notice.kind).where(Notice.reference == clinic_day.nair_first)).all()
    assert "reason=practitioner-unavailable" in details
    assert "booking_cancelled" in kinds


def test_message_one_booking(
    clinic_day: ClinicDay, admin: AdminRunner, session_factory: sessionmaker[Session]
) -> None:
    """``message REF TEXT`` queues one staff_message with the text unfilled and the booking's values."""
    text = "Please bring your Medicare card, {ref}."
    run = admin("message", clinic_day.lee_first, text, "--json")

    assert run.code == 0, run.err
    with session_factory() as session:
        notice = session.scalars(select(Notice).where(Notice.kind == "staff_message")).one()
    assert json.loads(run.out) == [{"reference": clinic_day.lee_first, "notice_id": notice.id}]
    assert notice.params["text"] == text
    assert notice.params["practitioner_name"] == "Dr Mei Lee"
    assert notice.reference == clinic_day.lee_first
    facts = read_facts(
        notice.id,
        NoticeKind.STAFF_MESSAGE,
        notice.reference,
        notice.params,
        booking=None,
        clinic_name="Clinic",
        zone=ZoneInfo("Australia/Sydney"),
    )
    assert facts.staff_text == text


def test_message_session_confirm(
    clinic_day: ClinicDay, admin: AdminRunner, session_factory: sessionmaker[Session]
) -> None:
    """A session message says how many bookings it reaches; 'n' sends nothing, 'y' sends to each."""
    declined = admin("message", "--practitioner", "lee", "Running late, sorry", stdin="n\n")
    no_answer = admin("message", "--practitioner", "lee", "Running late, sorry")
    accepted = admin("message", "--practitioner", "lee", "Running late, sorry", stdin="y\n")

    assert declined.code == EXIT_REFUSED
    assert "2 bookings" in declined.err
    assert no_answer.code == EXIT_REFUSED
    assert accepted.code == 0, accepted.err
    with session_factory() as session:
        references = session.scalars(select(Notice.reference).where(Notice.kind == "staff_message")).all()
    assert sorted(reference or "" for reference in references) == sorted(
        [clinic_day.lee_first, clinic_day.lee_second]
    )


def test_message_skips_seen(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """Bookings already in consult are not among a session's remaining bookings."""
    admin("start", clinic_day.lee_first)

    run = admin("message", "--practitioner", "lee", "Back on time", "--yes", "--json")

    assert run.code == 0, run.err
    assert [entry["reference"] for entry in json.loads(run.out)] == [clinic_day.lee_second]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["message", "Hello {name}"], EXIT_USAGE),
        (["message", "--practitioner", "lee", "Hi {patient}", "--yes"], EXIT_USAGE),
        (["message", "--practitioner", "lee", "x" * 300, "--yes"], EXIT_USAGE),
        (["message", "--practitioner", "lee", "--date", "yesterday", "Hi", "--yes"], EXIT_USAGE),
        (["message", "--practitioner", "nobody", "Hi", "--yes"], EXIT_NOT_FOUND),
        (["message", "--practitioner", "okafor", "Hi", "--yes"], EXIT_NOT_FOUND),
        (["message", "K7QM-4X2P", "Hi"], EXIT_NOT_FOUND),
    ],
)
def test_message_rejected(
    clinic_day: ClinicDay,
    admin: AdminRunner,
    session_factory: sessionmaker[Session],
    args: list[str],
    code: int,
) -> None:
    """Bad text, a past date, an unknown practitioner or nobody to reach: one line, nothing queued."""
    run = admin(*args)

    assert run.code == code, run.err
    assert run.err.strip().count("\n") == 0
    with session_factory() as session:
        assert session.scalars(select(Notice.id).where(Notice.kind == "staff_message")).all() == []


def test_practitioners_json(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """``practitioners --json`` gives each practitioner's id and name."""
    run = admin("practitioners", "--json")

    assert run.code == 0, run.err
    people = json.loads(run.out)
    assert [(person["id"], person["name"]) for person in people] == [
        ("lee", "Dr Mei Lee"),
        ("okafor", "Dr Tom Okafor"),
        ("nair", "Dr Priya Nair"),
    ]


def test_hours_shows_leave(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """``hours`` shows the day's sessions, and a day of leave as closed with its note."""
    before = json.loads(admin("hours", "lee", "--json", "--days", "2").out)
    leave = admin("leave", "lee", "2027-03-11", "--operator", "manager")
    after = json.loads(admin("hours", "lee", "--json", "--days", "2").out)

    assert before[0]["days"][0]["sessions"] == ["08:30-12:30", "13:30-17:00"]
    assert before[0]["days"][1]["sessions"] == ["08:30-12:30", "13:30-17:00"]
    assert leave.code == 0, leave.err
    assert after[0]["days"][1]["sessions"] == []
    assert after[0]["days"][1]["note"] == "closed: leave"


def test_leave_kept_on_import(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """Importing the clinic file again keeps leave recorded by staff and still applies the file's own."""
    leave = admin("leave", "lee", "2027-03-11", "--operator", "manager")
    imported = admin("import", str(DEMO_CLINIC_FILE), "--operator", "manager")
    hours = json.loads(admin("hours", "lee", "--json", "--days", "2").out)
    again = admin("leave", "lee", "2027-03-11", "--operator", "manager")

    assert leave.code == 0, leave.err
    assert imported.code == 0, imported.err
    assert hours[0]["days"][1]["sessions"] == []
    assert hours[0]["days"][1]["note"] == "closed: leave"
    assert "0 day(s) closed, 1 already closed or not worked" in again.out


def test_leave_refused_with_bookings(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """Leave on a day with bookings still to be seen is refused, naming them; nothing closes."""
    run = admin("leave", "lee", "today", "--until", "2027-03-12")
    hours = json.loads(admin("hours", "lee", "--json", "--days", "1").out)

    assert run.code == EXIT_REFUSED
    assert clinic_day.lee_first in run.err
    assert hours[0]["days"][0]["sessions"] != []


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["leave", "lee", "2027-03-01"], EXIT_USAGE),
        (["leave", "lee", "2027-03-12", "--until", "2027-03-11"], EXIT_USAGE),
        (["leave", "lee", "someday"], EXIT_USAGE),
        (["leave", "smith", "2027-03-12"], EXIT_NOT_FOUND),
        (["hours", "smith"], EXIT_NOT_FOUND),
    ],
)
def test_leave_bad_input(clinic_day: ClinicDay, admin: AdminRunner, args: list[str], code: int) -> None:
    """A past, reversed or unreadable date, or an unknown practitioner, gives one line and its code."""
    run = admin(*args)

    assert run.code == code, run.err
    assert run.err.count("\n") == 1


def _projection(run_out: str) -> tuple[str | None, int | None]:
    printed = json.loads(run_out)
    return printed["expected_at"], printed["delay_minutes"]


def test_change_json_has_projection(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """Each change's ``--json`` carries the same expected start and delay as ``show --json`` after it."""
    late = admin("late", "lee", "20", "--yes")
    checkin = admin("checkin", clinic_day.lee_second, "--json")
    shown_checkin = admin("show", clinic_day.lee_second, "--json")
    moved = admin("move", clinic_day.nair_first, "2027-03-10 10:30", "--json")
    shown_moved = admin("show", clinic_day.nair_first, "--json")
    started = admin("start", clinic_day.lee_first, "--json")
    shown_started = admin("show", clinic_day.lee_first, "--json")
    finished = admin("finish", clinic_day.lee_first, "--json")
    shown_finished = admin("show", clinic_day.lee_first, "--json")

    assert late.code == 0, late.err
    assert [run.code for run in (checkin, moved, started, finished)] == [0, 0, 0, 0]
    assert _projection(checkin.out) == ("2027-03-10T09:35:00+11:00", 20)
    assert _projection(checkin.out) == _projection(shown_checkin.out)
    assert _projection(moved.out) == ("2027-03-10T10:30:00+11:00", 0)
    assert _projection(moved.out) == _projection(shown_moved.out)
    assert _projection(started.out) == ("2027-03-10T07:30:00+11:00", 0)
    assert _projection(started.out) == _projection(shown_started.out)
    assert _projection(finished.out) == _projection(shown_finished.out)
    assert _projection(finished.out) == ("2027-03-10T07:30:00+11:00", 0)


def test_ended_booking_json_no_projection(clinic_day: ClinicDay, admin: AdminRunner) -> None:
    """``cancel --json`` and ``noshow --json`` give a null expected start and delay."""
    cancelled = admin("cancel", clinic_day.nair_first, "--json")
    after_start = {"SEALBOOK_NOW": "2027-03-09T22:30:00+00:00"}
    noshow = admin("noshow", clinic_day.lee_second, "--json", env=after_start)

    assert cancelled.code == 0, cancelled.err
    assert noshow.code == 0, noshow.err
    assert _projection(cancelled.out) == (None, None)
    assert _projection(noshow.out) == (None, None)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", ["0491570777", "jane@example.org"])
@pytest.mark.parametrize("content", [None, b"name = ", b"\xff\xfe"])
def test_import_error_hides_contact_like_path(
    admin: AdminRunner, tmp_path: Path, name: str, content: bytes | None
) -> None:
    """A missing, invalid TOML or non-UTF-8 file whose name looks like a contact detail: exit 1, name not repeated."""
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)

    run = admin("import", str(path))

    assert run.code == EXIT_ERROR
    assert run.err.count("\n") == 1
    assert "clinic file" in run.err
    assert name not in run.err
    assert "0491" not in run.err
    assert "@" not in run.err


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_import_error_names_plain_path(admin: AdminRunner, tmp_path: Path) -> None:
    """A missing file is named in full when its path has no digit or @, else by its file name alone."""
    plain = admin("import", "/nonexistent/clinic.toml")
    in_numbered_folder = admin("import", str(tmp_path / "2027" / "clinic.toml"))

    assert plain.code == EXIT_ERROR
    assert "/nonexistent/clinic.toml" in plain.err
    assert in_numbered_folder.code == EXIT_ERROR
    assert "clinic.toml" in in_numbered_folder.err
    assert "2027" not in in_numbered_folder.err
