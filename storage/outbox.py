"""Writing notices to the outbox inside the transaction of the change that causes them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models.outbox import Notice


def enqueue_notice(
    session: Session,
    *,
    kind: str,
    contact_id: int,
    booking_id: int | None,
    reference: str | None,
    params: dict[str, Any],
    due_at: datetime,
    priority_at: datetime,
    created_at: datetime,
    dedupe_key: str | None = None,
) -> Notice | None:
    """Add a pending notice to the caller's transaction.

    With a ``dedupe_key`` that is already queued, nothing is added and None is
    returned. The caller commits or rolls back, and the notice goes with it.
    """
    if dedupe_key is not None:
        existing = session.scalar(select(Notice.id).where(Notice.dedupe_key == dedupe_key))
        if existing is not None:
            return None

    notice = Notice(
        kind=kind,
        contact_id=contact_id,
        booking_id=booking_id,
        reference=reference,
        params=params,
        status="pending",
        due_at=due_at,
        priority_at=priority_at,
        attempts=0,
        dedupe_key=dedupe_key,
        created_at=created_at,
    )
    session.add(notice)
    session.flush()
    return notice


def withdraw_notices(session: Session, booking_id: int, kinds: Iterable[str], finished_at: datetime) -> int:
    """Withdraw the pending notices of these kinds for a booking; return how many."""
    result = session.execute(
        update(Notice)
        .where(
            Notice.booking_id == booking_id,
            Notice.kind.in_(list(kinds)),
            Notice.status == "pending",
        )
        .values(status="withdrawn", finished_at=finished_at)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
