"""``outbox``: the notices waiting for or handled by the relay, by booking reference.

Only ids, kinds, states and counts are read. The ``params`` column is never
selected, because a staff message's text is there and could hold anything
the staff member typed.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy import select

from admin_cli.context import JsonOption, open_admin
from admin_cli.lookup import find_booking
from admin_cli.output import iso, print_json, print_table
from booking.references import parse_reference
from sealbook.cli_support import HomeOption
from storage.models.outbox import Notice

FAILED_STATUSES = ("failed", "undeliverable")
DEFAULT_LIMIT = 100


def outbox(
    failed: Annotated[
        bool, typer.Option("--failed", help="Only notices the relay gave up on (failed or undeliverable).")
    ] = False,
    reference: Annotated[
        str | None, typer.Option("--reference", help="Only notices about this booking reference.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, help="The most recent notices shown, at most this many.")
    ] = DEFAULT_LIMIT,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List outbox notices, newest first: reference, kind, status, attempts and last error class.

    Exit 3 when `--reference` is mistyped or no booking has it.
    """
    # The check symbol catches a mistyped reference before any query, and
    # the error does not repeat what was typed.
    canonical = None if reference is None else parse_reference(reference)
    query = select(
        Notice.id,
        Notice.reference,
        Notice.kind,
        Notice.status,
        Notice.attempts,
        Notice.last_error_class,
        Notice.due_at,
        Notice.created_at,
        Notice.finished_at,
    )
    if failed:
        query = query.where(Notice.status.in_(FAILED_STATUSES))
    if canonical is not None:
        query = query.where(Notice.reference == canonical)
    query = query.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit)

    with open_admin(home) as admin, admin.session() as session:
        rows = list(session.execute(query))
        if canonical is not None and not rows:
            # An empty list must not read as "nothing sent yet" for a
            # reference that no booking has.
            find_booking(session, canonical)

    notices: list[dict[str, Any]] = [
        {
            "id": row.id,
            "reference": row.reference,
            "kind": row.kind,
            "status": row.status,
            "attempts": row.attempts,
            "last_error_class": row.last_error_class,
            "due_at": iso(row.due_at),
            "created_at": iso(row.created_at),
            "finished_at": iso(row.finished_at),
        }
        for row in rows
    ]
    if json_output:
        print_json(notices)
        return
    print_table(
        "Outbox (times in UTC)",
        ["id", "reference", "kind", "status", "attempts", "last error", "due"],
        [
            [
                str(row.id),
                row.reference or "",
                row.kind,
                row.status,
                str(row.attempts),
                row.last_error_class or "",
                f"{row.due_at:%Y-%m-%d %H:%M}",
            ]
            for row in rows
        ],
        empty="No failed notices." if failed else "No notices.",
    )


def register(app: typer.Typer) -> None:
    """Add ``outbox`` to the admin app."""
    app.command("outbox", rich_help_panel="Records")(outbox)
