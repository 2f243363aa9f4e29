"""Loading and saving dialogue state rows with optimistic concurrency on their version."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flows.replies import Channel
from flows.state import DialogueState, StateCorrupt, decode_state, encode_state
from sealbook.errors import SealbookError
from storage.models.dialogue import DialogueStateRow

logger = logging.getLogger(__name__)


class VersionConflict(SealbookError):
    """Another message from the same contact saved the dialogue state first; retry on the new state."""


@dataclass(frozen=True)
class LoadedState:
    """A contact's dialogue state as loaded, with the version a save must name."""

    state: DialogueState | None
    """None when there is no row, the row expired, or it could not be read."""
    version: int | None
    """The row's version, or None when there is no row yet."""
    expired_mid_flow: bool
    """True when an unfinished conversation timed out, so the reply starts with a note."""


def load_state(session: Session, contact_id: int, now: dt.datetime) -> LoadedState:
    """Load a contact's dialogue state, treating an expired or unreadable one as absent."""
    row = session.execute(
        select(DialogueStateRow.version, DialogueStateRow.state, DialogueStateRow.expires_at).where(
            DialogueStateRow.contact_id == contact_id
        )
    ).first()
    if row is None:
        return LoadedState(None, None, False)
    version, document, expires_at = row
    try:
        state = decode_state(document)
    except StateCorrupt as exc:
        logger.warning("dialogue state of contact %d unreadable (%s); starting afresh", contact_id, exc)
        return LoadedState(None, version, False)
    if expires_at <= now:
        logger.info("dialogue of contact %d expired at step %s", contact_id, state.step)
        return LoadedState(None, version, state.flow != "menu")
    return LoadedState(state, version, False)


def save_state(
    session: Session,
    contact_id: int,
    *,
    version: int | None,
    state: DialogueState,
    channel: Channel,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> int:
    """Save the state if the row is still at `version` (None: no row yet); return the new version.

    Raises `VersionConflict` when another transaction saved first. The
    caller then rolls back everything it did for this message and starts
    again from the state that transaction saved.
    """
    values = {
        "state": encode_state(state),
        "channel": channel,
        "flow": state.flow,
        "step": state.step,
        "updated_at": now,
        "expires_at": expires_at,
    }
    if version is None:
        try:
            with session.begin_nested():
                session.execute(insert(DialogueStateRow).values(contact_id=contact_id, version=1, **values))
        except IntegrityError:
            raise VersionConflict("dialogue state was created by another message; retry") from None
        return 1

    result = session.execute(
        update(DialogueStateRow)
        .where(DialogueStateRow.contact_id == contact_id, DialogueStateRow.version == version)
        .values(version=version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise VersionConflict("dialogue state was changed by another message; retry")
    return version + 1
