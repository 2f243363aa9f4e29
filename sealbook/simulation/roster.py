"""The simulated day's 40 patients, and the appointment each one asks for.

The day is Monday 8 March 2027 at the demo clinic in Sydney (UTC+11 then).
Dr Lee and Dr Okafor work today, and every doctor works tomorrow, so the
running-late notice, the session message, the race for one slot and the
moves all have bookings to act on.

Phone numbers come from the 0491 570 range that Australia's communications
regulator sets aside for fiction, chat ids and e-mail addresses are made up,
and all of them are canaries: none may appear in the database, the logs or
staff output.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

DAY = date(2027, 3, 8)
START_LOCAL = time(7, 0)

# Type of appointment every patient asks for.
APPOINTMENT = "Standard consultation"


@dataclass(frozen=True)
class Plan:
    """What one patient asks for in the morning, and what they do later in the day."""

    name: str
    channel: str  # telegram, sms or console
    practitioner: str  # the surname as a patient types it
    day_offset: int  # 0 today, 1 tomorrow, 2 the day after
    at: time
    email: bool = False
    move_to: tuple[int, time] | None = None  # (day offset, time) on the same practitioner's book
    cancel: bool = False


def _plans() -> list[Plan]:
    plans: list[Plan] = []

    def add(channel: str, practitioner: str, day_offset: int, at: str, **extra: object) -> None:
        number = sum(1 for plan in plans if plan.channel == channel) + 1
        hours, minutes = (int(part) for part in at.split(":"))
        name = f"{channel[0].upper()}{number:02d}"
        plans.append(Plan(name, channel, practitioner, day_offset, time(hours, minutes), **extra))  # type: ignore[arg-type]

    # Today, Dr Lee: the 8:30 patient's consult overruns and staff declare 45 minutes late.
    for channel, at in [
        ("console", "8:30"),
        ("telegram", "8:45"),
        ("sms", "9:00"),
        ("telegram", "9:15"),
        ("sms", "9:30"),
        ("console", "9:45"),
        ("telegram", "10:00"),
        ("sms", "10:15"),
        ("telegram", "10:30"),
        ("sms", "10:45"),
    ]:
        add(channel, "Lee", 0, at)
    # Today, Dr Okafor: staff send his session a message.
    for channel, at in [
        ("telegram", "9:00"),
        ("sms", "9:15"),
        ("console", "9:30"),
        ("telegram", "9:45"),
        ("sms", "10:00"),
        ("console", "10:15"),
    ]:
        add(channel, "Okafor", 0, at)
    # Tomorrow and the day after: confirmations by e-mail, moves and cancellations.
    add("telegram", "Nair", 1, "8:00", email=True, move_to=(2, time(11, 0)))
    add("sms", "Nair", 1, "8:15", email=True, move_to=(2, time(11, 15)))
    add("console", "Nair", 1, "8:30", email=True, move_to=(2, time(11, 30)))
    add("telegram", "Nair", 1, "8:45", email=True, cancel=True)
    add("sms", "Nair", 1, "9:00", email=True, cancel=True)
    add("console", "Lee", 1, "9:00", email=True, move_to=(3, time(9, 30)))
    add("telegram", "Lee", 1, "9:15", email=True, move_to=(3, time(9, 0)))
    add("sms", "Lee", 1, "9:30", email=True, move_to=(3, time(9, 15)))
    add("telegram", "Lee", 1, "9:45", cancel=True)
    add("sms", "Okafor", 1, "9:00", cancel=True)
    add("console", "Okafor", 1, "9:15", cancel=True)
    add("telegram", "Okafor", 1, "9:30", cancel=True)
    add("telegram", "Okafor", 1, "10:00")
    add("sms", "Okafor", 1, "10:15")
    add("console", "Okafor", 1, "10:30")
    add("telegram", "Lee", 1, "10:00")
    add("sms", "Lee", 1, "10:15")
    add("sms", "Nair", 2, "8:30")
    add("sms", "Nair", 2, "8:45")
    add("console", "Nair", 2, "9:00")
    add("console", "Nair", 2, "9:15")
    add("telegram", "Nair", 2, "9:30")
    return plans


PLANS: list[Plan] = _plans()

# Two more patients, one on each chat channel, ask for the same slot at the same moment.
RACE_SLOT = ("Nair", 1, time(10, 0))

# The SMS patient who texts a bare CANCEL: Dr Lee's 10:15 today.
OPT_OUT_NAME = next(plan.name for plan in PLANS if plan.practitioner == "Lee" and plan.at == time(10, 15))
# The patient whose consult overruns.
OVERRUN_NAME = PLANS[0].name


def slot_label(day: date, at: time) -> str:
    """Return a slot as the bot labels it, such as ``Mon 8 Mar 10am`` or ``Tue 9 Mar 10:15am``."""
    hour = at.hour % 12 or 12
    minutes = f":{at.minute:02d}" if at.minute else ""
    suffix = "am" if at.hour < 12 else "pm"
    return f"{day:%a} {day.day} {day:%b} {hour}{minutes}{suffix}"


def day_phrase(day_offset: int) -> str:
    """Return how a patient names the day: today, tomorrow or the weekday."""
    if day_offset == 0:
        return "today"
    if day_offset == 1:
        return "tomorrow"
    return f"{DAY + timedelta(days=day_offset):%A}"


def time_phrase(at: time) -> str:
    """Return a time as a patient types it, such as ``10am`` or ``10:15am``."""
    return slot_label(DAY, at).split(" ", 3)[3]


def request_text(practitioner: str, day_offset: int, at: time) -> str:
    """Return the free-text request for a standard consultation with a doctor at a day and time."""
    return f"{APPOINTMENT} with Dr {practitioner} {day_phrase(day_offset)} at {time_phrase(at)}"


def start_instant(zone_offset_hours: int = 11) -> datetime:
    """Return the start of the simulated day, 07:00 in Sydney, as an aware instant."""
    local = datetime.combine(DAY, START_LOCAL)
    return (local - timedelta(hours=zone_offset_hours)).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Identity:
    """A patient's made-up identifiers: a mobile number or a chat id, and an e-mail address."""

    phone: str
    chat_id: int
    email: str


def make_identities(plans: list[Plan], extra: int) -> list[Identity]:
    """Return distinct made-up identifiers for each plan and for `extra` more patients."""
    identities = []
    for index in range(len(plans) + extra):
        phone = f"0491 570 {100 + index:03d}"
        chat_id = 8_100_200_300 + index * 7_919
        email = f"sim-{index:02d}-{secrets.token_hex(3)}@example.org"
        identities.append(Identity(phone, chat_id, email))
    return identities
