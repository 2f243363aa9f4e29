"""Parse and validate `clinic.toml`, the file that describes one clinic.

The layout, with every table but `[clinic]` and `[[practitioners]]` optional:

    [clinic]                 name, phone, time_zone, profile
    [rules]                  overrides of the profile's booking rules
    [running_late]           overrides of the profile's running-late rules
    [reminders]              overrides of the profile's reminder timing
    [dialogue]               overrides of the profile's dialogue expiry
    [[practitioners]]        id, name, and [practitioners.hours] with
                             monday = ["08:30-12:30", "13:30-17:00"] ...
    [[appointment_types]]    id, name, duration_minutes, practitioners
    [[overrides]]            practitioner, date or next_week, kind, sessions, reason

`booking/demo_clinic.toml` shows every feature. A missing field, an unknown
key or an impossible time raises `ClinicFileError` naming the line and the
field, such as `clinic.toml line 14, practitioners#2.hours.monday: ...`
(`#2` is the second `[[practitioners]]` entry). Every number has an upper
limit (see `booking.rules`) and every string the size of its database
column, so a file that parses also imports.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking._tables import TableReader, parse_clock
from booking.clinic import (
    DEFAULT_TIME_ZONE,
    WEEKDAYS,
    AppointmentType,
    Clinic,
    DateOverride,
    OverrideKind,
    Practitioner,
    Session,
)
from booking.errors import ClinicFileError, ProfileError
from booking.profiles import DEFAULT_PROFILE, load_profile
from booking.rules import (
    CELL_MINUTES,
    WORKING_DAY_MINUTES,
    BookingRules,
    DialogueRules,
    ReminderRules,
    RuleSet,
    RunningLateRules,
    read_rule_section,
)
from storage.models.clinic import NAME_LENGTH, PHONE_LENGTH, TIME_ZONE_LENGTH

DEMO_CLINIC = Path(__file__).with_name("demo_clinic.toml")
"""The shipped demo clinic: three practitioners, four appointment types, a leave day."""

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_SESSION = re.compile(r"^\s*(\S+)\s*[-\u2013]\s*(\S+)\s*$")
# A leading +, digits, spaces and dashes, and at most one pair of brackets.
_PHONE = re.compile(r"^\+?[0-9 -]*(\([0-9 -]+\)[0-9 -]*)?$")
_PHONE_DIGITS = range(6, 16)


def load_clinic_file(path: Path, *, now: datetime, shown_as: str | None = None) -> Clinic:
    """Read and parse a UTF-8 clinic file; `now` resolves dates written relative to today.

    Errors name the file by its path, or as `shown_as` when given: a caller
    that must not repeat what was typed passes a safe name, or an empty one
    for "the clinic file". A UTF-8 byte-order mark at the start, as some
    Windows editors write, is accepted.
    """
    if shown_as is None:
        label, source = f"clinic file {path}", path.name
    elif shown_as:
        label, source = f"clinic file {shown_as}", shown_as
    else:
        label = source = "the clinic file"
    try:
        data = path.read_bytes()
    except OSError as exc:
        # strerror has no file name in it, unlike str(exc).
        reason = exc.strerror or type(exc).__name__
        raise ClinicFileError(f"cannot read {label}: {reason}; check the path") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ClinicFileError(
            f"{label} is not UTF-8 text (byte {exc.start + 1} is invalid); save it as UTF-8 and import it again"
        ) from None
    return parse_clinic_file(text, now=now, source=source)


def parse_clinic_file(text: str, *, now: datetime, source: str = "clinic.toml") -> Clinic:
    """Parse the text of a clinic file into a `Clinic`, or raise `ClinicFileError`.

    `now` (aware) fixes "today" in the clinic's zone for overrides written
    as `next_week = "wednesday"`.
    """
    text = text.removeprefix("\ufeff")
    lines = _SourceMap(text)

    def fail(path: str, message: str) -> NoReturn:
        line = lines.line_of(path)
        where = f"{source} line {line}" if line is not None else source
        raise ClinicFileError(f"{where}, {path}: {message}")

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClinicFileError(f"{source} is not valid TOML: {exc}") from exc
    except RecursionError:
        raise ClinicFileError(
            f"{source} nests arrays or tables too deeply to read; flatten it, because a clinic "
            "file nests only a few levels deep, as booking/demo_clinic.toml shows"
        ) from None
    top = TableReader(data, "", fail)

    header = top.table("clinic")
    if header is None:
        fail("clinic", "missing table [clinic] with name and phone; add it")
    name = header.text("name", max_length=NAME_LENGTH)
    phone = _read_phone(header)
    time_zone = _read_zone(header)
    profile_name = header.text("profile", DEFAULT_PROFILE)
    try:
        profile = load_profile(profile_name)
    except ProfileError as exc:
        fail("clinic.profile", str(exc))
    header.finish()

    rules = _override(top, "rules", BookingRules, profile.rules)
    running_late = _override(top, "running_late", RunningLateRules, profile.running_late)
    reminders = _override(top, "reminders", ReminderRules, profile.reminders)
    dialogue = _override(top, "dialogue", DialogueRules, profile.dialogue)

    practitioners = _read_practitioners(top)
    known = [practitioner.id for practitioner in practitioners]
    types = _read_types(top, known)
    from_profile = not types
    if from_profile:
        types = tuple(
            AppointmentType(t.id, t.name, t.duration_minutes, tuple(known)) for t in profile.appointment_types
        )
    today = now.astimezone(ZoneInfo(time_zone)).date()
    overrides = tuple(_read_override(entry, known, today) for entry in top.tables("overrides"))
    _check_types_fit(top, types, from_profile, _longest_sessions(practitioners, overrides))
    if rules.minimum_notice_minutes >= rules.horizon_days * 24 * 60:
        fail(
            "rules.minimum_notice_minutes",
            f"a minimum notice of {rules.minimum_notice_minutes} minutes leaves nothing bookable "
            f"within the {rules.horizon_days}-day horizon; shorten the notice or lengthen the horizon",
        )
    top.finish()

    return Clinic(
        name=name,
        phone=phone,
        time_zone=time_zone,
        profile=profile,
        rules=rules,
        running_late=running_late,
        reminders=reminders,
        dialogue=dialogue,
        practitioners=practitioners,
        appointment_types=types,
        overrides=overrides,
    )


def _read_phone(header: TableReader) -> str:
    """Read the clinic's public phone number, checked loosely: 6 to 15 digits and a few separators."""
    phone = header.text("phone", max_length=PHONE_LENGTH)
    digits = sum(character in "0123456789" for character in phone)
    if _PHONE.match(phone) is None or digits not in _PHONE_DIGITS:
        header.fail(
            "clinic.phone",
            f"field 'phone' must be a phone number of {_PHONE_DIGITS.start} to {_PHONE_DIGITS.stop - 1} "
            "digits with only spaces, dashes, a leading + and one pair of brackets, "
            "such as 02 9000 0000 or +61 (0)2 9000 0000",
        )
    return phone


