"""Writing notices to the outbox inside the transaction of the change that causes them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from storage.models.outbox import Notice

# The `params` key in which the front records when the chat reply of the
# dialogue turn that queued a notice was delivered (ISO-8601 UTC). The relay
# skips a patient's own confirmation on the chat channel only when it is set.
CHAT_REPLY_DELIVERED_AT = "chat_reply_delivered_at"

# Dedupe keys per lookup query in `enqueue_notices`. It keeps each statement
# under the 999 bind parameters that SQLite builds before 3.32 allow.
DEDUPE_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class NewNotice:
    """A notice for `enqueue_notices`, with the same fields as the arguments of `enqueue_notice`."""

    kind: str
    contact_id: int
    booking_id: int | None
    reference: str | None
    params: dict[str, Any]
    due_at: datetime
    priority_at: datetime
    created_at: datetime
    dedupe_key: str | None = None


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


def enqueue_notices(session: Session, notices: Sequence[NewNotice]) -> int:
    """Add pending notices to the caller's transaction in one bulk insert; return how many were added.

    A notice whose ``dedupe_key`` is already queued, or was taken by an
    earlier notice in `notices`, is left out, as `enqueue_notice` would
    leave it out. The queued keys are read in one query per
    `DEDUPE_LOOKUP_CHUNK` keys. The caller commits or rolls back.
    """
    queued = _queued_dedupe_keys(session, {n.dedupe_key for n in notices if n.dedupe_key is not None})
    rows: list[dict[str, Any]] = []
    for notice in notices:
        if notice.dedupe_key is not None:
            if notice.dedupe_key in queued:
                continue
            queued.add(notice.dedupe_key)
        rows.append(
            {
                "kind": notice.kind,
                "contact_id": notice.contact_id,
                "booking_id": notice.booking_id,
                "reference": notice.reference,
                "params": notice.params,
                "status": "pending",
                "due_at": notice.due_at,
                "priority_at": notice.priority_at,
                "attempts": 0,
                "dedupe_key": notice.dedupe_key,
                "created_at": notice.created_at,
            }
        )
    if rows:
        session.execute(insert(Notice), rows)
    return len(rows)


def _queued_dedupe_keys(session: Session, keys: set[str]) -> set[str]:
    """Return those of `keys` that a notice in the outbox already has."""
    sorted_keys = sorted(keys)
    queued: set[str] = set()
    for start in range(0, len(sorted_keys), DEDUPE_LOOKUP_CHUNK):
        chunk = sorted_keys[start : start + DEDUPE_LOOKUP_CHUNK]
        queued.update(session.scalars(select(Notice.dedupe_key).where(Notice.dedupe_key.in_(chunk))))
    return queued


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


def record_chat_reply_delivered(
    session: Session, *, contact_id: int, turn_at: datetime, delivered_at: datetime
) -> int:
    """Mark the notices of one dialogue turn as replied to in the chat; return how many were marked.

    A turn's notices are those of `contact_id` created at `turn_at`, because the
    booking core stamps each notice with the time of the turn that changed the
    booking. The mark goes into `params` under `CHAT_REPLY_DELIVERED_AT`.
    """
    notices = session.scalars(
        select(Notice).where(Notice.contact_id == contact_id, Notice.created_at == turn_at)
    ).all()
    for notice in notices:
        # A new dict, because the JSON column does not track changes made in place.
        notice.params = {**notice.params, CHAT_REPLY_DELIVERED_AT: delivered_at.isoformat()}
    return len(notices)
