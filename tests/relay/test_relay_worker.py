"""The relay worker on SQLite and PostgreSQL against the channel stand-ins: outbox, freshness, retries."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from booking import book, cancel, check_in, find_slots, late, load_clinic, move
from booking.clinic import Clinic
from booking.notices import booking_params
from relay.channels.sms import SmsSettings
from relay.channels.telegram import TelegramSettings
from relay.claims import claim_due
from relay.plan import CHAT_REPLY_WAIT
from relay.settings import RelayWorkerSettings
from relay.templates import format_date, format_time
from sealbook.clock import FixedClock
from sealbook.logs import QUIET_LOGGERS
from sealbook.standins.smtp import SmtpMode, SmtpServer, serve_smtp
from sealbook.standins.telegram_api import TelegramApiStandin, TelegramFailure
from sealbook.standins.twilio_api import TwilioApiStandin, TwilioFailure
from storage.db import session_scope
from storage.models.audit import AuditEntry
from storage.models.bookings import BookingRow
from storage.models.contacts import Contact
from storage.outbox import enqueue_notice
from tests.relay.helpers import (
    add_contact,
    add_telegram_contacts,
    attempt_rows,
    enqueue_staff_messages,
    import_demo_clinic,
    notice_rows,
    record_chat_reply,
    relay_settings,
    run_staff_tool,
    run_worker,
)

Factory = sessionmaker[Session]
# Wednesday 10 March 2027, 11:00 in Sydney (UTC+11): outside reminder quiet hours.
NOW = dt.datetime(2027, 3, 10, 0, 0, tzinfo=dt.UTC)
CHAT_ID = 5550001
MOBILE = "+61412345678"
MOBILE_AS_TYPED = "0412 345 678"
EMAIL = "pat.one@example.org"
STAFF = "staff:Ann"


@pytest.fixture
def clinic(session_factory: Factory, clock: FixedClock) -> Clinic:
    """The demo clinic, loaded into the test database, with the clock at NOW."""
    clock.set(NOW)
    import_demo_clinic(session_factory, NOW)
    with session_factory() as session:
        return load_clinic(session)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A plain SMTP stand-in on loopback."""
    with serve_smtp(SmtpMode.PLAIN) as server:
        yield server


@pytest.fixture
def settings_for(
    home: Path,
    db_url: str,
    telegram_settings: TelegramSettings,
    sms_settings: SmsSettings,
    smtp: SmtpServer,
) -> Callable[..., RelayWorkerSettings]:
    """Return a function that builds live relay settings with the chosen channels configured."""

    def build(channels: tuple[str, ...] = ("telegram", "sms", "email"), **extra: str) -> RelayWorkerSettings:
        variables = {"relay_transport": "live", "relay_retry_base_seconds": "30", **extra}
        if "telegram" in channels:
            variables |= {
                "telegram_token": telegram_settings.token,
                "telegram_api_url": telegram_settings.api_url,
            }
        if "sms" in channels:
            variables |= {
                "twilio_account_sid": sms_settings.account_sid,
                "twilio_api_key": sms_settings.api_key,
                "twilio_api_secret": sms_settings.api_secret,
                "twilio_api_url": sms_settings.api_url,
                "sms_from": sms_settings.from_number,
            }
        if "email" in channels:
            variables |= {
                "smtp_host": smtp.host,
                "smtp_port": str(smtp.port),
                "smtp_tls": "none",
                "email_from": "bookings@clinic.example",
            }
        return relay_settings(home, db_url, **variables)

    return build


def book_slot(
    factory: Factory,
    clinic: Clinic,
    contact_id: int,
    *,
    actor: str = STAFF,
    days_ahead: int = 0,
    index: int = 0,
    reply_delivered: bool = True,
) -> str:
    """Book a standard consultation with Dr Lee and return its reference.

    A booking by the patient stands for one made in the chat, so the front's
    record that the chat reply was delivered follows it unless `reply_delivered`
    is False.
    """
    with session_scope(factory) as session:
        slots = find_slots(
            session,
            clinic,
            appointment_type_id="standard",
            practitioner_id="lee",
            now=NOW,
            from_date=(NOW + dt.timedelta(days=days_ahead)).astimezone(clinic.zone).date(),
            limit=index + 1,
        )
        view = book(
            session,
            clinic,
            contact_id=contact_id,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=slots[index].starts_at,
            now=NOW,
            actor=actor,
        )
    if actor == "patient" and reply_delivered:
        record_chat_reply(factory, contact_id, NOW)
    return view.reference


