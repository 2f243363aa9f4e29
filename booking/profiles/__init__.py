"""Domain profiles: vocabulary, default appointment types and default rules.

A profile is a TOML file in this folder named `NAME.toml`. Swapping the
profile changes the words patients and staff read (practitioner, tutor or
lawyer) and the default rules, with no code change. The `[templates]`
table is free for the dialogue engine: nested tables are flattened to
dotted keys, so `[templates.sms] confirm = "..."` becomes `"sms.confirm"`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import NoReturn

from booking._tables import Fail, TableReader
from booking.errors import ProfileError
from booking.rules import (
    CELL_MINUTES,
    WORKING_DAY_MINUTES,
    BookingRules,
    DialogueRules,
    ReminderRules,
    RunningLateRules,
    read_rule_section,
)

DEFAULT_PROFILE = "medical"


@dataclass(frozen=True)
class Vocabulary:
    """The words a profile uses for the three roles of a booking."""

    practitioner: str
    practitioners: str
    appointment: str
    appointments: str
    patient: str
    patients: str


@dataclass(frozen=True)
class DefaultAppointmentType:
    """An appointment type that a profile offers when a clinic file lists none."""

    id: str
    name: str
    duration_minutes: int


@dataclass(frozen=True)
class Profile:
    """One domain profile, read from `booking/profiles/NAME.toml`."""

    name: str
    title: str
    vocabulary: Vocabulary
    appointment_types: tuple[DefaultAppointmentType, ...]
    rules: BookingRules
    running_late: RunningLateRules
    reminders: ReminderRules
    dialogue: DialogueRules
    templates: MappingProxyType[str, str]


def profile_names() -> list[str]:
    """Return the names of the shipped profiles, sorted."""
    folder = resources.files(__name__)
    return sorted(
        entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml")
    )


def load_profile(name: str = DEFAULT_PROFILE) -> Profile:
    """Load a shipped profile by name, or raise `ProfileError`."""
    if name not in profile_names():
        raise ProfileError(f"unknown profile {name!r}; choose one of {', '.join(profile_names())}")
    text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return parse_profile(text, source=f"{name}.toml")


def parse_profile(text: str, *, source: str) -> Profile:
    """Parse and validate the text of a profile file."""

    def fail(path: str, message: str) -> NoReturn:
        raise ProfileError(f"profile {source}, {path}: {message}")

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {source} is not valid TOML: {exc}") from exc

    top = TableReader(data, "", fail)
    name = top.text("name")
    title = top.text("title")
    vocabulary = _read_vocabulary(_required_table(top, "vocabulary"))
    types = tuple(_read_type(entry) for entry in top.tables("appointment_types"))
    if not types:
        fail("appointment_types", "a profile needs at least one [[appointment_types]] entry")
    rules = read_rule_section(_required_table(top, "rules"), BookingRules, None)
    running_late = read_rule_section(_required_table(top, "running_late"), RunningLateRules, None)
    reminders = read_rule_section(_required_table(top, "reminders"), ReminderRules, None)
    dialogue = read_rule_section(_required_table(top, "dialogue"), DialogueRules, None)
    templates = _flatten_templates(top.raw("templates"), "templates", fail)
    top.finish()

    return Profile(
        name=name,
        title=title,
        vocabulary=vocabulary,
        appointment_types=types,
        rules=rules,
        running_late=running_late,
        reminders=reminders,
        dialogue=dialogue,
        templates=MappingProxyType(templates),
    )


def _required_table(top: TableReader, key: str) -> TableReader:
    table = top.table(key)
    if table is None:
        top.fail(key, f"missing table [{key}]; add it")
    return table


def _read_vocabulary(reader: TableReader) -> Vocabulary:
    vocabulary = Vocabulary(
        practitioner=reader.text("practitioner"),
        practitioners=reader.text("practitioners"),
        appointment=reader.text("appointment"),
        appointments=reader.text("appointments"),
        patient=reader.text("patient"),
        patients=reader.text("patients"),
    )
    reader.finish()
    return vocabulary


def _read_type(reader: TableReader) -> DefaultAppointmentType:
    appointment_type = DefaultAppointmentType(
        id=reader.text("id"),
        name=reader.text("name"),
        duration_minutes=reader.integer(
            "duration_minutes", minimum=CELL_MINUTES, maximum=WORKING_DAY_MINUTES, multiple=CELL_MINUTES
        ),
    )
    reader.finish()
    return appointment_type


def _flatten_templates(value: object, path: str, fail: Fail) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        fail(path, "[templates] must be a table of strings")
    flat: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            for inner_key, text in _flatten_templates(item, f"{path}.{key}", fail).items():
                flat[f"{key}.{inner_key}"] = text
        elif isinstance(item, str):
            flat[key] = item
        else:
            fail(f"{path}.{key}", "a template must be a string or a table of strings")
    return flat
