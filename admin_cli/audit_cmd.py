"""``audit`` and ``audit verify``: read the hash-chained audit log and check that it is intact."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

import typer
from sqlalchemy import select

from admin_cli.context import JsonOption, open_admin
from admin_cli.dates import parse_since
from admin_cli.errors import AuditChainBroken
from admin_cli.output import iso, print_json, print_line, print_table
from sealbook.cli_support import HomeOption
from storage.audit import verify_audit
from storage.models.audit import AuditEntry

audit_app = typer.Typer(
    help="List the audit log of changes by staff, patients and the relay, or verify its hash chain.",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
)

DEFAULT_LIMIT = 200


@audit_app.callback(invoke_without_command=True)
def audit_list(
    context: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only entries from this point on: today, yesterday, an ISO date (from its "
            "midnight) or an ISO date-time; without a UTC offset it is read as UTC."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, help="The most recent entries shown, at most this many.")
    ] = DEFAULT_LIMIT,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List audit entries, oldest first: sequence number, UTC time, actor, action, reference, outcome."""
    if context.invoked_subcommand is not None:
        return
    with open_admin(home) as admin, admin.session() as session:
        query = select(
            AuditEntry.seq,
            AuditEntry.at,
            AuditEntry.actor,
            AuditEntry.action,
            AuditEntry.reference,
            AuditEntry.outcome,
            AuditEntry.detail,
        )
        if since is not None:
            query = query.where(AuditEntry.at >= parse_since(since, admin.clock.now(), UTC))
        rows = list(session.execute(query.order_by(AuditEntry.seq.desc()).limit(limit)))
    rows.reverse()

    entries: list[dict[str, Any]] = [
        {
            "seq": row.seq,
            "at": iso(row.at),
            "actor": row.actor,
            "action": row.action,
            "reference": row.reference,
            "outcome": row.outcome,
            "detail": row.detail,
        }
        for row in rows
    ]
    if json_output:
        print_json(entries)
        return
    print_table(
        "Audit log (times in UTC)",
        ["seq", "at", "actor", "action", "reference", "outcome", "detail"],
        [
            [
                str(entry["seq"]),
                f"{row.at:%Y-%m-%d %H:%M:%S}",
                entry["actor"],
                entry["action"],
                entry["reference"] or "",
                entry["outcome"],
                entry["detail"] or "",
            ]
            for entry, row in zip(entries, rows, strict=True)
        ],
        empty="No audit entries.",
    )


@audit_app.command("verify")
def audit_verify(json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Check the hash chain from the first entry; exit 5 naming the first entry altered, removed or moved.

    Entries cut off the end leave a valid shorter chain, so compare the
    newest hash printed here with one recorded earlier.
    """
    with open_admin(home) as admin, admin.session() as session:
        check = verify_audit(session)
        newest = session.execute(
            select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
    newest_hash = newest.entry_hash.hex() if newest is not None else None

    if json_output:
        print_json(
            {
                "intact": check.first_bad_seq is None,
                "entries_checked": check.entries,
                "first_bad_seq": check.first_bad_seq,
                "problem": check.problem,
                "newest_seq": newest.seq if newest is not None else None,
                "newest_hash": newest_hash,
            }
        )
    if check.first_bad_seq is not None:
        raise AuditChainBroken(
            f"audit log fails verification at entry {check.first_bad_seq}: {check.problem}; "
            "entries from there on cannot be trusted, so compare them with a backup"
        )
    if json_output:
        return
    print_line(f"audit log intact: {check.entries} entries verified")
    if newest is not None:
        # A chain cannot show that entries were cut off its end, so the
        # newest hash is printed for the operator to keep somewhere else.
        print_line(f"newest entry {newest.seq}, hash {newest_hash}")
