"""Bookings as staff see them: JSON objects and table rows, times in the clinic's zone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from admin_cli.output import print_json, print_table
from booking.late_views import ProjectedView
from booking.status import status_words
from booking.views import BookingView

BOOKING_COLUMNS = ("reference", "time", "practitioner", "type", "status", "expected", "delay")


def local_iso(instant: datetime | None, zone: tzinfo) -> str | None:
    """Return an instant as ISO 8601 local time with the clinic's UTC offset, or None."""
    return None if instant is None else instant.astimezone(zone).isoformat(timespec="seconds")


def booking_object(view: BookingView, zone: tzinfo, projected: ProjectedView | None = None) -> dict[str, Any]:
    """Return one booking as a JSON object: ids, names, local times, status and projected start.

    ``expected_at`` and ``delay_minutes`` are null for a cancelled or no-show
    booking, and when no projection is given.
    """
    return {
        "reference": view.reference,
        "practitioner": view.practitioner_id,
        "practitioner_name": view.practitioner_name,
        "appointment_type": view.appointment_type_id,
        "appointment_type_name": view.appointment_type_name,
        "starts_at": local_iso(view.starts_at, zone),
        "ends_at": local_iso(view.ends_at, zone),
        "status": view.status.value,
        "checked_in_at": local_iso(view.checked_in_at, zone),
        "consult_started_at": local_iso(view.consult_started_at, zone),
        "consult_finished_at": local_iso(view.consult_finished_at, zone),
        "cancelled_at": local_iso(view.cancelled_at, zone),
        "no_show_at": local_iso(view.no_show_at, zone),
        "moves": view.moves,
        "expected_at": local_iso(projected.expected_at if projected else None, zone),
        "delay_minutes": projected.delay_minutes if projected else None,
    }


def status_text(view: BookingView) -> str:
    """Return the booking's status in reception's words: ``in consult`` for an arrived patient being seen."""
    return status_words(view.status.value, view.consult_started_at)


def print_bookings(
    title: str,
    views: Sequence[BookingView],
    projections: Mapping[str, ProjectedView],
    zone: tzinfo,
    json_output: bool,
) -> None:
    """Print bookings as a JSON list, or a table: reference, local time, practitioner, type, status, delay.

    ``projections`` maps references to their projected start.
    """
    if json_output:
        print_json([booking_object(view, zone, projections.get(view.reference)) for view in views])
        return
    print_table(
        title,
        BOOKING_COLUMNS,
        [
            [
                view.reference,
                f"{view.starts_at.astimezone(zone):%H:%M}",
                view.practitioner_name,
                view.appointment_type_name,
                status_text(view),
                _expected_text(projections.get(view.reference), zone),
                _delay_text(projections.get(view.reference)),
            ]
            for view in views
        ],
        empty="No bookings.",
    )


def print_booking(
    view: BookingView, projected: ProjectedView | None, zone: tzinfo, json_output: bool
) -> None:
    """Print one booking as a JSON object or as a two-column table."""
    data = booking_object(view, zone, projected)
    if json_output:
        print_json(data)
        return
    rows = [[key.replace("_", " "), "" if value is None else str(value)] for key, value in data.items()]
    print_table(f"Booking {view.reference}", ("field", "value"), rows, empty="")


def _expected_text(projected: ProjectedView | None, zone: tzinfo) -> str:
    if projected is None or projected.expected_at is None:
        return ""
    return f"{projected.expected_at.astimezone(zone):%H:%M}"


def _delay_text(projected: ProjectedView | None) -> str:
    if projected is None or projected.delay_minutes is None:
        return ""
    return f"{projected.delay_minutes} min"
