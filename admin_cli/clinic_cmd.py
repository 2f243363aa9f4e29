"""The clinic's set-up: ``practitioners``, ``hours`` and ``leave``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from admin_cli.context import JsonOption, OperatorOption, YesOption, open_admin, resolve_operator
from admin_cli.dates import parse_day
from admin_cli.errors import InvalidInput, Refused
from admin_cli.lookup import clinic_of, require_practitioner
from admin_cli.output import print_json, print_line, print_table
from booking.clinic import WEEKDAYS, Clinic, Practitioner
from booking.status import BookingStatus
from booking.store import add_staff_override
from booking.views import day_bookings
from sealbook.cli_support import HomeOption
from storage.audit import record_audit

MAX_LEAVE_DAYS = 366
LEAVE_REASON = "leave"
REFERENCES_SHOWN = 10


def practitioners(json_output: JsonOption = False, home: HomeOption = None) -> None:
    """List the practitioners patients can book, with the appointment types each offers."""
    with open_admin(home) as admin, admin.session() as session:
        clinic = clinic_of(session)

    entries: list[dict[str, Any]] = [
        {
            "id": practitioner.id,
            "name": practitioner.display_name,
            "appointment_types": _types_of(clinic, practitioner),
        }
        for practitioner in clinic.practitioners
    ]
    if json_output:
        print_json(entries)
        return
    print_table(
        f"Practitioners of {clinic.name}",
        ("id", "name", "appointment types"),
        [[entry["id"], entry["name"], ", ".join(entry["appointment_types"])] for entry in entries],
        empty="No practitioners; import a clinic file with `sealbook-admin import FILE`.",
    )


def hours(
    practitioner: Annotated[
        str | None, typer.Argument(help="One practitioner's id; all of them when left out.")
    ] = None,
    date_text: Annotated[
        str, typer.Option("--date", "-d", help="First day shown: today, tomorrow or an ISO date.")
    ] = "today",
    days: Annotated[int, typer.Option(min=1, max=62, help="How many days to show.")] = 7,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Show working hours day by day, after leave, holidays and other date overrides.

    Exit 2 for an unreadable date, 3 for an unknown practitioner.
    """
    with open_admin(home) as admin, admin.session() as session:
        clinic = clinic_of(session)
        first_day = parse_day(date_text, admin.clock.now(), clinic.zone)
        chosen = (
            list(clinic.practitioners)
            if practitioner is None
            else [require_practitioner(clinic, practitioner)]
        )

    schedule = [_schedule(clinic, person, first_day, days) for person in chosen]
    if json_output:
        print_json(schedule)
        return
    rows = [
        [
            entry["id"],
            day["date"],
            day["weekday"][:3],
            ", ".join(day["sessions"]) or "closed",
            day["note"] or "",
        ]
        for entry in schedule
        for day in entry["days"]
    ]
    print_table(
        f"Working hours from {first_day.isoformat()} (clinic time)",
        ("practitioner", "date", "day", "sessions", "note"),
        rows,
        empty="No practitioners.",
    )


def leave(
    practitioner: Annotated[str, typer.Argument(help="The practitioner's id, from `practitioners`.")],
    first: Annotated[str, typer.Argument(help="First day of leave: an ISO date, today or tomorrow.")],
    until: Annotated[
        str | None, typer.Option("--until", help="Last day of leave, inclusive [default: the first day].")
    ] = None,
    operator: OperatorOption = None,
    yes: YesOption = False,
    home: HomeOption = None,
) -> None:
    """Close a practitioner's book for a day or a range of days, so no slot is offered.

    Refused (exit 4), with the references, while any booking on those days
    is still to be seen: move or cancel those first. Days already closed, or not worked, are
    left as they are. Exit 2 for an unreadable or past date, 3 for an
    unknown practitioner.
    """
    with open_admin(home) as admin, admin.transaction() as session:
        actor = resolve_operator(operator, admin.settings)
        clinic = clinic_of(session)
        now = admin.clock.now()
        person = require_practitioner(clinic, practitioner)
        start = parse_day(first, now, clinic.zone, "DATE")
        end = start if until is None else parse_day(until, now, clinic.zone, "--until")
        _check_range(start, end, now.astimezone(clinic.zone).date())

        day_list = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
        booked = [
            view.reference
            for day in day_list
            for view in day_bookings(session, day, person.id)
            if view.status in (BookingStatus.BOOKED, BookingStatus.ARRIVED)
        ]
        if booked:
            shown = ", ".join(booked[:REFERENCES_SHOWN]) + (
                " and more" if len(booked) > REFERENCES_SHOWN else ""
            )
            raise Refused(
                f"{person.id} has {len(booked)} bookings in that period ({shown}); move or cancel them first"
            )
        added = _close_days(session, clinic, person.id, day_list)
        record_audit(
            session,
            at=now,
            actor=actor,
            action="leave",
            reference=None,
            outcome="recorded",
            detail=f"practitioner={person.id} from={start.isoformat()} until={end.isoformat()} days_closed={added}",
        )

    print_line(
        f"{person.id} on leave from {start.isoformat()} to {end.isoformat()}: "
        f"{added} day(s) closed, {len(day_list) - added} already closed or not worked"
    )


def _check_range(start: date, end: date, today: date) -> None:
    if start < today:
        raise InvalidInput("the first day of leave has passed; give today or a later date")
    if end < start:
        raise InvalidInput("--until is before the first day; give a later --until")
    if (end - start).days + 1 > MAX_LEAVE_DAYS:
        raise InvalidInput(f"leave is at most {MAX_LEAVE_DAYS} days at a time; split it")


def _close_days(session: Session, clinic: Clinic, practitioner_id: str, day_list: list[date]) -> int:
    """Close each day of the list that is not closed already; return how many were closed.

    The days are recorded as changed by staff, so importing a clinic file keeps them.
    """
    added = 0
    for day in day_list:
        if not clinic.sessions_on(practitioner_id, day):
            continue
        add_staff_override(
            session, practitioner_id=practitioner_id, day=day, sessions=(), reason=LEAVE_REASON
        )
        added += 1
    return added


def _types_of(clinic: Clinic, practitioner: Practitioner) -> list[str]:
    return [kind.id for kind in clinic.appointment_types if practitioner.id in kind.practitioner_ids]


def _schedule(clinic: Clinic, practitioner: Practitioner, first_day: date, days: int) -> dict[str, Any]:
    weekly = {
        WEEKDAYS[index]: [str(working) for working in practitioner.weekly_sessions[index]]
        for index in range(7)
    }
    overrides = {
        (override.day, override.practitioner_id): override
        for override in clinic.overrides
        if override.practitioner_id in (None, practitioner.id)
    }
    shown = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        notes = [
            f"{override.kind.value}{': ' + override.reason if override.reason else ''}"
            for key in ((day, None), (day, practitioner.id))
            if (override := overrides.get(key)) is not None
        ]
        shown.append(
            {
                "date": day.isoformat(),
                "weekday": WEEKDAYS[day.weekday()],
                "sessions": [str(working) for working in clinic.sessions_on(practitioner.id, day)],
                "note": "; ".join(notes) or None,
            }
        )
    return {"id": practitioner.id, "name": practitioner.display_name, "weekly": weekly, "days": shown}


def register(app: typer.Typer) -> None:
    """Add the clinic set-up commands to the admin app."""
    app.command("practitioners", rich_help_panel="Clinic set-up")(practitioners)
    app.command("hours", rich_help_panel="Clinic set-up")(hours)
    app.command("leave", rich_help_panel="Clinic set-up")(leave)
