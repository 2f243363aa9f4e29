"""The invariants a simulated day must end with, and the counts its summary prints."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.store import load_clinic
from crypto import candidate_pseudonyms, load_front_keyring, normalise
from sealbook.simulation.patients import SmsPatient, TelegramPatient
from sealbook.simulation.roster import DAY, OPT_OUT_NAME, OVERRUN_NAME, PLANS, RACE_SLOT
from sealbook.simulation.scenario import DayRecord
from sealbook.simulation.world import World
from storage.audit import verify_audit
from storage.models import Base
from storage.models.bookings import BookingRow
from storage.models.clinic import PractitionerRow
from storage.models.contacts import Contact
from storage.models.inbound import InboundMessage
from storage.models.outbox import DeliveryAttempt, Notice

# Notice states that mean the relay is done with a notice.
FINISHED = frozenset({"sent", "skipped", "withdrawn", "undeliverable"})


@dataclass
class Check:
    """One invariant: its name, whether it held, and a detail that names ids only."""

    name: str
    passed: bool
    detail: str = ""


@dataclass
class Outcome:
    """The day's counts and the result of every check."""

    counts: dict[str, int] = field(default_factory=dict)
    sent_by_channel: Counter[str] = field(default_factory=Counter)
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def check(self, name: str, passed: bool, detail: str = "") -> None:
        self.checks.append(Check(name, passed, detail))


def evaluate(world: World, record: DayRecord, log_lines: list[str]) -> Outcome:
    """Count what the day did and check every invariant."""
    outcome = Outcome()
    with world.front.session_factory() as session:
        count_bookings(session, record, outcome)
        check_bookings(session, world, record, outcome)
        check_notices(session, world, record, outcome)
        check_channels(session, world, record, outcome)
        check_leaks(session, world, record, log_lines, outcome)
        audit = verify_audit(session)
        outcome.check("audit chain verifies", audit.first_bad_seq is None, audit.problem or "")
    return outcome


def count_bookings(session: Session, record: DayRecord, outcome: Outcome) -> None:
    """Count bookings made, moved and cancelled, and notices sent per channel."""
    outcome.counts["bookings made"] = session.scalar(select(func.count()).select_from(BookingRow)) or 0
    outcome.counts["bookings moved"] = (
        session.scalar(select(func.count()).select_from(BookingRow).where(BookingRow.moves > 0)) or 0
    )
    outcome.counts["bookings cancelled"] = (
        session.scalar(select(func.count()).select_from(BookingRow).where(BookingRow.status == "cancelled"))
        or 0
    )
    rows = session.execute(
        select(DeliveryAttempt.channel, func.count())
        .where(DeliveryAttempt.status == "sent")
        .group_by(DeliveryAttempt.channel)
    ).all()
    outcome.sent_by_channel.update({channel: count for channel, count in rows})
    outcome.counts["duplicates suppressed"] = sum(1 for text in record.duplicate_replies if not text)
    outcome.counts["forged requests rejected"] = sum(1 for status in record.forged_statuses if status == 403)


