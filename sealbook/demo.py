"""The guided demo behind ``sealbook demo``: one patient's whole journey, then a free chat.

The demo patient books with Dr Lee in the console channel and gets a
reference, asks for status, is told through the console relay that Dr Lee
is running 45 minutes late, moves the booking and cancels it. Reception's
view of the same booking comes last, by reference only. The demo keeps its
own clock, so the doctor is at work whatever the time of day: it starts at
``SEALBOOK_NOW`` (or now) and jumps to the morning of the appointment's day.
Afterwards the patient's lines are read from standard input, from a pipe
too, until its end or a quit word.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from datetime import date, datetime, time, timedelta
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from booking.clinic import Clinic
from booking.service import find_slots
from booking.store import load_clinic
from bot.console import run_console_chat
from crypto import load_relay_keyring
from relay.cli import worker_config
from relay.settings import RelayWorkerSettings
from relay.transports import build_transport
from relay.worker import RelayWorker
from sealbook.clock import Clock, FixedClock, OffsetClock
from sealbook.errors import SealbookError
from sealbook.settings import FrontSettings, load_settings
from sealbook.simulation.staff import run_staff_command
from storage import db

DOCTOR = "lee"
LATE_MINUTES = 45
_OPTION = re.compile(r"^\s+([0-9A-Z]{1,2})\) (.+)$")
_REFERENCE = re.compile(r"reference is ([0-9A-Z]{4}-[0-9A-Z]{4})")


class DemoStepFailed(SealbookError):
    """The bot did not reply to the demo as expected; the message names the step."""


class DemoPatient:
    """The demo patient in the console channel, whose messages are printed with the bot's replies."""

    def __init__(self, settings: FrontSettings, phone: str, output: TextIO, clock: Clock) -> None:
        self._settings = settings
        self._phone = phone
        self._output = output
        self._clock = clock

    def say(self, text: str) -> str:
        """Send `text`, print the exchange and return it as printed."""
        buffer = io.StringIO()
        run_console_chat(self._settings, self._phone, io.StringIO(), buffer, script=[text], clock=self._clock)
        self._output.write(buffer.getvalue())
        self._output.flush()
        return buffer.getvalue()

    def pick(self, answer: str, label_start: str = "") -> str:
        """Type the key of the first option in `answer` whose label starts with `label_start`."""
        for line in answer.splitlines():
            match = _OPTION.match(line)
            if match and match.group(2).startswith(label_start):
                return self.say(match.group(1))
        raise DemoStepFailed(
            f"the bot offered no choice starting {label_start!r}; see the conversation above"
        )


def run_demo(settings: FrontSettings, phone: str, lines: TextIO, output: TextIO, start: datetime) -> None:
    """Play the guided journey from `start`, then chat with the lines read from `lines`.

    The home's database must contain the demo clinic, as `initialise_home(demo_clinic=True)` leaves it.
    """
    clock = FixedClock(start)
    engine = db.make_engine(settings.effective_database_url)
    try:
        factory = db.make_session_factory(engine)
        with factory() as session:
            clinic = load_clinic(session)
        patient = DemoPatient(settings, phone, output, clock)
        reference = _journey(settings, factory, clinic, patient, output, clock)
    finally:
        engine.dispose()

    _heading(output, "Your turn", f"Chat as the same patient; {reference} was the journey's booking.")
    output.write("Type 'quit' or press Ctrl-D to end.\n")
    run_console_chat(settings, phone, lines, output, clock=OffsetClock(clock.now()))