def booking_row(factory: Factory, reference: str) -> BookingRow:
    """Load a booking row by reference."""
    with factory() as session:
        row = session.scalars(select(BookingRow).where(BookingRow.reference == reference)).one()
        return row


def enqueue_running_late(factory: Factory, clinic: Clinic, reference: str, minutes: int) -> None:
    """Queue a running-late notice for a booking, as the delay projection would."""
    row = booking_row(factory, reference)
    params = booking_params(clinic, row, practitioner_name="Dr Mei Lee", type_name="Standard", actor="system")
    params["expected_at"] = (row.starts_at + dt.timedelta(minutes=minutes)).isoformat()
    params["moves"] = row.moves
    with session_scope(factory) as session:
        enqueue_notice(
            session,
            kind="running_late",
            contact_id=row.contact_id,
            booking_id=row.id,
            reference=reference,
            params=params,
            due_at=NOW,
            priority_at=row.starts_at,
            created_at=NOW,
        )


def parse_mail(server: SmtpServer, index: int) -> EmailMessage:
    """Parse the `index`-th message the SMTP stand-in received."""
    content = server.handler.received[index].original_content
    assert content is not None
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def calendar_event(message: EmailMessage) -> tuple[str, icalendar.Event]:
    """Return the calendar method and event of an e-mail's attachment."""
    part = next(part for part in message.iter_attachments() if part.get_content_type() == "text/calendar")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = icalendar.Calendar.from_ical(payload)
    return str(calendar["METHOD"]), calendar.events[0]


