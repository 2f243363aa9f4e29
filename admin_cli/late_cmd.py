"""`sealbook-admin late` and `away`: declare a practitioner running late, or gone for the session.

Both check what was typed before anything else, print how many bookings
they reach on standard error and ask before acting, unless ``--yes``.
Output names bookings by reference only; ``--json`` prints one object for
scripts. The operator goes into the audit log with each declaration.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from admin_cli.context import JsonOption, OperatorOption, YesOption, open_admin, resolve_operator
from admin_cli.dates import parse_day
from admin_cli.errors import InvalidInput
from admin_cli.lookup import clinic_of, require_practitioner
from admin_cli.output import confirm, iso, print_json, print_line
from booking.clinic import Clinic
from booking.late import MAX_DECLARED_MINUTES, declare_late, preview_late
from booking.late_away import declare_away, preview_away
from sealbook.cli_support import HomeOption

PractitionerArgument = Annotated[str, typer.Argument(help="The practitioner's id, such as lee.")]
DateOption = Annotated[
    str, typer.Option("--date", "-d", help="Local date: today, tomorrow or an ISO date such as 2027-03-08.")
]


def late_command(
    practitioner: PractitionerArgument,
    minutes: Annotated[
        int,
        typer.Argument(help=f"Minutes behind schedule, 0 to {MAX_DECLARED_MINUTES}; 0 means back on time."),
    ],
    date_text: DateOption = "today",
    json_output: JsonOption = False,
    operator: OperatorOption = None,
    yes: YesOption = False,
    home: HomeOption = None,
) -> None:
    """Declare a practitioner MINUTES late for a day (0: back on time), and tell the patients affected.

    Exit 2 for minutes out of range or a date that is unreadable or past,
    3 for an unknown practitioner, 4 when not confirmed.
    """
    if not 0 <= minutes <= MAX_DECLARED_MINUTES:
        raise InvalidInput(
            f"invalid MINUTES: use 0 to {MAX_DECLARED_MINUTES} (0 means back on time); for a longer absence "
            "use `away`"
        )
    with open_admin(home) as admin:
        actor = resolve_operator(operator, admin.settings)
        now = admin.clock.now()
        with admin.session() as session:
            clinic, practitioner_id, day = _declaration_target(session, practitioner, date_text, now)
            preview = preview_late(
                session, clinic, practitioner_id=practitioner_id, minutes=minutes, local_date=day, now=now
            )
        wording = "back on time" if minutes == 0 else f"{minutes} minutes late"
        typer.echo(
            f"{practitioner_id} {wording} on {day.isoformat()}: reaches {len(preview.projection.bookings)} "
            f"remaining bookings; {len(preview.notices)} patients will be sent their new expected time.",
            err=True,
        )
        confirm(yes)
        with admin.transaction() as session:
            outcome = declare_late(
                session,
                clinic,
                practitioner_id=practitioner_id,
                minutes=minutes,
                local_date=day,
                now=now,
                actor=actor,
            )

    notices = [
        {"reference": notice.reference, "expected_at": iso(notice.expected_at.astimezone(clinic.zone))}
        for notice in outcome.notices
    ]
    if json_output:
        print_json(
            {
                "practitioner": practitioner_id,
                "date": day.isoformat(),
                "minutes": minutes,
                "remaining": len(outcome.projection.bookings),
                "notices": notices,
            }
        )
        return
    print_line(f"declared; {len(outcome.notices)} running-late notices queued")
    for notice in outcome.notices:
        print_line(f"  {notice.reference}  expected {notice.expected_at.astimezone(clinic.zone):%H:%M}")


def away_command(
    practitioner: PractitionerArgument,
    from_text: Annotated[
        str, typer.Option("--from", help="Local time the practitioner leaves, HH:MM.", show_default=False)
    ],
    date_text: DateOption = "today",
    json_output: JsonOption = False,
    operator: OperatorOption = None,
    yes: YesOption = False,
    home: HomeOption = None,
) -> None:
    """Declare a practitioner away from a time for the rest of that session; cancel and tell patients.

    Patients already checked in are not cancelled but listed, so that
    reception can speak to them. Exit 2 for an unreadable time, a past or
    unreadable date or no session left that day, 3 for an unknown
    practitioner, 4 when not confirmed.
    """
    from_time = _parse_clock_time(from_text)
    with open_admin(home) as admin:
        actor = resolve_operator(operator, admin.settings)
        now = admin.clock.now()
        with admin.session() as session:
            clinic, practitioner_id, day = _declaration_target(session, practitioner, date_text, now)
            preview = preview_away(
                session, clinic, practitioner_id=practitioner_id, from_time=from_time, local_date=day, now=now
            )
        until = preview.window.until_at.astimezone(clinic.zone)
        typer.echo(
            f"{practitioner_id} away on {day.isoformat()} from {from_time:%H:%M} to {until:%H:%M}: "
            f"reaches {len(preview.reach.all)} bookings; {len(preview.to_cancel)} will be cancelled "
            "and their patients offered a new time.",
            err=True,
        )
        if preview.in_waiting_room:
            typer.echo(f"checked in, speak to them: {', '.join(preview.in_waiting_room)}", err=True)
        confirm(yes)
        with admin.transaction() as session:
            outcome = declare_away(
                session,
                clinic,
                practitioner_id=practitioner_id,
                from_time=from_time,
                local_date=day,
                now=now,
                actor=actor,
            )

    if json_output:
        result: dict[str, Any] = {
            "practitioner": practitioner_id,
            "date": day.isoformat(),
            "from": iso(outcome.window.from_at.astimezone(clinic.zone)),
            "until": iso(outcome.window.until_at.astimezone(clinic.zone)),
            "cancelled": list(outcome.cancelled),
            "in_waiting_room": list(outcome.in_waiting_room),
        }
        print_json(result)
        return
    print_line(f"declared; {len(outcome.cancelled)} bookings cancelled")
    for reference in outcome.cancelled:
        print_line(f"  {reference}  cancelled, patient offered a new time")
    for reference in outcome.in_waiting_room:
        print_line(f"  {reference}  checked in, not cancelled: speak to the patient")


def _declaration_target(
    session: Session, practitioner: str, date_text: str, now: datetime
) -> tuple[Clinic, str, date]:
    """Return the clinic, the practitioner's id and the local day of a declaration, checking each."""
    clinic = clinic_of(session)
    practitioner_id = require_practitioner(clinic, practitioner).id
    day = parse_day(date_text, now, clinic.zone)
    today = now.astimezone(clinic.zone).date()
    if day < today:
        raise InvalidInput(
            f"{day.isoformat()} has already passed; declare for today ({today.isoformat()}) or later"
        )
    return clinic, practitioner_id, day


def _parse_clock_time(text: str) -> time:
    """Read a local ``HH:MM`` time of day."""
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise InvalidInput("--from must be a local time HH:MM, such as 14:00") from None


def register(app: typer.Typer) -> None:
    """Add the ``late`` and ``away`` commands to the staff tool."""
    app.command("late", rich_help_panel="Running late")(late_command)
    app.command("away", rich_help_panel="Running late")(away_command)
