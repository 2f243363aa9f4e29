"""``day`` and ``show``: the day's bookings by reference, and one booking in full."""

from __future__ import annotations

from typing import Annotated

import typer

from admin_cli.booking_output import print_booking, print_bookings
from admin_cli.context import JsonOption, open_admin
from admin_cli.dates import parse_day
from admin_cli.lookup import clinic_of, find_booking, find_projection, require_practitioner
from booking.late_views import projected_day
from booking.views import day_bookings
from sealbook.cli_support import HomeOption

PractitionerFilter = Annotated[
    str | None,
    typer.Option(
        "--practitioner", "-p", help="Only this practitioner's bookings (an id from `practitioners`)."
    ),
]


def day(
    date: Annotated[
        str, typer.Option("--date", "-d", help="today, tomorrow or an ISO date such as 2027-03-08.")
    ] = "today",
    practitioner: PractitionerFilter = None,
    include_cancelled: Annotated[bool, typer.Option("--all", help="Include cancelled bookings.")] = False,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List a day's bookings by time: reference, practitioner, type, status, expected start and delay.

    Exit 2 for an unreadable date, 3 for an unknown practitioner.
    """
    with open_admin(home) as admin, admin.session() as session:
        clinic = clinic_of(session)
        local_day = parse_day(date, admin.clock.now(), clinic.zone)
        practitioner_id = None if practitioner is None else require_practitioner(clinic, practitioner).id
        views = day_bookings(session, local_day, practitioner_id, include_cancelled=include_cancelled)
        projections = {
            projected.reference: projected
            for projected in projected_day(session, local_day, practitioner_id, now=admin.clock.now())
        }

    title = f"{local_day:%a %d %b %Y}" + (f", {practitioner_id}" if practitioner_id else "")
    print_bookings(title, views, projections, clinic.zone, json_output)


def show(
    reference: Annotated[str, typer.Argument(help="The booking reference, such as K7QM-4X2P.")],
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Show one booking: practitioner, type, local times and every step of the visit.

    Exit 3 when the reference is mistyped or no booking has it.
    """
    with open_admin(home) as admin, admin.session() as session:
        clinic = clinic_of(session)
        view = find_booking(session, reference)
        projected = find_projection(session, view, clinic.zone, admin.clock.now())
    print_booking(view, projected, clinic.zone, json_output)


def register(app: typer.Typer) -> None:
    """Add ``day`` and ``show`` to the admin app."""
    app.command("day", rich_help_panel="Bookings")(day)
    app.command("show", rich_help_panel="Bookings")(show)
