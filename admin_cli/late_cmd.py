"""`sealbook-admin late` and `away`: declare a practitioner running late, or gone for the session.

Both print how many bookings they reach and ask before acting, unless
``--yes``. Output names bookings by reference only. The operator's name
(``--operator``, else ``SEALBOOK_OPERATOR``, else the login name) goes into
the audit log with each declaration.
"""

from __future__ import annotations

import getpass
from datetime import date, datetime, time, timedelta
from typing import Annotated

import typer

from booking.late import declare_late, preview_late
from booking.late_away import declare_away, preview_away
from booking.localtime import local_date as local_date_of
from booking.notices import check_actor
from booking.store import load_clinic
from sealbook.cli_support import HomeOption
from sealbook.clock import clock_from_env
from sealbook.errors import ConfigError, SealbookError
from sealbook.logs import configure_logging
from sealbook.settings import AdminSettings, load_settings
from storage import db

PractitionerArgument = Annotated[str, typer.Argument(help="The practitioner's id, such as lee.")]
DateOption = Annotated[
    str, typer.Option("--date", help="Local date: YYYY-MM-DD, today or tomorrow.", show_default=True)
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Act without asking for confirmation.")]
OperatorOption = Annotated[
    str | None,
    typer.Option(
        "--operator",
        help="Who is running this, for the audit log [default: $SEALBOOK_OPERATOR, else the login name]",
        show_default=False,
    ),
]


def late_command(
    practitioner: PractitionerArgument,
    minutes: Annotated[int, typer.Argument(help="Minutes behind schedule; 0 means back on time.")],
    date_text: DateOption = "today",
    yes: YesOption = False,
    operator: OperatorOption = None,
    home: HomeOption = None,
) -> None:
    """Declare a practitioner running MINUTES late for a day (0: back on time), and tell patients."""
    settings = load_settings(AdminSettings, home)
    configure_logging(settings.log_level)
    actor = operator_actor(operator, settings.operator)
    now = clock_from_env().now()
    engine = db.make_engine(settings.effective_database_url)
    factory = db.make_session_factory(engine)
    try:
        with factory() as session:
            clinic = load_clinic(session)
            local_date = parse_local_date(date_text, local_date_of(now, clinic.zone))
            preview = preview_late(
                session, clinic, practitioner_id=practitioner, minutes=minutes, local_date=local_date, now=now
            )
        remaining = len(preview.projection.bookings)
        wording = "back on time" if minutes == 0 else f"{minutes} minutes late"
        typer.echo(
            f"{practitioner} {wording} on {local_date.isoformat()}: reaches {remaining} remaining "
            f"bookings; {len(preview.notices)} patients will be sent their new expected time."
        )
        if not yes:
            confirm_or_stop("Declare it?")

        with db.session_scope(factory) as session:
            outcome = declare_late(
                session,
                clinic,
                practitioner_id=practitioner,
                minutes=minutes,
                local_date=local_date,
                now=now,
                actor=actor,
            )
    finally:
        engine.dispose()
    typer.echo(f"declared; {len(outcome.notices)} running-late notices queued")
    for notice in outcome.notices:
        typer.echo(f"  {notice.reference}  expected {notice.expected_at.astimezone(clinic.zone):%H:%M}")


def away_command(
    practitioner: PractitionerArgument,
    from_text: Annotated[str, typer.Option("--from", help="Local time the practitioner leaves, HH:MM.")],
    date_text: DateOption = "today",
    yes: YesOption = False,
    operator: OperatorOption = None,
    home: HomeOption = None,
) -> None:
    """Declare a practitioner away from a time for the rest of that session; cancel and tell patients."""
    settings = load_settings(AdminSettings, home)
    configure_logging(settings.log_level)
    actor = operator_actor(operator, settings.operator)
    from_time = parse_local_time(from_text)
    now = clock_from_env().now()
    engine = db.make_engine(settings.effective_database_url)
    factory = db.make_session_factory(engine)
    try:
        with factory() as session:
            clinic = load_clinic(session)
            local_date = parse_local_date(date_text, local_date_of(now, clinic.zone))
            preview = preview_away(
                session,
                clinic,
                practitioner_id=practitioner,
                from_time=from_time,
                local_date=local_date,
                now=now,
            )
        until = preview.window.until_at.astimezone(clinic.zone)
        typer.echo(
            f"{practitioner} away on {local_date.isoformat()} from {from_time:%H:%M} to {until:%H:%M}: "
            f"reaches {len(preview.reach.all)} bookings; {len(preview.to_cancel)} will be cancelled "
            "and their patients offered a new time."
        )
        if preview.in_waiting_room:
            typer.echo(f"checked in, speak to them: {', '.join(preview.in_waiting_room)}")
        if not yes:
            confirm_or_stop("Cancel them?")

        with db.session_scope(factory) as session:
            outcome = declare_away(
                session,
                clinic,
                practitioner_id=practitioner,
                from_time=from_time,
                local_date=local_date,
                now=now,
                actor=actor,
            )
    finally:
        engine.dispose()
    typer.echo(f"declared; {len(outcome.cancelled)} bookings cancelled")
    for reference in outcome.cancelled:
        typer.echo(f"  {reference}  cancelled, patient offered a new time")
    for reference in outcome.in_waiting_room:
        typer.echo(f"  {reference}  checked in, not cancelled: speak to the patient")


class InvalidArgument(SealbookError):
    """A date or time on the command line cannot be read; the message shows the expected form."""


class NotConfirmed(SealbookError):
    """The operator did not confirm a command that reaches several bookings."""


def confirm_or_stop(question: str) -> None:
    """Ask ``question``; anything but yes raises `NotConfirmed`, so nothing is changed."""
    if not typer.confirm(question, default=False):
        raise NotConfirmed("not confirmed, so nothing was changed; answer y, or pass --yes")


def operator_actor(option: str | None, configured: str) -> str:
    """Return the audit actor: ``--operator``, else ``SEALBOOK_OPERATOR``, else the login name."""
    name = (option or configured or _login_name()).strip()
    try:
        return check_actor(f"staff:{name}")
    except ValueError:
        raise ConfigError(
            "the operator name must be up to 48 letters, spaces, dots or dashes with fewer than six digits; "
            "set it with --operator or SEALBOOK_OPERATOR"
        ) from None


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        raise ConfigError("cannot tell who you are; pass --operator NAME or set SEALBOOK_OPERATOR") from None


def parse_local_date(text: str, today: date) -> date:
    """Read ``YYYY-MM-DD``, ``today`` or ``tomorrow`` relative to the clinic's ``today``."""
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise InvalidArgument(f"--date {text!r} is not a date; write YYYY-MM-DD, today or tomorrow") from None


def parse_local_time(text: str) -> time:
    """Read a local ``HH:MM`` time of day."""
    try:
        parsed = datetime.strptime(text.strip(), "%H:%M")
    except ValueError:
        raise InvalidArgument(f"--from {text!r} is not a time; write HH:MM, such as 14:00") from None
    return parsed.time()


def register(app: typer.Typer) -> None:
    """Add the ``late`` and ``away`` commands to the staff tool."""
    app.command("late")(late_command)
    app.command("away")(away_command)
