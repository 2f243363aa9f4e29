"""``outbox`` lists notices by reference and status, and never the text they carry."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from storage import db
from storage.models.outbox import Notice
from storage.outbox import enqueue_notice
from tests.admin_cli.canary import CANARY_PHONE_SPELLINGS, find_canaries, seed_canary_contacts
from tests.admin_cli.conftest import AdminRunner
from tests.conftest import FIXED_START

STAFF_TEXT = f"Please call us back on {CANARY_PHONE_SPELLINGS[2]} about {{ref}}"


def _seed_notices(factory: sessionmaker[Session]) -> list[bytes]:
    with db.session_scope(factory) as session:
        canaries = seed_canary_contacts(session, FIXED_START)
        for index, (kind, contact_id) in enumerate(
            [("reminder", canaries.sms_id), ("staff_message", canaries.telegram_id)]
        ):
            enqueue_notice(
                session,
                kind=kind,
                contact_id=contact_id,
                booking_id=index + 1,
                reference=f"K7QM-4X2{index}",
                params={"text": STAFF_TEXT},
                due_at=FIXED_START,
                priority_at=FIXED_START + timedelta(hours=2),
                created_at=FIXED_START + timedelta(minutes=index),
            )
        session.execute(
            update(Notice)
            .where(Notice.reference == "K7QM-4X20")
            .values(status="failed", attempts=5, last_error_class="ChannelRejected")
        )
    return list(canaries.secret_bytes)


def test_outbox_json_fields(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """``outbox --json`` gives each notice's reference, kind, status, attempts and error class."""
    _seed_notices(session_factory)

    run = admin("outbox", "--json")

    assert run.code == 0, run.err
    notices = json.loads(run.out)
    assert [notice["reference"] for notice in notices] == ["K7QM-4X21", "K7QM-4X20"]
    failed = notices[1]
    assert failed["kind"] == "reminder"
    assert failed["status"] == "failed"
    assert failed["attempts"] == 5
    assert failed["last_error_class"] == "ChannelRejected"
    assert "params" not in failed


def test_outbox_failed_only(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """``--failed`` keeps only the notices the relay gave up on."""
    _seed_notices(session_factory)

    run = admin("outbox", "--failed", "--json")
    table = admin("outbox", "--failed")

    assert [notice["reference"] for notice in json.loads(run.out)] == ["K7QM-4X20"]
    assert "K7QM-4X20" in table.out
    assert "K7QM-4X21" not in table.out
    assert "ChannelRejected" in table.out


def test_outbox_by_reference(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """``--reference`` keeps the notices of one booking, whatever the case typed."""
    _seed_notices(session_factory)

    run = admin("outbox", "--reference", "k7qm-4x21", "--json")

    assert [notice["kind"] for notice in json.loads(run.out)] == ["staff_message"]


def test_outbox_hides_message_text(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """A phone number that staff typed into a message never shows in the outbox listing."""
    secrets = _seed_notices(session_factory)

    runs = [admin("outbox"), admin("outbox", "--json"), admin("outbox", "--failed")]

    for run in runs:
        assert run.code == 0, run.err
        assert find_canaries(run.output, secrets) == [], run.args
        assert "call us back" not in run.output


def test_outbox_empty_says_so(admin: AdminRunner) -> None:
    """With no notices the table form says so and the JSON form is an empty list."""
    assert admin("outbox").out.strip() == "No notices."
    assert admin("outbox", "--failed").out.strip() == "No failed notices."
    assert json.loads(admin("outbox", "--json").out) == []