def check_bookings(session: Session, world: World, record: DayRecord, outcome: Outcome) -> None:
    """Check that every reference given to a patient exists in the state they left it, without overlaps."""
    rows = {row.reference: row for row in session.scalars(select(BookingRow))}
    missing = [name for name, reference in record.references.items() if reference not in rows]
    outcome.check("every reference given exists", not missing, f"missing for {', '.join(missing)}")

    wrong = []
    for name, reference in record.references.items():
        row = rows.get(reference)
        if row is None:
            continue
        expected_status = "cancelled" if name in record.cancelled else None
        if expected_status and row.status != expected_status:
            wrong.append(reference)
        if name in record.moved and row.moves != 1:
            wrong.append(reference)
    outcome.check("moves and cancellations took effect", not wrong, ", ".join(wrong))

    active = [row for row in rows.values() if row.status != "cancelled"]
    overlaps = []
    by_practitioner: dict[int, list[BookingRow]] = {}
    for row in active:
        by_practitioner.setdefault(row.practitioner_id, []).append(row)
    for bookings in by_practitioner.values():
        bookings.sort(key=lambda row: row.starts_at)
        for earlier, later in itertools.pairwise(bookings):
            if later.starts_at < earlier.occupied_until:
                overlaps.append(f"{earlier.reference}/{later.reference}")
    outcome.check("no practitioner is booked twice at once", not overlaps, ", ".join(overlaps))

    practitioner, day_offset, at = RACE_SLOT
    clinic = load_clinic(session)
    race_start = _local_instant(clinic.zone, day_offset, at)
    nair = session.scalar(select(PractitionerRow.id).where(PractitionerRow.slug == practitioner.lower()))
    holders = [row.reference for row in active if row.starts_at == race_start and row.practitioner_id == nair]
    outcome.check(
        "the race for one slot has one winner",
        bool(record.race_winner) and bool(record.race_loser) and len(holders) == 1,
        f"winner {record.race_winner or 'none'}, loser {record.race_loser or 'none'}, holders {holders}",
    )


def check_notices(session: Session, world: World, record: DayRecord, outcome: Outcome) -> None:
    """Check that the relay finished every notice due, and that late and staff notices were sent."""
    now = world.clock.now()
    unfinished = session.scalars(
        select(Notice).where(Notice.due_at <= now, Notice.status.not_in(FINISHED))
    ).all()
    outcome.check(
        "the relay delivered every notice due",
        not unfinished,
        ", ".join(f"notice {notice.id} {notice.status}" for notice in unfinished),
    )

    sent_kinds = Counter(
        kind for (kind,) in session.execute(select(Notice.kind).where(Notice.status == "sent")).all()
    )
    outcome.counts["running-late notices sent"] = sent_kinds["running_late"]
    outcome.counts["staff messages sent"] = sent_kinds["staff_message"]

    # Dr Lee's patients today, less the one in consult and the one who opted out of SMS.
    waiting = [plan.name for plan in PLANS if plan.practitioner == "Lee" and plan.day_offset == 0]
    reachable = len(set(waiting) - {OVERRUN_NAME, OPT_OUT_NAME})
    outcome.check(
        "running-late notices reached Dr Lee's waiting patients",
        sent_kinds["running_late"] >= reachable,
        f"{sent_kinds['running_late']} sent for {reachable} patients",
    )

    okafor_today = [plan for plan in PLANS if plan.practitioner == "Okafor" and plan.day_offset == 0]
    outcome.check(
        "the session message reached Dr Okafor's patients",
        sent_kinds["staff_message"] == len(okafor_today),
        f"{sent_kinds['staff_message']} of {len(okafor_today)} sent",
    )

    outcome.check(
        "STATUS after the declaration gives the new expected time",
        bool(record.status_after_late)
        and all("now expected at about" in text for text in record.status_after_late.values()),
        f"{len(record.status_after_late)} asked",
    )

    recorded = session.scalar(select(func.count()).select_from(InboundMessage)) or 0
    outcome.counts["inbound messages recorded"] = recorded


