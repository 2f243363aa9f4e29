"""``message``: send staff text to one booking, or to every remaining booking of a practitioner's day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from admin_cli.context import JsonOption, OperatorOption, YesOption, open_admin, resolve_operator
from admin_cli.dates import parse_day
from admin_cli.errors import InvalidInput, NotFound
from admin_cli.lookup import clinic_of, find_booking, require_practitioner
from admin_cli.output import confirm_reach, print_json, print_line
from admin_cli.staff_message import MessageTarget, check_fits, check_staff_text, queue_staff_messages
from booking.clinic import Clinic
from booking.notices import booking_params
from booking.status import BookingStatus
from booking.views import BookingView, day_bookings
from sealbook.cli_support import HomeOption
from storage.models.bookings import BookingRow


def message(
    arguments: Annotated[
        list[str],
        typer.Argument(
            help="REF TEXT for one booking, or just TEXT with --practitioner. Placeholders "
            "{ref}, {time} and {practitioner} are filled in for each booking.",
            show_default=False,
        ),
    ],
    practitioner: Annotated[
        str | None,
        typer.Option(
            "--practitioner", "-p", help="Send to every remaining booking of this practitioner's day."
        ),
    ] = None,
    date_text: Annotated[
        str,
        typer.Option("--date", "-d", help="With --practitioner: today, tomorrow or an ISO date."),
    ] = "today",
    json_output: JsonOption = False,
    operator: OperatorOption = None,
    yes: YesOption = False,
    home: HomeOption = None,
) -> None:
    """Queue a message from staff for the relay to send to the patient of each booking.

    A day's remaining bookings are those booked, or checked in and not yet
    in consult. A message to several bookings says how many and asks first,
    unless --yes. Exit 2 for bad text (an unknown placeholder, too long for
    two SMS) or an unreadable date, 3 for an unknown reference or
    practitioner, 4 when not confirmed or nobody remains to message.
    """
    reference, text = _split_arguments(arguments, practitioner is not None)
    with open_admin(home) as admin, admin.transaction() as session:
        actor = resolve_operator(operator, admin.settings)
        checked_text = check_staff_text(text)
        clinic = clinic_of(session)
        now = admin.clock.now()
        if reference is not None:
            views = [find_booking(session, reference)]
        else:
            assert practitioner is not None
            practitioner_id = require_practitioner(clinic, practitioner).id
            day = _message_day(date_text, clinic, now)
            views = remaining_bookings(session, day, practitioner_id)
            if not views:
                raise NotFound(
                    f"{practitioner_id} has no remaining bookings on {day.isoformat()}; nothing sent"
                )

        targets = [_target(session, clinic, view, actor) for view in views]
        check_fits(checked_text, targets, clinic.name)
        if reference is None:
            confirm_reach(len(targets), "queue this message", yes)
        notice_ids = queue_staff_messages(session, text=checked_text, targets=targets, actor=actor, now=now)

    if json_output:
        print_json(
            [
                {"reference": target.reference, "notice_id": notice_id}
                for target, notice_id in zip(targets, notice_ids, strict=True)
            ]
        )
        return
    noun = "booking" if len(targets) == 1 else "bookings"
    references = ", ".join(target.reference for target in targets)
    print_line(f"message queued for {len(targets)} {noun}: {references}")


def remaining_bookings(session: Session, day: date, practitioner_id: str) -> list[BookingView]:
    """Return a practitioner's bookings of a day still to be seen: booked, or arrived and not in consult."""
    return [
        view
        for view in day_bookings(session, day, practitioner_id)
        if view.status is BookingStatus.BOOKED
        or (view.status is BookingStatus.ARRIVED and view.consult_started_at is None)
    ]


def _split_arguments(arguments: list[str], by_practitioner: bool) -> tuple[str | None, str]:
    if by_practitioner:
        if len(arguments) != 1:
            raise InvalidInput("with --practitioner, give only the message TEXT, quoted as one argument")
        return None, arguments[0]
    if len(arguments) != 2:
        raise InvalidInput(
            "give a booking REF and the message TEXT quoted as one argument, or --practitioner"
        )
    return arguments[0], arguments[1]


def _message_day(date_text: str, clinic: Clinic, now: datetime) -> date:
    day = parse_day(date_text, now, clinic.zone)
    if day < now.astimezone(clinic.zone).date():
        raise InvalidInput("--date has passed; a message can go to today's or a later day's bookings")
    return day


def _target(session: Session, clinic: Clinic, view: BookingView, actor: str) -> MessageTarget:
    row = session.get_one(BookingRow, view.id)
    params = booking_params(
        clinic,
        row,
        practitioner_name=view.practitioner_name,
        type_name=view.appointment_type_name,
        actor=actor,
    )
    return MessageTarget(
        booking_id=view.id,
        reference=view.reference,
        contact_id=view.contact_id,
        starts_at=view.starts_at,
        practitioner_name=view.practitioner_name,
        base_params=params,
    )


def register(app: typer.Typer) -> None:
    """Add ``message`` to the admin app."""
    app.command("message", rich_help_panel="Messages")(message)
