"""Claiming due notices under a lease, renewing and releasing leases, and recording outcomes.

A claim moves a notice from `pending` (or from `sending` under an expired lease) to
`sending`, names this relay as `lease_owner` and counts an attempt. On PostgreSQL the
select takes `FOR UPDATE SKIP LOCKED`, so relays running at once claim disjoint rows;
SQLite has no row locks, so there one relay runs at a time (see `relay.lock`).
Every later write about a claimed notice is guarded by `lease_owner`, so a relay whose
lease was taken over cannot overwrite the new owner's outcome.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.audit import record_audit
from storage.db import session_scope
from storage.models.contacts import Contact
from storage.models.outbox import DeliveryAttempt, Notice

logger = logging.getLogger(__name__)

AUDIT_ACTOR = "relay"


@dataclass(frozen=True)
class Claim:
    """A notice this relay holds: its id, its reference and which attempt this is (1 for the first)."""

    notice_id: int
    reference: str | None
    attempt: int


@dataclass(frozen=True)
class ChannelResult:
    """The outcome on one channel, as a delivery record stores it: no address, no text."""

    channel: str
    status: str  # "sent", "failed" or "undeliverable"
    error_class: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The result of a claimed notice, and what to write back.

    `status` is the notice's new status. For `pending` (a retry or a deferral),
    `due_at` is when it is due again, and `count_attempt` False gives back the
    attempt the claim counted, as when a reminder waits out quiet hours.
    """

    status: str
    error_class: str | None = None
    due_at: dt.datetime | None = None
    count_attempt: bool = True
    results: Sequence[ChannelResult] = field(default_factory=tuple)
    opted_out_contact_id: int | None = None

    @property
    def terminal(self) -> bool:
        return self.status != "pending"


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(Notice.status == "pending", Notice.due_at <= now),
        and_(Notice.status == "sending", Notice.lease_expires_at <= now),
    )


def claim_due(
    factory: sessionmaker[Session], *, owner: str, now: dt.datetime, lease: dt.timedelta, limit: int
) -> list[Claim]:
    """Claim up to `limit` due notices, soonest appointment first, and return them."""
    with session_scope(factory) as session:
        rows = session.execute(
            select(Notice.id, Notice.reference, Notice.attempts, Notice.status, Notice.lease_owner)
            .where(_due(now))
            .order_by(Notice.priority_at, Notice.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        session.execute(
            update(Notice)
            .where(Notice.id.in_(ids))
            .values(
                status="sending",
                lease_owner=owner,
                lease_expires_at=now + lease,
                attempts=Notice.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
    for row in rows:
        if row.status == "sending":
            logger.warning(
                "notice %s (%s) taken over from an expired lease of %s",
                row.id,
                row.reference,
                row.lease_owner,
            )
    return [Claim(row.id, row.reference, row.attempts + 1) for row in rows]


def renew_leases(
    factory: sessionmaker[Session],
    *,
    owner: str,
    notice_ids: Sequence[int],
    now: dt.datetime,
    lease: dt.timedelta,
) -> int:
    """Extend the leases this relay holds on `notice_ids`; return how many it still holds.

    Only notices being worked on are named, so a notice whose outcome could not be
    recorded is not kept alive: its lease runs out and it is claimed again.
    """
    with session_scope(factory) as session:
        result = session.execute(
            update(Notice)
            .where(Notice.id.in_(notice_ids), Notice.status == "sending", Notice.lease_owner == owner)
            .values(lease_expires_at=now + lease)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def release(factory: sessionmaker[Session], claims: Sequence[Claim], *, owner: str) -> int:
    """Give back claimed notices that were never worked on, uncounting their attempt."""
    if not claims:
        return 0
    with session_scope(factory) as session:
        result = session.execute(
            update(Notice)
            .where(
                Notice.id.in_([claim.notice_id for claim in claims]),
                Notice.status == "sending",
                Notice.lease_owner == owner,
            )
            .values(
                status="pending",
                lease_owner=None,
                lease_expires_at=None,
                attempts=Notice.attempts - 1,
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def record_outcome(
    factory: sessionmaker[Session], claim: Claim, outcome: Outcome, *, owner: str, now: dt.datetime
) -> bool:
    """Write the outcome of a claimed notice and its delivery records; return False if the lease was lost.

    The delivery records are written either way, because the sends happened. A
    notice that ends failed or undeliverable also gets an audit entry, by reference.
    """
    values: dict[str, object] = {
        "status": outcome.status,
        "last_error_class": outcome.error_class,
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if outcome.terminal:
        values["finished_at"] = now
    else:
        values["due_at"] = outcome.due_at or now
    if not outcome.count_attempt:
        values["attempts"] = claim.attempt - 1

    with session_scope(factory) as session:
        result = session.execute(
            update(Notice)
            .where(Notice.id == claim.notice_id, Notice.status == "sending", Notice.lease_owner == owner)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        held = int(result.rowcount) == 1  # type: ignore[attr-defined]
        for channel_result in outcome.results:
            session.add(
                DeliveryAttempt(
                    notice_id=claim.notice_id,
                    reference=claim.reference,
                    attempt=claim.attempt,
                    channel=channel_result.channel,
                    status=channel_result.status,
                    error_class=channel_result.error_class,
                    at=now,
                )
            )
        if outcome.opted_out_contact_id is not None:
            session.execute(
                update(Contact)
                .where(Contact.id == outcome.opted_out_contact_id, Contact.opted_out_at.is_(None))
                .values(opted_out_at=now)
                .execution_options(synchronize_session=False)
            )
        # Every final outcome is audited; a retry waits for its own.
        if held and outcome.status in ("sent", "skipped", "failed", "undeliverable"):
            record_audit(
                session,
                at=now,
                actor=AUDIT_ACTOR,
                action="deliver_notice",
                reference=claim.reference,
                outcome=outcome.status,
                detail=f"notice={claim.notice_id}"
                + (f" error={outcome.error_class}" if outcome.error_class else ""),
            )
    if not held:
        logger.warning(
            "lease on notice %s (%s) was lost before its outcome %s was recorded; another relay owns it",
            claim.notice_id,
            claim.reference,
            outcome.status,
        )
    return held


def sent_channels(session: Session, notice_id: int) -> set[str]:
    """Return the channels on which earlier attempts already delivered this notice.

    A notice printed by the console transport counts as delivered on every channel.
    """
    rows = session.scalars(
        select(DeliveryAttempt.channel).where(
            DeliveryAttempt.notice_id == notice_id, DeliveryAttempt.status == "sent"
        )
    )
    channels = set(rows)
    if "console" in channels:
        return {"telegram", "sms", "email", "console"}
    return channels