def check_channels(session: Session, world: World, record: DayRecord, outcome: Outcome) -> None:
    """Opt-out, redeliveries, forgeries and e-mail invites, seen from the stand-ins' side."""
    opted = record.patients[OPT_OUT_NAME]
    assert isinstance(opted, SmsPatient)
    contact_opted_out = session.scalar(
        select(func.count()).select_from(Contact).where(Contact.opted_out_at.is_not(None))
    )
    texts_after = [message for message in world.twilio.messages if message.to == opted.e164]
    still_booked = session.scalar(
        select(BookingRow.status).where(BookingRow.reference == record.references[OPT_OUT_NAME])
    )
    outcome.check(
        "a bare CANCEL opts out: no reply, no SMS after, booking kept",
        contact_opted_out == 1
        and not record.opted_out_at_reply
        and not texts_after
        and still_booked == "booked",
        f"opted-out contacts {contact_opted_out}, replies {len(record.opted_out_at_reply)}, "
        f"SMS after {len(texts_after)}, booking {still_booked}",
    )

    outcome.check(
        "a redelivered webhook is acted on once",
        record.duplicates_sent == 2 and outcome.counts["duplicates suppressed"] == 2,
        f"{outcome.counts['duplicates suppressed']} of {record.duplicates_sent} redeliveries suppressed",
    )
    outcome.check(
        "forged webhooks are rejected",
        record.forged_statuses == [403] * record.forged_sent,
        f"statuses {record.forged_statuses}",
    )

    invited = set()
    for envelope in world.smtp.handler.received:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        if b"text/calendar" in content:
            invited.update(envelope.rcpt_tos)
    missing = [name for name, address in record.emails.items() if address not in invited]
    outcome.check("patients with e-mail got calendar invites", not missing, f"none for {', '.join(missing)}")

    outcome.counts["e-mails received by the SMTP stand-in"] = len(world.smtp.handler.received)
    outcome.counts["SMS sent through the Twilio stand-in"] = len(world.twilio.messages)
    outcome.counts["Telegram messages sent through the Bot API stand-in"] = len(world.telegram.sent_texts())

    telegram_chats = {p.chat_id for p in record.patients.values() if isinstance(p, TelegramPatient)}
    outcome.check(
        "every Telegram patient heard from the bot",
        all(world.telegram.sent_texts(chat_id) for chat_id in telegram_chats),
    )


def check_leaks(
    session: Session, world: World, record: DayRecord, log_lines: list[str], outcome: Outcome
) -> None:
    """No canary identifier in the database, the logs or staff output; no pseudonym in logs or staff output."""
    canaries = record.canaries
    keyring = load_front_keyring(world.front_settings.keys_dir)
    pseudonyms: list[str] = []
    for patient in record.patients.values():
        if isinstance(patient, TelegramPatient):
            identifier = normalise("telegram", str(patient.chat_id), "AU")
        else:
            identifier = normalise("sms", patient.canaries[0], "AU")
        pseudonyms.extend(candidate.tag.hex() for candidate in candidate_pseudonyms(keyring, identifier))
    for address in record.emails.values():
        pseudonyms.extend(
            c.tag.hex() for c in candidate_pseudonyms(keyring, normalise("email", address, "AU"))
        )

    database_text = dump_database(session) + raw_database_bytes(world)
    found = [c for c in canaries if c.encode() in database_text]
    outcome.check("no canary in the database", not found, f"{len(found)} found")

    logs = "\n".join(log_lines)
    secrets_in_use = [
        world.secrets.telegram_secret,
        world.secrets.twilio_auth_token,
        world.secrets.twilio_api_secret,
    ]
    found = [c for c in canaries + pseudonyms + secrets_in_use if c in logs]
    outcome.check(
        "no canary, pseudonym or secret in the logs",
        not found,
        f"{len(found)} found in {len(log_lines)} lines",
    )

    staff = "\n".join(run.stdout + run.stderr for run in world.staff_runs)
    found = [c for c in canaries + pseudonyms if c in staff]
    outcome.check("no canary or pseudonym in staff output", not found, f"{len(found)} found")
    outcome.counts["canaries checked"] = len(canaries)


def dump_database(session: Session) -> bytes:
    """Return every value of every table as bytes, for the canary search."""
    parts: list[bytes] = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).all():
            parts.extend(_as_bytes(value) for value in row)
    return b"\n".join(parts)


def raw_database_bytes(world: World) -> bytes:
    """Return the SQLite file and its write-ahead log as stored, or nothing on PostgreSQL."""
    if world.database_url:
        return b""
    database = Path(world.home) / "sealbook.sqlite3"
    parts = [database.read_bytes()]
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        parts.append(wal.read_bytes())
    return b"\n".join(parts)


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "replace")


def _local_instant(zone: ZoneInfo, day_offset: int, at: time) -> datetime:
    local = datetime.combine(DAY + timedelta(days=day_offset), at, tzinfo=zone)
    return local.astimezone(UTC)