def _read_zone(header: TableReader) -> str:
    time_zone = header.text("time_zone", DEFAULT_TIME_ZONE, max_length=TIME_ZONE_LENGTH)
    try:
        ZoneInfo(time_zone)
    # A name that is a folder of the tz database, such as "Australia", raises
    # IsADirectoryError, and an overlong one raises other OSErrors.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        header.fail(
            "clinic.time_zone",
            f"unknown time zone {time_zone!r}; use an IANA name such as Australia/Sydney",
        )
    return time_zone


def _override(top: TableReader, key: str, kind: type[RuleSet], defaults: RuleSet) -> RuleSet:
    table = top.table(key)
    if table is None:
        return defaults
    return read_rule_section(table, kind, defaults)


def _read_practitioners(top: TableReader) -> tuple[Practitioner, ...]:
    entries = top.tables("practitioners")
    if not entries:
        top.fail("practitioners", "missing [[practitioners]]; add at least one")
    practitioners: list[Practitioner] = []
    for entry in entries:
        practitioner_id = _read_slug(entry, "id")
        if any(p.id == practitioner_id for p in practitioners):
            entry.fail(entry.key_path("id"), f"practitioner id {practitioner_id!r} is used twice")
        display_name = entry.text("name", max_length=NAME_LENGTH)
        hours = entry.table("hours")
        if hours is None:
            entry.fail(entry.key_path("hours"), "missing table [practitioners.hours]; add it")
        weekly = tuple(_read_day(hours, weekday) for weekday in WEEKDAYS)
        hours.finish()
        entry.finish()
        practitioners.append(Practitioner(practitioner_id, display_name, weekly))
    return tuple(practitioners)


