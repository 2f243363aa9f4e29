"""``outbox`` lists notices by reference and status, and never the text they carry."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.errors import EXIT_NOT_FOUND
from storage import db
from storage.models.outbox import Notice
from storage.outbox import enqueue_notice
from tests.admin_cli.canary import CANARY_PHONE_SPELLINGS, find_canaries, seed_canary_contacts
from tests.admin_cli.clinic_day import seed_clinic_day
from tests.admin_cli.conftest import AdminRunner
from tests.conftest import FIXED_START

STAFF_TEXT = f"Please call us back on {CANARY_PHONE_SPELLINGS[2]} about {{ref}}"
# Well-formed references, check symbol included, that no seeded booking has.
REMINDER_REFERENCE = "K7QM-4X2S"
MESSAGE_REFERENCE = "K7QM-4X3B"


def _seed_notices(factory: sessionmaker[Session]) -> list[bytes]:
    with db.session_scope(factory) as session:
        canaries = seed_canary_contacts(session, FIXED_START)
        for index, (kind, contact_id, reference) in enumerate(
            [
                ("reminder", canaries.sms_id, REMINDER_REFERENCE),
                ("staff_message", canaries.telegram_id, MESSAGE_REFERENCE),
            ]
        ):
            enqueue_notice(
                session,
                kind=kind,
                contact_id=contact_id,
                booking_id=index + 1,
                reference=reference,
                params={"text": STAFF_TEXT},
                due_at=FIXED_START,
                priority_at=FIXED_START + timedelta(hours=2),
                created_at=FIXED_START + timedelta(minutes=index),
            )
        session.execute(
            update(Notice)
            .where(Notice.reference == REMINDER_REFERENCE)
            .values(status="failed", attempts=5, last_error_class="ChannelRejected")
        )
    return list(canaries.secret_bytes)


def test_outbox_json_fields(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """``outbox --json`` gives each notice's reference, kind, status, attempts and error class."""
    _seed_notices(session_factory)

    run = admin("outbox", "--json")

    assert run.code == 0, run.err
    notices = json.loads(run.out)
    assert [notice["reference"] for notice in notices] == [MESSAGE_REFERENCE, REMINDER_REFERENCE]
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

    assert [notice["reference"] for notice in json.loads(run.out)] == [REMINDER_REFERENCE]
    assert REMINDER_REFERENCE in table.out
    assert MESSAGE_REFERENCE not in table.out
    assert "ChannelRejected" in table.out


def test_outbox_by_reference(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """``--reference`` keeps the notices of one booking, whatever the case and dashes typed."""
    _seed_notices(session_factory)

    run = admin("outbox", "--reference", MESSAGE_REFERENCE.replace("-", "").lower(), "--json")

    assert run.code == 0, run.err
    assert [notice["kind"] for notice in json.loads(run.out)] == ["staff_message"]


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("VKHB-JW0W", "mistyped"),
        ("0491570123", "invalid booking reference"),
        ("VKHB-JW0V", "no booking has reference VKHB-JW0V"),
    ],
    ids=["wrong check symbol", "phone number", "no such booking"],
)
def test_outbox_reference_not_found(
    session_factory: sessionmaker[Session], admin: AdminRunner, typed: str, words: str
) -> None:
    """A mistyped reference, or one no booking has, gives exit 3 as ``show`` does, not an empty list."""
    _seed_notices(session_factory)

    run = admin("outbox", "--reference", typed)

    assert run.code == EXIT_NOT_FOUND
    assert run.out == ""
    assert run.err.count("\n") == 1
    assert words in run.err


def test_outbox_reference_not_echoed(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """A phone number typed in place of a reference is not repeated in any spelling."""
    _seed_notices(session_factory)

    runs = [admin("outbox", "--reference", spelling) for spelling in CANARY_PHONE_SPELLINGS]

    for run in runs:
        assert run.code == EXIT_NOT_FOUND, run.args
        assert find_canaries(run.output) == [], run.args


def test_outbox_booking_without_notices(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """A booking that exists but has no matching notice gives the empty listing and exit 0."""
    clinic_day = seed_clinic_day(session_factory)

    run = admin("outbox", "--failed", "--reference", clinic_day.lee_first)

    assert run.code == 0, run.err
    assert run.out.strip() == "No failed notices."


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
