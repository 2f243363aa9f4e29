"""Per-contact message rate limit, counted in the database so that every worker agrees."""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta

from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models.inbound import ContactMessageWindow

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=1)


class RateVerdict(enum.Enum):
    """Decision about a message after counting it."""

    ALLOW = "allow"
    # The first message over the limit: tell the patient once that the bot is pausing.
    PAUSE = "pause"
    # Every later message in the same window: no reply at all.
    SILENT = "silent"


def count_message(session: Session, contact_id: int, now: datetime, limit: int) -> RateVerdict:
    """Count one message of the contact in the caller's transaction and return the verdict.

    A window opens with the first message after the previous window passed
    and lasts ``WINDOW``. The count is one atomic upsert, so concurrent
    messages of one contact on several workers each see a distinct count.
    """
    if limit < 1:
        raise ValueError(f"the rate limit must be at least 1 message per window, not {limit}")
    table = ContactMessageWindow.__table__
    window_passed = table.c.window_started_at <= now - WINDOW
    values = {"contact_id": contact_id, "window_started_at": now, "message_count": 1}
    # Both right-hand sides read the row as it was before this update.
    changes = {
        "message_count": case((window_passed, 1), else_=table.c.message_count + 1),
        "window_started_at": case((window_passed, now), else_=table.c.window_started_at),
    }
    if session.get_bind().dialect.name == "postgresql":
        statement = (
            postgresql.insert(ContactMessageWindow)
            .values(values)
            .on_conflict_do_update(index_elements=[table.c.contact_id], set_=changes)
            .returning(table.c.message_count)
        )
    else:
        statement = (
            sqlite.insert(ContactMessageWindow)
            .values(values)
            .on_conflict_do_update(index_elements=[table.c.contact_id], set_=changes)
            .returning(table.c.message_count)
        )

    count = int(session.execute(statement).scalar_one())
    if count <= limit:
        return RateVerdict.ALLOW
    if count == limit + 1:
        logger.info("contact %d passed %d messages a minute; pausing its replies", contact_id, limit)
        return RateVerdict.PAUSE
    return RateVerdict.SILENT