def _read_day(hours: TableReader, weekday: str) -> tuple[Session, ...]:
    texts = hours.strings(weekday)
    if texts is None:
        return ()
    return _read_sessions(hours, weekday, texts)


def _read_sessions(table: TableReader, key: str, texts: list[str]) -> tuple[Session, ...]:
    """Parse `HH:MM-HH:MM` strings into sorted, non-overlapping sessions."""
    sessions = sorted(_read_session(table, key, text) for text in texts)
    for earlier, later in itertools.pairwise(sessions):
        if later.start < earlier.end:
            table.fail(
                table.key_path(key),
                f"sessions {earlier} and {later} overlap; leave a gap or join them",
            )
    return tuple(sessions)


def _read_session(table: TableReader, key: str, text: str) -> Session:
    hint = 'write it as "HH:MM-HH:MM", such as "08:30-12:30"'
    match = _SESSION.match(text)
    start = parse_clock(match.group(1)) if match else None
    end = parse_clock(match.group(2)) if match else None
    if start is None or end is None:
        table.fail(table.key_path(key), f"session {text!r} is not a valid time range; {hint}")
    if end <= start:
        table.fail(
            table.key_path(key),
            f"session {text!r} ends before it starts; {hint}, within one day",
        )
    if start.minute % CELL_MINUTES or end.minute % CELL_MINUTES:
        table.fail(
            table.key_path(key),
            f"session {text!r} must start and end on a multiple of {CELL_MINUTES} minutes",
        )
    return Session(start, end)


def _read_types(top: TableReader, known: list[str]) -> tuple[AppointmentType, ...]:
    types: list[AppointmentType] = []
    for entry in top.tables("appointment_types"):
        type_id = _read_slug(entry, "id")
        if any(t.id == type_id for t in types):
            entry.fail(entry.key_path("id"), f"appointment type id {type_id!r} is used twice")
        name = entry.text("name", max_length=NAME_LENGTH)
        duration = entry.integer(
            "duration_minutes", minimum=CELL_MINUTES, maximum=WORKING_DAY_MINUTES, multiple=CELL_MINUTES
        )
        offered_by = entry.strings("practitioners")
        if offered_by is None:
            offered_by = list(known)
        for practitioner_id in offered_by:
            if practitioner_id not in known:
                entry.fail(
                    entry.key_path("practitioners"),
                    f"unknown practitioner {practitioner_id!r}; use an id from [[practitioners]]",
                )
        if not offered_by:
            entry.fail(entry.key_path("practitioners"), "list at least one practitioner")
        entry.finish()
        types.append(AppointmentType(type_id, name, duration, tuple(offered_by)))
    return tuple(types)


def _read_override(entry: TableReader, known: list[str], today: date) -> DateOverride:
    practitioner_id: str | None = None
    if "practitioner" in entry:
        practitioner_id = entry.text("practitioner")
        if practitioner_id not in known:
            entry.fail(
                entry.key_path("practitioner"),
                f"unknown practitioner {practitioner_id!r}; use an id from [[practitioners]]",
            )
    day = _read_override_day(entry, today)

    kind_text = entry.text("kind")
    try:
        kind = OverrideKind(kind_text)
    except ValueError:
        choices = ", ".join(kind.value for kind in OverrideKind)
        entry.fail(entry.key_path("kind"), f"unknown kind {kind_text!r}; use one of {choices}")
    texts = entry.strings("sessions")
    if kind is OverrideKind.CLOSED and texts:
        entry.fail(entry.key_path("sessions"), 'a "closed" override takes no sessions')
    if kind is not OverrideKind.CLOSED and not texts:
        entry.fail(entry.key_path("sessions"), f'a "{kind}" override needs sessions; add them')
    sessions = _read_sessions(entry, "sessions", texts or [])
    reason = entry.text("reason", kind.value, max_length=NAME_LENGTH)
    entry.finish()
    return DateOverride(day, kind, sessions, practitioner_id, reason)


