"""Changing one booking by reference: ``move``, ``cancel``, ``checkin``, ``start``, ``finish``, ``noshow``.

Each command runs in one transaction with the booking core's own checks,
notices and audit entry, and prints the booking as it is afterwards.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import tzinfo
from typing import Annotated

import typer

from admin_cli.booking_output import booking_object, status_text
from admin_cli.context import JsonOption, OperatorOption, YesOption, open_admin, resolve_operator
from admin_cli.dates import parse_local_datetime
from admin_cli.errors import Refused
from admin_cli.lookup import clinic_of, find_projection, require_practitioner
from admin_cli.output import print_json, print_line
from booking import service, visits
from booking.errors import SlotTaken
from booking.late import run_visit_step
from booking.late_views import ProjectedView
from booking.views import BookingView
from booking.visits import VisitStep
from sealbook.cli_support import HomeOption
from storage.audit import record_audit

ReferenceArgument = Annotated[str, typer.Argument(help="The booking reference, such as K7QM-4X2P.")]
ALTERNATIVES_SHOWN = 3


class CancelReason(enum.StrEnum):
    """Reason code of a staff cancellation: a fixed list, so no free text reaches the audit log."""

    PATIENT_REQUEST = "patient-request"
    PRACTITIONER_UNAVAILABLE = "practitioner-unavailable"
    CLINIC_CLOSED = "clinic-closed"
    DUPLICATE = "duplicate"
    OTHER = "other"


def move(
    reference: ReferenceArgument,
    when: Annotated[
        str,
        typer.Argument(
            help="The new start, local to the clinic: 2027-03-08T14:30 or '2027-03-08 14:30'.",
            show_default=False,
        ),
    ],
    practitioner: Annotated[
        str | None, typer.Option("--practitioner", "-p", help="Move to this practitioner as well.")
    ] = None,
    json_output: JsonOption = False,
    operator: OperatorOption = None,
    yes: YesOption = False,
    home: HomeOption = None,
) -> None:
    """Move a booked booking to a new start; the patient is told, and the reference stays.

    Staff may move to any free slot inside working hours, without the
    patients' minimum notice. Exit 2 for an unreadable time, 3 for an unknown
    reference or practitioner, 4 when the time is taken or outside hours.
    """
    with open_admin(home) as admin, admin.transaction() as session:
        actor = resolve_operator(operator, admin.settings)
        clinic = clinic_of(session)
        starts_at = parse_local_datetime(when, clinic.zone)
        practitioner_id = None if practitioner is None else require_practitioner(clinic, practitioner).id
        now = admin.clock.now()
        try:
            view = service.move(
                session,
                clinic,
                reference=reference,
                contact_id=None,
                starts_at=starts_at,
                now=now,
                actor=actor,
                practitioner_id=practitioner_id,
            )
        except SlotTaken as taken:
            raise Refused(_taken_message(taken, clinic.zone)) from None
        projected = find_projection(session, view, clinic.zone, now)
    _report(view, projected, "moved", clinic.zone, json_output)


def cancel(
    reference: ReferenceArgument,
    reason: Annotated[
        CancelReason, typer.Option("--reason", help="Why, recorded in the audit log.")
    ] = CancelReason.OTHER,
    json_output: JsonOption = False,
    operator: OperatorOption = None,
    yes: YesOption = False,
    home: HomeOption = None,
) -> None:
    """Cancel a booked booking and free its time; the patient is told.

    Exit 3 for an unknown reference, 4 when the booking is not booked.
    """
    with open_admin(home) as admin, admin.transaction() as session:
        actor = resolve_operator(operator, admin.settings)
        clinic = clinic_of(session)
        now = admin.clock.now()
        view = service.cancel(session, clinic, reference=reference, contact_id=None, now=now, actor=actor)
        record_audit(
            session,
            at=now,
            actor=actor,
            action="cancel_reason",
            reference=view.reference,
            outcome="recorded",
            detail=f"reason={reason.value}",
        )
        projected = find_projection(session, view, clinic.zone, now)
    _report(view, projected, "cancelled", clinic.zone, json_output)


def _visit_step_command(step: VisitStep, verb: str, help_text: str) -> Callable[..., None]:
    """Return a command that runs one visit step on a booking, recomputes the practitioner's day, and prints it.

    Typer reads the command's options from its signature and its help from `help_text`.
    """

    def command(
        reference: ReferenceArgument,
        json_output: JsonOption = False,
        operator: OperatorOption = None,
        yes: YesOption = False,
        home: HomeOption = None,
    ) -> None:
        with open_admin(home) as admin, admin.transaction() as session:
            actor = resolve_operator(operator, admin.settings)
            clinic = clinic_of(session)
            now = admin.clock.now()
            view = run_visit_step(step, session, clinic, reference=reference, now=now, actor=actor)
            projected = find_projection(session, view, clinic.zone, now)
        _report(view, projected, verb, clinic.zone, json_output)

    command.__doc__ = help_text
    return command


checkin = _visit_step_command(
    visits.check_in,
    "checked in",
    "Record that the patient has arrived. Exit 3 for an unknown reference, 4 if not booked.",
)
start = _visit_step_command(
    visits.start_consult,
    "consult started",
    "Record that the consult has started (checking the patient in if needed). Exit 3 or 4 as for checkin.",
)
finish = _visit_step_command(
    visits.finish_consult,
    "finished",
    "Record that the consult has finished. Exit 3 for an unknown reference, 4 if it has not started.",
)
noshow = _visit_step_command(
    visits.mark_no_show,
    "marked as a no-show",
    "Record that the patient did not come, once the start has passed. Exit 3 or 4 as for checkin.",
)


def _report(
    view: BookingView, projected: ProjectedView | None, verb: str, zone: tzinfo, json_output: bool
) -> None:
    """Print the booking after a change, its status named as ``day`` names it, or its JSON object.

    The JSON object carries the live projection, as ``show --json`` does.
    """
    if json_output:
        print_json(booking_object(view, zone, projected))
        return
    local = view.starts_at.astimezone(zone)
    print_line(
        f"{view.reference} {verb}: {local:%a %d %b %Y %H:%M} with {view.practitioner_name}, "
        f"now {status_text(view)}"
    )


def _taken_message(taken: SlotTaken, zone: tzinfo) -> str:
    offers = [
        f"{slot.starts_at.astimezone(zone):%a %d %b %H:%M} ({slot.practitioner_id})"
        for slot in taken.alternatives[:ALTERNATIVES_SHOWN]
    ]
    if not offers:
        return "that time is taken and no free time is near it; pick another day"
    return f"that time is taken; free times nearby: {', '.join(offers)}"


def register(app: typer.Typer) -> None:
    """Add the commands that change one booking to the admin app."""
    for name, command in (
        ("move", move),
        ("cancel", cancel),
        ("checkin", checkin),
        ("start", start),
        ("finish", finish),
        ("noshow", noshow),
    ):
        app.command(name, rich_help_panel="Bookings")(command)
