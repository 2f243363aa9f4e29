"""The simulated clinic day, hour by hour: patients, staff and the relay act, and what happened is recorded."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from twilio.request_validator import RequestValidator

from sealbook.simulation import journeys
from sealbook.simulation.patients import (
    TWILIO_SIGNATURE_HEADER,
    ConsolePatient,
    Exchange,
    Patient,
    SmsPatient,
    TelegramPatient,
)
from sealbook.simulation.roster import (
    DAY,
    OPT_OUT_NAME,
    OVERRUN_NAME,
    PLANS,
    RACE_SLOT,
    Identity,
    day_phrase,
    make_identities,
    request_text,
    slot_label,
    time_phrase,
)
from sealbook.simulation.world import CLINIC_SMS_NUMBER, TELEGRAM_TOKEN, World

logger = logging.getLogger(__name__)

LATE_MINUTES = 45
SESSION_MESSAGE = "Dr Okafor is seeing patients in room 4 today. Your booking {ref} is at {time}."


@dataclass
class DayRecord:
    """Record of the simulated day, for the checks and the summary."""

    patients: dict[str, Patient] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)
    race_winner: str = ""
    race_loser: str = ""
    opted_out_at_reply: list[str] = field(default_factory=list)
    duplicates_sent: int = 0
    duplicate_replies: list[str] = field(default_factory=list)
    forged_sent: int = 0
    forged_statuses: list[int] = field(default_factory=list)
    status_after_late: dict[str, str] = field(default_factory=dict)
    staff_day_view: str = ""

    @property
    def canaries(self) -> list[str]:
        values = [canary for patient in self.patients.values() for canary in patient.canaries]
        return values + list(self.emails.values())


def make_patient(world: World, plan_name: str, channel: str, identity: Identity) -> Patient:
    """Return a patient of `channel` with the given identifiers."""
    if channel == "telegram":
        return TelegramPatient(
            plan_name, identity.chat_id, world.client, world.secrets.telegram_secret, world.telegram
        )
    if channel == "sms":
        return SmsPatient(
            plan_name,
            identity.phone,
            world.client,
            world.secrets.twilio_auth_token,
            world.signed_sms_url,
            CLINIC_SMS_NUMBER,
        )
    return ConsolePatient(plan_name, identity.phone, world.front_settings, world.clock)


def run_day(world: World) -> DayRecord:
    """Run the whole day and return its record; a step that goes wrong raises with the step named."""
    record = DayRecord()
    identities = make_identities(PLANS, extra=2)
    for plan, identity in zip(PLANS, identities, strict=False):
        record.patients[plan.name] = make_patient(world, plan.name, plan.channel, identity)
        if plan.email:
            record.emails[plan.name] = identity.email

    morning_bookings(world, record)
    race_for_one_slot(world, record, identities[-2:])
    redeliveries_and_forgeries(world, record)
    opt_out(world, record)
    world.advance_to(7, 45)
    world.run_relay()

    practitioner_overruns(world, record)
    world.advance_to(9, 20)
    world.staff("late", "lee", str(LATE_MINUTES), "--yes")
    world.staff("message", "--practitioner", "okafor", "--yes", SESSION_MESSAGE)
    world.run_relay()
    world.advance_to(9, 30)
    # Dr Lee's 9:15 patient sends STATUS at the booking's scheduled end (9:30)
    # and still receives its new expected time (10:00). The others send it
    # before their scheduled end.
    for plan in (PLANS[3], PLANS[5], PLANS[6], PLANS[8]):
        record.status_after_late[plan.name] = journeys.ask_status(record.patients[plan.name])

    # Reception's view just after the declaration. The simulation records no
    # later visits, so a later view would show every remaining booking as
    # later and later.
    record.staff_day_view = world.staff("day").stdout
    # The long consult ends at 9:50.
    world.advance_to(9, 50)
    world.staff("finish", record.references[OVERRUN_NAME], "--yes")
    world.advance_to(10, 30)
    world.run_relay()
    world.advance_to(13, 0)
    moves_and_cancellations(world, record)
    world.run_relay()

    world.advance_to(17, 30)
    world.staff("day", "--date", "tomorrow", "--all")
    world.staff("outbox")
    world.staff("audit", "verify")
    world.run_relay()
    return record


def morning_bookings(world: World, record: DayRecord) -> None:
    """07:00 to 07:30: every patient books; some first give an e-mail address for calendar invites."""
    world.advance_to(7, 0)
    for plan in PLANS:
        patient = record.patients[plan.name]
        if plan.email:
            journeys.give_email(patient, record.emails[plan.name])
        expected = slot_label(DAY + timedelta(days=plan.day_offset), plan.at)
        request = request_text(plan.practitioner, plan.day_offset, plan.at)
        record.references[plan.name] = journeys.book(patient, request, expected)
        world.clock.advance(timedelta(seconds=40))


def race_for_one_slot(world: World, record: DayRecord, identities: list[Identity]) -> None:
    """Two patients are offered the same slot and say yes at the same moment; exactly one gets it."""
    practitioner, day_offset, at = RACE_SLOT
    racers = [
        make_patient(world, "R01", "telegram", identities[0]),
        make_patient(world, "R02", "sms", identities[1]),
    ]
    expected = slot_label(DAY + timedelta(days=day_offset), at)
    request = request_text(practitioner, day_offset, at)
    offers = [journeys.ask_for_slot(racer, request, expected) for racer in racers]

    answers: dict[str, Exchange] = {}
    gate = threading.Barrier(len(offers))

    def say_yes(offer: journeys.Offered) -> None:
        gate.wait()
        answers[offer.patient.name] = journeys.confirm(offer)

    threads = [threading.Thread(target=say_yes, args=(offer,)) for offer in offers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for racer in racers:
        record.patients[racer.name] = racer
        answer = answers[racer.name]
        if "reference is" in answer.text:
            record.race_winner = racer.name
            record.references[racer.name] = answer.reference()
        else:
            record.race_loser = racer.name
    if record.race_loser:
        # The loser was offered other times with the apology, and takes the first of them.
        loser = record.patients[record.race_loser]
        read_back = loser.choose(answers[record.race_loser].first_option())
        confirmed = loser.choose(read_back.option("Yes", "Book it"))
        record.references[record.race_loser] = confirmed.reference()


def redeliveries_and_forgeries(world: World, record: DayRecord) -> None:
    """Deliver one SMS and one Telegram update twice, and send forged requests that must be rejected."""
    sms = next(p for p in record.patients.values() if isinstance(p, SmsPatient))
    telegram = next(p for p in record.patients.values() if isinstance(p, TelegramPatient))

    sms.send("status")
    assert sms.last_params is not None
    again = sms.post(dict(sms.last_params))
    record.duplicates_sent += 1
    record.duplicate_replies.append(again.text)

    telegram.send("my appointments")
    assert telegram.last_update is not None
    repeat = telegram.post(dict(telegram.last_update))
    record.duplicates_sent += 1
    record.duplicate_replies.append(repeat.text)

    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "From": "+61491570199",
        "To": CLINIC_SMS_NUMBER,
        "Body": "hi",
    }
    front = world.client
    forged = [
        front.post("/sms", data=params, headers={TWILIO_SIGNATURE_HEADER: "bm90IGEgc2lnbmF0dXJl"}),
        front.post("/sms", data=params),
        front.post(
            "/sms",
            data=params,
            headers={TWILIO_SIGNATURE_HEADER: sms_signature_for(str(front.base_url) + "/sms", params, world)},
        ),
        front.post(
            "/telegram",
            json={"update_id": 1, "message": {}},
            headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
        ),
        front.post("/telegram", json={"update_id": 2, "message": {}}),
        front.post(
            "/telegram",
            json={"update_id": 3, "message": {}},
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_TOKEN},
        ),
    ]
    record.forged_sent = len(forged)
    record.forged_statuses = [response.status_code for response in forged]


def sms_signature_for(url: str, params: dict[str, str], world: World) -> str:
    """Sign `params` for `url` with the real auth token: what a proxy-unaware check would accept."""
    return str(RequestValidator(world.secrets.twilio_auth_token).compute_signature(url, params))


def opt_out(world: World, record: DayRecord) -> None:
    """Send a bare CANCEL, the carriers' opt-out word, from an SMS patient who has a booking today."""
    world.clock.advance(timedelta(minutes=1))
    patient = record.patients[OPT_OUT_NAME]
    record.opted_out_at_reply = [reply.text for reply in patient.send("CANCEL").replies]


def practitioner_overruns(world: World, record: DayRecord) -> None:
    """Dr Lee's 8:30 patient checks in and the consult starts, then runs on past its 15 minutes."""
    reference = record.references[OVERRUN_NAME]
    world.advance_to(8, 25)
    world.staff("checkin", reference, "--yes")
    world.advance_to(8, 32)
    world.staff("start", reference, "--yes")
    world.advance_to(9, 0)


def moves_and_cancellations(world: World, record: DayRecord) -> None:
    """13:00: patients move bookings of the coming days and cancel others."""
    for plan in PLANS:
        patient = record.patients[plan.name]
        reference = record.references[plan.name]
        if plan.move_to is not None:
            day_offset, at = plan.move_to
            when = f"{day_phrase(day_offset)} at {time_phrase(at)}"
            expected = slot_label(DAY + timedelta(days=day_offset), at)
            record.moved[plan.name] = journeys.move(patient, reference, when, expected)
        elif plan.cancel:
            journeys.cancel(patient, reference)
            record.cancelled.add(plan.name)
        world.clock.advance(timedelta(seconds=30))