def _read_override_day(entry: TableReader, today: date) -> date:
    """Read `date`, or `next_week`, a weekday of the calendar week after today's.

    The demo clinic uses `next_week` so that its leave day is always ahead
    whenever the file is imported. Weeks start on Monday.
    """
    if ("date" in entry) == ("next_week" in entry):
        entry.fail(entry.path, 'give exactly one of "date" or "next_week"')
    if "next_week" in entry:
        weekday = entry.text("next_week").lower()
        if weekday not in WEEKDAYS:
            entry.fail(
                entry.key_path("next_week"),
                f"{weekday!r} is not a weekday; use one of {', '.join(WEEKDAYS)}",
            )
        next_monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return next_monday + timedelta(days=WEEKDAYS.index(weekday))

    value = entry.raw("date")
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    entry.fail(entry.key_path("date"), "field 'date' must be a real date written YYYY-MM-DD")


def _longest_sessions(
    practitioners: tuple[Practitioner, ...], overrides: tuple[DateOverride, ...]
) -> dict[str, int]:
    """Return each practitioner's longest working session in minutes, weekly or by override."""
    longest = {
        practitioner.id: max((_length(s) for day in practitioner.weekly_sessions for s in day), default=0)
        for practitioner in practitioners
    }
    for override in overrides:
        reached = list(longest) if override.practitioner_id is None else [override.practitioner_id]
        for working in override.sessions:
            for practitioner_id in reached:
                longest[practitioner_id] = max(longest[practitioner_id], _length(working))
    return longest


def _length(working: Session) -> int:
    return (working.end.hour - working.start.hour) * 60 + working.end.minute - working.start.minute


def _check_types_fit(
    top: TableReader, types: tuple[AppointmentType, ...], from_profile: bool, longest: dict[str, int]
) -> None:
    """Reject an appointment type longer than every working session of the practitioners offering it."""
    for index, appointment_type in enumerate(types, start=1):
        room = max(longest[practitioner_id] for practitioner_id in appointment_type.practitioner_ids)
        if appointment_type.duration_minutes <= room:
            continue
        message = (
            f"a {appointment_type.duration_minutes}-minute {appointment_type.id!r} appointment fits no "
            f"working session of its practitioners, whose longest is {room} minutes; "
        )
        if from_profile:
            top.fail("clinic.profile", message + "list shorter [[appointment_types]] or lengthen a session")
        top.fail(f"appointment_types#{index}.duration_minutes", message + "shorten it or lengthen a session")


def _read_slug(entry: TableReader, key: str) -> str:
    slug = entry.text(key)
    if _SLUG.match(slug) is None:
        entry.fail(
            entry.key_path(key),
            f"{slug!r} is not a valid id; use lower-case letters, digits and dashes",
        )
    return slug


class _SourceMap:
    """Line numbers of the tables and keys of a TOML text, by dotted path.

    Only `[table]` and `[[array]]` headers and bare `key =` lines are
    tracked, because clinic files are written that way. Any other path
    falls back to the line of its nearest enclosing table.
    """

    _ARRAY = re.compile(r"^\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
    _TABLE = re.compile(r"^\[\s*([A-Za-z0-9_.-]+)\s*\]")
    _KEY = re.compile(r"^([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str) -> None:
        self._lines: dict[str, int] = {}
        counts: dict[str, int] = {}
        current = ""
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if match := self._ARRAY.match(stripped):
                parent, _, last = match.group(1).rpartition(".")
                name = f"{self._resolve(parent, counts)}.{last}" if parent else last
                counts[name] = counts.get(name, 0) + 1
                current = f"{name}#{counts[name]}"
            elif match := self._TABLE.match(stripped):
                current = self._resolve(match.group(1), counts)
            elif match := self._KEY.match(stripped):
                key_path = f"{current}.{match.group(1)}" if current else match.group(1)
                self._lines.setdefault(key_path, number)
                continue
            else:
                continue
            self._lines.setdefault(current, number)

    @staticmethod
    def _resolve(dotted: str, counts: dict[str, int]) -> str:
        path = ""
        for part in dotted.split("."):
            path = f"{path}.{part}" if path else part
            if path in counts:
                path = f"{path}#{counts[path]}"
        return path

    def line_of(self, path: str) -> int | None:
        """Return the line of `path`, or of its nearest enclosing table."""
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path.rpartition(".")[0]
        return None