async def test_committed_booking_is_notified_rolled_back_is_not(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """A committed booking's confirmation is delivered; a rolled-back booking leaves nothing to send."""
    contact_id = add_contact(session_factory, home, "telegram", str(CHAT_ID), NOW)
    committed = book_slot(session_factory, clinic, contact_id)
    with pytest.raises(RuntimeError), session_scope(session_factory) as session:
        slots = find_slots(
            session, clinic, appointment_type_id="standard", practitioner_id="lee", now=NOW, limit=2
        )
        book(
            session,
            clinic,
            contact_id=contact_id,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=slots[1].starts_at,
            now=NOW,
            actor=STAFF,
        )
        raise RuntimeError("the change fails after booking")

    stats = await run_worker(settings_for(), session_factory, clock)

    texts = telegram_api.sent_texts(CHAT_ID)
    assert len(texts) == 1
    assert f"Ref {committed}" in texts[0]
    assert [notice.reference for notice in notice_rows(session_factory)] == [committed]
    assert stats["sent"] == 1


@pytest.mark.parametrize(
    ("change", "expected_class"),
    [
        ("check_in", "relay.booking_checked_in"),
        ("cancel", "relay.booking_cancelled"),
        ("move_and_back", "relay.booking_moved"),
    ],
)
async def test_running_late_not_sent_after_change(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
    change: str,
    expected_class: str,
) -> None:
    """A running-late notice queued before a check-in, cancellation or move is skipped, not sent.

    A booking moved away and back has its first start time again, but its
    move count differs from the one the notice was queued with.
    """
    contact_id = add_contact(session_factory, home, "telegram", str(CHAT_ID), NOW)
    reference = book_slot(session_factory, clinic, contact_id, actor="patient")
    first_starts_at = booking_row(session_factory, reference).starts_at
    enqueue_running_late(session_factory, clinic, reference, minutes=45)
    with session_scope(session_factory) as session:
        if change == "check_in":
            check_in(session, reference=reference, now=NOW, actor=STAFF)
        elif change == "cancel":
            cancel(session, clinic, reference=reference, contact_id=None, now=NOW, actor=STAFF)
        else:
            later = first_starts_at + dt.timedelta(hours=2)
            for starts_at in (later, first_starts_at):
                move(
                    session,
                    clinic,
                    reference=reference,
                    contact_id=None,
                    starts_at=starts_at,
                    now=NOW,
                    actor=STAFF,
                )

    await run_worker(settings_for(), session_factory, clock)

    late = [notice for notice in notice_rows(session_factory) if notice.kind == "running_late"]
    assert [notice.status for notice in late] == ["skipped"]
    assert late[0].last_error_class == expected_class
    assert not any("running late" in text for text in telegram_api.sent_texts())


async def test_running_late_sent_while_booked(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """A running-late notice for a booking still waiting gives the scheduled and expected times."""
    contact_id = add_contact(session_factory, home, "telegram", str(CHAT_ID), NOW)
    reference = book_slot(session_factory, clinic, contact_id, actor="patient")
    enqueue_running_late(session_factory, clinic, reference, minutes=45)

    await run_worker(settings_for(), session_factory, clock)

    starts = booking_row(session_factory, reference).starts_at.astimezone(clinic.zone)
    texts = telegram_api.sent_texts(CHAT_ID)
    assert len(texts) == 1
    assert "Dr Mei Lee is running late" in texts[0]
    assert reference in texts[0]
    expected = starts + dt.timedelta(minutes=45)
    assert f"expected at about {expected.hour % 12 or 12}:{expected.minute:02d}" in texts[0]


def running_late_texts(telegram_api: TelegramApiStandin, chat_id: int) -> list[str]:
    """Return the running-late texts the Bot API stand-in received for one chat, in order."""
    return [text for text in telegram_api.sent_texts(chat_id) if "running late" in text]


async def test_running_late_backlog_sends_newest_only(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """After late ticks at 09:50 and 10:10, one relay run sends each waiting patient only the 10:10 step.

    The 09:00 consult overruns, so the 09:15 and 09:30 patients are 35
    minutes late at the first tick and 55 at the second. Those are two
    steps, so each booking gets two notices with the same move count.
    """
    chat_ids = [CHAT_ID, CHAT_ID + 1, CHAT_ID + 2]
    contact_ids = add_telegram_contacts(session_factory, home, chat_ids, NOW)
    # Thursday's slots with Dr Lee start at 08:30, so the third free one is
    # 09:00, then 09:15 once 09:00 is taken, then 09:30.
    references = [
        book_slot(session_factory, clinic, contact_id, days_ahead=1, index=2) for contact_id in contact_ids
    ]
    await run_worker(settings_for(), session_factory, clock)
    starts = [booking_row(session_factory, reference).starts_at for reference in references]
    assert [f"{start.astimezone(clinic.zone):%H:%M}" for start in starts] == ["09:00", "09:15", "09:30"]
    in_consult, *waiting = references
    consult_start = starts[0]
    with session_scope(session_factory) as session:
        late.check_in(session, clinic, reference=in_consult, now=consult_start, actor=STAFF)
        late.start_consult(session, clinic, reference=in_consult, now=consult_start, actor=STAFF)
    first_tick = consult_start + dt.timedelta(minutes=50)
    second_tick = consult_start + dt.timedelta(minutes=70)

    late.tick(session_factory, first_tick, clinic)
    late.tick(session_factory, second_tick, clinic)
    clock.set(second_tick)
    await run_worker(settings_for(), session_factory, clock)

    notices = [notice for notice in notice_rows(session_factory) if notice.kind == "running_late"]
    assert sorted(notice.reference or "" for notice in notices) == sorted(waiting * 2)
    for reference in waiting:
        older, newer = [notice for notice in notices if notice.reference == reference]
        assert (older.params["step"], newer.params["step"]) == (30, 45)
        assert (older.status, older.last_error_class) == ("skipped", "relay.superseded")
        assert (newer.status, newer.last_error_class) == ("sent", None)
    assert running_late_texts(telegram_api, CHAT_ID) == []
    for chat_id, expected_local in ((CHAT_ID + 1, "10:10am"), (CHAT_ID + 2, "10:25am")):
        texts = running_late_texts(telegram_api, chat_id)
        assert len(texts) == 1
        assert f"expected at about {expected_local}" in texts[0]


async def test_staff_message_time_read_at_delivery(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    db_url: str,
    clock: FixedClock,
    twilio_api: TwilioApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A staff message retried after a move names the new time and practitioner, not the queued ones."""
    contact_id = add_contact(session_factory, home, "sms", MOBILE_AS_TYPED, NOW)
    reference = book_slot(session_factory, clinic, contact_id, days_ahead=1)
    await run_worker(settings_for(), session_factory, clock)
    old_start = booking_row(session_factory, reference).starts_at.astimezone(clinic.zone)
    text = "Hello {ref} at {time} with {practitioner}"
    assert run_staff_tool(monkeypatch, home, db_url, NOW, "message", reference, text) == 0
    twilio_api.fail_number(MOBILE, TwilioFailure.SERVER_ERROR, times=1)
    # The staff tool's clock starts at NOW and runs on, so the relay runs a minute later.
    clock.set(NOW + dt.timedelta(minutes=1))
    await run_worker(settings_for(), session_factory, clock)
    [queued] = [notice for notice in notice_rows(session_factory) if notice.kind == "staff_message"]
    assert (queued.status, queued.last_error_class) == ("pending", "sms.server_error")

    # Thursday 11 March 2027 with Dr Okafor at 14:30: another time and practitioner.
    new_local = "2027-03-11T14:30"
    moved = run_staff_tool(
        monkeypatch, home, db_url, clock.now(), "move", reference, new_local, "--practitioner", "okafor"
    )
    assert moved == 0
    clock.set(queued.due_at)
    await run_worker(settings_for(), session_factory, clock)

    new_start = booking_row(session_factory, reference).starts_at.astimezone(clinic.zone)
    assert f"{new_start:%Y-%m-%dT%H:%M}" == new_local
    staff_texts = [sms.body for sms in twilio_api.messages if "Hello" in sms.body]
    assert len(staff_texts) == 1
    assert f"Hello {reference} at {format_date(new_start)} {format_time(new_start)}" in staff_texts[0]
    assert "with Dr Tom Okafor" in staff_texts[0]
    assert format_time(old_start) not in staff_texts[0]
    assert "Mei Lee" not in staff_texts[0]
    [sent] = [notice for notice in notice_rows(session_factory) if notice.kind == "staff_message"]
    assert sent.status == "sent"


@pytest.mark.parametrize(
    ("order", "status", "error_class"),
    [
        ("message_then_cancel", "skipped", "relay.booking_cancelled"),
        ("cancel_then_message", "sent", None),
    ],
)
async def test_staff_message_to_cancelled_booking(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    db_url: str,
    clock: FixedClock,
    twilio_api: TwilioApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
    monkeypatch: pytest.MonkeyPatch,
    order: str,
    status: str,
    error_class: str | None,
) -> None:
    """A staff message is skipped when its booking is cancelled after queueing, and sent when queued after."""
    contact_id = add_contact(session_factory, home, "sms", MOBILE_AS_TYPED, NOW)
    reference = book_slot(session_factory, clinic, contact_id, days_ahead=1)
    await run_worker(settings_for(), session_factory, clock)
    message = ("message", reference, "Please call us about {ref} on {time}")
    cancel_command = ("cancel", reference, "--reason", "practitioner-unavailable")
    first, second = (message, cancel_command) if order == "message_then_cancel" else (cancel_command, message)
    assert run_staff_tool(monkeypatch, home, db_url, NOW, *first) == 0
    assert run_staff_tool(monkeypatch, home, db_url, NOW + dt.timedelta(minutes=1), *second) == 0

    clock.set(NOW + dt.timedelta(minutes=2))
    await run_worker(settings_for(), session_factory, clock)

    [notice] = [notice for notice in notice_rows(session_factory) if notice.kind == "staff_message"]
    assert (notice.status, notice.last_error_class) == (status, error_class)
    staff_texts = [sms.body for sms in twilio_api.messages if "Please call us" in sms.body]
    assert len(staff_texts) == (1 if status == "sent" else 0)
    cancelled = [sms.body for sms in twilio_api.messages if "is cancelled" in sms.body]
    assert len(cancelled) == 1


async def test_moved_booking_gets_reminder_for_new_time(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """After a move the old reminder is withdrawn and never sent; the new one names the new time."""
    contact_id = add_contact(session_factory, home, "telegram", str(CHAT_ID), NOW)
    reference = book_slot(session_factory, clinic, contact_id, actor="patient", days_ahead=2)
    with session_scope(session_factory) as session:
        new_start = find_slots(
            session,
            clinic,
            appointment_type_id="standard",
            practitioner_id="lee",
            now=NOW,
            from_date=(NOW + dt.timedelta(days=6)).astimezone(clinic.zone).date(),
            limit=1,
        )[0].starts_at
        move(
            session,
            clinic,
            reference=reference,
            contact_id=contact_id,
            starts_at=new_start,
            now=NOW,
            actor="patient",
        )
    record_chat_reply(session_factory, contact_id, NOW)

    reminders = [notice for notice in notice_rows(session_factory) if notice.kind == "reminder"]
    assert [notice.status for notice in reminders] == ["withdrawn", "pending"]
    clock.set(reminders[1].due_at)
    await run_worker(settings_for(), session_factory, clock)

    texts = telegram_api.sent_texts(CHAT_ID)
    assert len(texts) == 1
    assert "reminder" in texts[0]
    local = new_start.astimezone(clinic.zone)
    assert f"{local.day} " in texts[0]
    statuses = [notice.status for notice in notice_rows(session_factory) if notice.kind == "reminder"]
    assert statuses == ["withdrawn", "sent"]


async def test_claimed_reminder_for_cancelled_booking_is_skipped(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """A reminder a dead relay had claimed is taken over after its lease and skipped once cancelled."""
    contact_id = add_contact(session_factory, home, "telegram", str(CHAT_ID), NOW)
    reference = book_slot(session_factory, clinic, contact_id, actor="patient", days_ahead=2)
    await run_worker(settings_for(), session_factory, clock)
    reminder = next(notice for notice in notice_rows(session_factory) if notice.kind == "reminder")
    clock.set(reminder.due_at)
    claimed = claim_due(
        session_factory, owner="dead-relay", now=clock.now(), lease=dt.timedelta(seconds=60), limit=1
    )
    assert [claim.notice_id for claim in claimed] == [reminder.id]
    with session_scope(session_factory) as session:
        cancel(session, clinic, reference=reference, contact_id=contact_id, now=clock.now(), actor="patient")
    record_chat_reply(session_factory, contact_id, clock.now())

    await run_worker(settings_for(), session_factory, clock)
    assert next(n for n in notice_rows(session_factory) if n.id == reminder.id).status == "sending"

    clock.advance(dt.timedelta(seconds=61))
    await run_worker(settings_for(), session_factory, clock)

    taken_over = next(n for n in notice_rows(session_factory) if n.id == reminder.id)
    assert taken_over.status == "skipped"
    assert taken_over.last_error_class == "relay.booking_cancelled"
    assert telegram_api.sent_texts(CHAT_ID) == []


async def test_reminder_waits_out_quiet_hours(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """A reminder due at 21:30 local is held until quiet hours end at 08:00, without using an attempt."""
    contact_id = add_contact(session_factory, home, "telegram", str(CHAT_ID), NOW)
    reference = book_slot(session_factory, clinic, contact_id, actor="patient", days_ahead=2)
    reminder = next(notice for notice in notice_rows(session_factory) if notice.kind == "reminder")
    evening = reminder.due_at.astimezone(clinic.zone).replace(hour=21, minute=30)
    with session_scope(session_factory) as session:
        session.execute(update(type(reminder)).where(type(reminder).id == reminder.id).values(due_at=evening))
    clock.set(evening)

    await run_worker(settings_for(), session_factory, clock)

    held = next(n for n in notice_rows(session_factory) if n.id == reminder.id)
    assert held.status == "pending"
    assert held.attempts == 0
    assert held.due_at == (evening + dt.timedelta(days=1)).replace(hour=8, minute=0)
    assert telegram_api.sent_texts() == []

    clock.set(held.due_at)
    await run_worker(settings_for(), session_factory, clock)

    assert [text for text in telegram_api.sent_texts(CHAT_ID) if reference in text] != []


async def test_temporary_failures_retry_with_backoff(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """Two 500 responses are retried after growing, jittered waits; the third attempt delivers."""
    [contact_id] = add_telegram_contacts(session_factory, home, [CHAT_ID], NOW)
    [reference] = enqueue_staff_messages(session_factory, [contact_id], NOW)
    telegram_api.fail_chat(CHAT_ID, TelegramFailure.SERVER_ERROR, times=2)
    settings = settings_for()
    waits = []

    for _ in range(2):
        started = clock.now()
        await run_worker(settings, session_factory, clock)
        [notice] = notice_rows(session_factory)
        assert notice.status == "pending"
        waits.append((notice.due_at - started).total_seconds())
        await run_worker(settings, session_factory, clock)
        assert notice_rows(session_factory)[0].status == "pending"
        clock.set(notice.due_at)
    await run_worker(settings, session_factory, clock)

    [notice] = notice_rows(session_factory)
    assert notice.status == "sent"
    assert notice.attempts == 3
    assert 15 <= waits[0] <= 30
    assert 30 <= waits[1] <= 60
    records = [
        (row.attempt, row.channel, row.status, row.error_class) for row in attempt_rows(session_factory)
    ]
    assert records == [
        (1, "telegram", "failed", "telegram.network"),
        (2, "telegram", "failed", "telegram.network"),
        (3, "telegram", "sent", None),
    ]
    assert {row.reference for row in attempt_rows(session_factory)} == {reference}


async def test_gives_up_after_max_attempts(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """A notice that keeps failing temporarily is failed after the last attempt and audited by reference."""
    [contact_id] = add_telegram_contacts(session_factory, home, [CHAT_ID], NOW)
    [reference] = enqueue_staff_messages(session_factory, [contact_id], NOW)
    telegram_api.fail_chat(CHAT_ID, TelegramFailure.SERVER_ERROR)
    settings = settings_for(relay_max_attempts="3")

    for _ in range(3):
        await run_worker(settings, session_factory, clock)
        clock.advance(dt.timedelta(hours=1))

    [notice] = notice_rows(session_factory)
    assert notice.status == "failed"
    assert notice.attempts == 3
    assert notice.last_error_class == "telegram.network"
    with session_factory() as session:
        audits = list(session.scalars(select(AuditEntry).where(AuditEntry.reference == reference)))
    assert [(entry.actor, entry.action, entry.outcome) for entry in audits] == [
        ("relay", "deliver_notice", "failed")
    ]


async def test_sent_notice_is_audited(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """A delivered notice gets one audit entry by reference, with the notice id and no contents."""
    [contact_id] = add_telegram_contacts(session_factory, home, [CHAT_ID], NOW)
    [reference] = enqueue_staff_messages(session_factory, [contact_id], NOW)

    await run_worker(settings_for(), session_factory, clock)

    [notice] = notice_rows(session_factory)
    with session_factory() as session:
        audits = list(session.scalars(select(AuditEntry).where(AuditEntry.reference == reference)))
    assert notice.status == "sent"
    assert [(entry.actor, entry.action, entry.outcome) for entry in audits] == [
        ("relay", "deliver_notice", "sent")
    ]
    assert audits[0].detail == f"notice={notice.id}"


async def test_blocked_bot_fails_at_once(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """A patient who blocked the bot ends the notice as failed after one attempt."""
    [contact_id] = add_telegram_contacts(session_factory, home, [CHAT_ID], NOW)
    enqueue_staff_messages(session_factory, [contact_id], NOW)
    telegram_api.fail_chat(CHAT_ID, TelegramFailure.BLOCKED)

    await run_worker(settings_for(), session_factory, clock)

    [notice] = notice_rows(session_factory)
    assert (notice.status, notice.attempts, notice.last_error_class) == ("failed", 1, "telegram.blocked")
    assert len(telegram_api.calls_of("sendMessage")) == 1


async def test_sms_opt_out_is_learned_and_respected(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    twilio_api: TwilioApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """Error 21610 fails the notice and records the opt-out; the next SMS notice is never sent."""
    contact_id = add_contact(session_factory, home, "sms", "0412 345 678", NOW)
    twilio_api.opt_out(MOBILE)
    enqueue_staff_messages(session_factory, [contact_id], NOW)

    await run_worker(settings_for(), session_factory, clock)
    enqueue_staff_messages(session_factory, [contact_id], NOW)
    await run_worker(settings_for(), session_factory, clock)

    first, second = notice_rows(session_factory)
    assert (first.status, first.last_error_class) == ("failed", "sms.opted_out")
    assert (second.status, second.last_error_class) == ("undeliverable", "sms.opted_out")
    assert twilio_api.request_count == 1
    with session_factory() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        assert contact.opted_out_at == NOW


async def test_opted_out_contact_gets_cancellation_by_email_only(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    twilio_api: TwilioApiStandin,
    smtp: SmtpServer,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """With SMS opted out, a staff cancellation reaches the linked e-mail with METHOD:CANCEL, no SMS."""
    contact_id = add_contact(session_factory, home, "sms", "0412 345 678", NOW, email=EMAIL)
    reference = book_slot(session_factory, clinic, contact_id, actor="patient")
    await run_worker(settings_for(), session_factory, clock)
    with session_scope(session_factory) as session:
        session.execute(update(Contact).where(Contact.id == contact_id).values(opted_out_at=NOW))
        cancel(session, clinic, reference=reference, contact_id=None, now=NOW, actor=STAFF)

    await run_worker(settings_for(), session_factory, clock)

    assert twilio_api.request_count == 0
    assert [envelope.rcpt_tos for envelope in smtp.handler.received] == [[EMAIL], [EMAIL]]
    methods = [calendar_event(parse_mail(smtp, index))[0] for index in range(2)]
    assert methods == ["REQUEST", "CANCEL"]
    statuses = [(notice.kind, notice.status) for notice in notice_rows(session_factory)]
    assert statuses == [("booking_confirmed", "sent"), ("booking_cancelled", "sent")]


async def test_patient_changes_keep_one_calendar_event(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    smtp: SmtpServer,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """Book, move and cancel in the chat send e-mails with one UID and SEQUENCE 0, 1, 2, and no chat notice."""
    contact_id = add_contact(session_factory, home, "telegram", str(CHAT_ID), NOW, email=EMAIL)
    reference = book_slot(session_factory, clinic, contact_id, actor="patient", days_ahead=1)
    await run_worker(settings_for(), session_factory, clock)
    with session_scope(session_factory) as session:
        tomorrow = (NOW + dt.timedelta(days=1)).astimezone(clinic.zone).date()
        slots = find_slots(
            session,
            clinic,
            appointment_type_id="standard",
            practitioner_id="lee",
            now=NOW,
            from_date=tomorrow,
            limit=3,
        )
        move(
            session,
            clinic,
            reference=reference,
            contact_id=contact_id,
            starts_at=slots[2].starts_at,
            now=NOW,
            actor="patient",
        )
    record_chat_reply(session_factory, contact_id, NOW)
    await run_worker(settings_for(), session_factory, clock)
    with session_scope(session_factory) as session:
        cancel(session, clinic, reference=reference, contact_id=contact_id, now=NOW, actor="patient")
    record_chat_reply(session_factory, contact_id, NOW)
    await run_worker(settings_for(), session_factory, clock)

    events = [calendar_event(parse_mail(smtp, index)) for index in range(3)]
    assert [method for method, _ in events] == ["REQUEST", "REQUEST", "CANCEL"]
    assert len({str(event["UID"]) for _, event in events}) == 1
    assert [event.sequence for _, event in events] == [0, 1, 2]
    assert events[1][1].start == slots[2].starts_at
    assert str(events[1][1]["DTSTART"].params["TZID"]) == "Australia/Sydney"
    assert telegram_api.sent_texts() == []


async def test_patient_booking_without_email_is_skipped(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """A chat booking's confirmation is skipped once the front recorded that the chat reply was delivered."""
    contact_id = add_contact(session_factory, home, "telegram", str(CHAT_ID), NOW)
    book_slot(session_factory, clinic, contact_id, actor="patient")

    await run_worker(settings_for(), session_factory, clock)

    [notice] = notice_rows(session_factory)
    assert (notice.status, notice.last_error_class) == ("skipped", "relay.replied_in_chat")
    assert telegram_api.sent_texts() == []


async def test_unrecorded_chat_reply_confirmed_after_wait(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """Without the front's record of a delivered reply, the confirmation waits, then goes to the chat."""
    contact_id = add_contact(session_factory, home, "telegram", str(CHAT_ID), NOW)
    reference = book_slot(session_factory, clinic, contact_id, actor="patient", reply_delivered=False)

    await run_worker(settings_for(), session_factory, clock)

    [waiting] = notice_rows(session_factory)
    assert waiting.status == "pending"
    assert waiting.attempts == 0
    assert waiting.due_at == NOW + CHAT_REPLY_WAIT
    assert telegram_api.sent_texts() == []

    clock.set(waiting.due_at)
    await run_worker(settings_for(), session_factory, clock)

    [notice] = notice_rows(session_factory)
    assert notice.status == "sent"
    texts = telegram_api.sent_texts(CHAT_ID)
    assert len(texts) == 1
    assert reference in texts[0]
    assert "is booked for" in texts[0]


async def test_unrecorded_chat_reply_sent_beside_email(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    smtp: SmtpServer,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """A chat booking with an e-mail contact and no record of the reply goes by e-mail and to the chat."""
    contact_id = add_contact(session_factory, home, "telegram", str(CHAT_ID), NOW, email=EMAIL)
    reference = book_slot(session_factory, clinic, contact_id, actor="patient", reply_delivered=False)
    clock.set(NOW + CHAT_REPLY_WAIT)

    await run_worker(settings_for(), session_factory, clock)

    [notice] = notice_rows(session_factory)
    assert notice.status == "sent"
    assert [reference in text for text in telegram_api.sent_texts(CHAT_ID)] == [True]
    assert [envelope.rcpt_tos for envelope in smtp.handler.received] == [[EMAIL]]
    channels = sorted((row.channel, row.status) for row in attempt_rows(session_factory))
    assert channels == [("email", "sent"), ("telegram", "sent")]


async def test_unconfigured_channel_is_undeliverable(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """An SMS contact with only Telegram configured is recorded undeliverable, not retried."""
    contact_id = add_contact(session_factory, home, "sms", "0412 345 678", NOW)
    enqueue_staff_messages(session_factory, [contact_id], NOW)

    await run_worker(settings_for(channels=("telegram",)), session_factory, clock)

    [notice] = notice_rows(session_factory)
    assert (notice.status, notice.last_error_class) == ("undeliverable", "relay.channel_not_configured")
    assert [(row.channel, row.status) for row in attempt_rows(session_factory)] == [("sms", "undeliverable")]


async def test_soonest_appointment_first(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """Notices queued latest appointment first are sent soonest appointment first."""
    chat_ids = [CHAT_ID + offset for offset in range(6)]
    contact_ids = add_telegram_contacts(session_factory, home, chat_ids, NOW)
    enqueue_staff_messages(
        session_factory, contact_ids, NOW, starts_at=lambda index: NOW + dt.timedelta(hours=6 - index)
    )

    await run_worker(settings_for(relay_concurrency="1"), session_factory, clock)

    order = [call.params["chat_id"] for call in telegram_api.calls_of("sendMessage")]
    assert order == list(reversed(chat_ids))


async def test_live_lease_is_not_taken_over(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
) -> None:
    """A notice under another relay's unexpired lease is left alone until the lease runs out."""
    [contact_id] = add_telegram_contacts(session_factory, home, [CHAT_ID], NOW)
    enqueue_staff_messages(session_factory, [contact_id], NOW)
    claim_due(session_factory, owner="other-relay", now=NOW, lease=dt.timedelta(seconds=60), limit=10)

    clock.advance(dt.timedelta(seconds=59))
    await run_worker(settings_for(), session_factory, clock)
    assert telegram_api.sent_texts() == []

    clock.advance(dt.timedelta(seconds=2))
    await run_worker(settings_for(), session_factory, clock)
    [notice] = notice_rows(session_factory)
    assert (notice.status, notice.attempts) == ("sent", 2)
    assert len(telegram_api.sent_texts(CHAT_ID)) == 1


async def test_records_and_logs_hold_no_contact_details(
    session_factory: Factory,
    clinic: Clinic,
    home: Path,
    clock: FixedClock,
    telegram_api: TelegramApiStandin,
    twilio_api: TwilioApiStandin,
    settings_for: Callable[..., RelayWorkerSettings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Logs, delivery records, outbox rows and audit entries of a mixed run name no address or text."""
    caplog.set_level(logging.DEBUG)
    # As configure_logging does for every entry point: client libraries stay at WARNING.
    for name in QUIET_LOGGERS:
        caplog.set_level(logging.WARNING, logger=name)
    telegram_contact = add_contact(session_factory, home, "telegram", str(CHAT_ID), NOW, email=EMAIL)
    sms_contact = add_contact(session_factory, home, "sms", "0412 345 678", NOW)
    telegram_api.fail_chat(CHAT_ID, TelegramFailure.BLOCKED)
    twilio_api.opt_out(MOBILE)
    book_slot(session_factory, clinic, telegram_contact)
    enqueue_staff_messages(session_factory, [sms_contact, telegram_contact], NOW)

    await run_worker(settings_for(), session_factory, clock)

    with session_factory() as session:
        stored = [
            repr(row.__dict__)
            for model in (AuditEntry, type(notice_rows(session_factory)[0]))
            for row in session.scalars(select(model))
        ]
    stored += [repr(row.__dict__) for row in attempt_rows(session_factory)]
    haystack = caplog.text + "\n".join(stored)
    for secret in (str(CHAT_ID), MOBILE, "412 345 678", EMAIL):
        assert secret not in haystack
    assert "Medicare" not in caplog.text