def _journey(
    settings: FrontSettings,
    factory: sessionmaker[Session],
    clinic: Clinic,
    patient: DemoPatient,
    output: TextIO,
    clock: FixedClock,
) -> str:
    local_now = clock.now().astimezone(clinic.zone)
    booked_day, booked_at = _first_slot_after(factory, clinic, clock, local_now.date(), time(13, 30))

    _heading(output, "1. Book", "The patient asks in their own words and picks a time.")
    patient.say("menu")
    offered = patient.say(
        f"Standard consultation with Dr Lee on {_day_text(booked_day)} at {_time_text(booked_at)}"
    )
    confirm = patient.pick(offered)
    answer = patient.pick(confirm, "Yes")
    found = _REFERENCE.search(answer)
    if found is None:
        raise DemoStepFailed("the booking did not give a reference; see the conversation above")
    reference = found.group(1)

    _heading(output, "2. Status", "STATUS works at any time.")
    patient.say("status")

    morning = datetime.combine(booked_day, time(9, 0), tzinfo=clinic.zone)
    clock.set(morning)
    _heading(
        output,
        "3. Running late",
        f"{morning:%a %d %b}, 09:00. Reception: sealbook-admin late {DOCTOR} {LATE_MINUTES}",
    )
    run_staff_command(
        settings.home, settings.database_url, clock.now(), ["late", DOCTOR, str(LATE_MINUTES), "--yes"]
    )
    # The staff tool's clock runs on in real time from the demo's instant, so
    # the notice it queued is due a moment later.
    clock.advance(timedelta(minutes=1))
    output.write("The relay delivers what is due (console transport):\n")
    _run_console_relay(settings, factory, clock, output)
    patient.say("status")

    move_day, move_at = _first_slot_after(factory, clinic, clock, booked_day, time(10, 0))
    _heading(output, "4. Move", "Same reference, new time.")
    listed = patient.say("my appointments")
    actions = patient.pick(listed, reference)
    patient.pick(actions, "Move")
    offered = patient.say(f"{_day_text(move_day)} at {_time_text(move_at)}")
    confirm = patient.pick(offered)
    patient.pick(confirm, "Yes")

    _heading(output, "5. Cancel", "Nothing irreversible happens without a read-back and a yes.")
    listed = patient.say("my appointments")
    actions = patient.pick(listed, reference)
    confirm = patient.pick(actions, "Cancel")
    patient.pick(confirm, "Yes")

    _heading(
        output,
        "6. Reception's view",
        f"sealbook-admin show {reference}, then day --date {move_day.isoformat()} --all: "
        "bookings by reference only.",
    )
    shown = run_staff_command(settings.home, settings.database_url, clock.now(), ["show", reference])
    output.write(shown.stdout)
    listing = run_staff_command(
        settings.home, settings.database_url, clock.now(), ["day", "--date", move_day.isoformat(), "--all"]
    )
    output.write(listing.stdout)
    return reference


def _first_slot_after(
    factory: sessionmaker[Session], clinic: Clinic, clock: Clock, after: date, earliest: time
) -> tuple[date, time]:
    """Return the first free slot of the demo doctor on a day after `after`, at `earliest` or later."""
    with factory() as session:
        slots = find_slots(
            session,
            clinic,
            appointment_type_id="standard",
            practitioner_id=DOCTOR,
            now=clock.now(),
            from_date=after + timedelta(days=1),
            limit=200,
        )
    for slot in slots:
        local = slot.starts_at.astimezone(clinic.zone)
        if local.date() > after and local.time() >= earliest:
            return local.date(), local.time()
    raise DemoStepFailed(f"Dr Lee has no free time after {after.isoformat()}; import the demo clinic again")


def _run_console_relay(
    settings: FrontSettings, factory: sessionmaker[Session], clock: FixedClock, output: TextIO
) -> None:
    relay_settings = dataclasses.replace(
        load_settings(RelayWorkerSettings, settings.home), transport="console"
    )

    async def advance(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)

    worker = RelayWorker(
        factory,
        load_relay_keyring(settings.keys_dir),
        build_transport(relay_settings, clock, output),
        worker_config(relay_settings),
        clock,
        sleep=advance,
    )
    asyncio.run(worker.run(once=True))


def _heading(output: TextIO, title: str, note: str) -> None:
    output.write(f"\n== {title}: {note}\n")
    output.flush()


def _day_text(day: date) -> str:
    return f"{day.day}/{day.month}"


def _time_text(at: time) -> str:
    hour = at.hour % 12 or 12
    minutes = f":{at.minute:02d}" if at.minute else ""
    return f"{hour}{minutes}{'am' if at.hour < 12 else 'pm'}"
