"""Rule sets that a domain profile defaults and a clinic file may override.

Each rule set is a frozen dataclass read from one TOML table of the same
name (`[rules]`, `[running_late]`, `[reminders]`, `[dialogue]`). A profile
must give every key; a clinic file gives only the keys it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import time, timedelta
from typing import Any, TypeVar

from booking._tables import TableReader

# Bookings claim time in 5-minute cells, so every length must be a multiple of 5.
CELL_MINUTES = 5

# Upper limits of the rules. Each is far beyond what a clinic needs, and low
# enough that every date and time computed from a rule stays in range and
# every slot search stays short.
WORKING_DAY_MINUTES = 12 * 60
"""Maximum appointment length, slot interval and running-late step: one long working day."""
MAX_BUFFER_MINUTES = 4 * 60
MAX_HORIZON_DAYS = 730
MAX_NOTICE_MINUTES = 30 * 24 * 60
MAX_CUTOFF_HOURS = 30 * 24
MAX_LATE_NOTICES = 20
MAX_REMINDER_DAYS = 30
MAX_DIALOGUE_EXPIRY_MINUTES = 7 * 24 * 60


def _limits(minimum: int = 0, maximum: int | None = None, multiple: int = 1) -> dict[str, int | None]:
    return {"minimum": minimum, "maximum": maximum, "multiple": multiple}


@dataclass(frozen=True)
class BookingRules:
    """When a booking may be made, moved or cancelled."""

    slot_interval_minutes: int = field(
        metadata=_limits(minimum=CELL_MINUTES, maximum=WORKING_DAY_MINUTES, multiple=CELL_MINUTES)
    )
    buffer_minutes: int = field(metadata=_limits(maximum=MAX_BUFFER_MINUTES, multiple=CELL_MINUTES))
    minimum_notice_minutes: int = field(metadata=_limits(maximum=MAX_NOTICE_MINUTES))
    horizon_days: int = field(metadata=_limits(minimum=1, maximum=MAX_HORIZON_DAYS))
    move_cutoff_hours: int = field(metadata=_limits(maximum=MAX_CUTOFF_HOURS))
    cancel_cutoff_hours: int = field(metadata=_limits(maximum=MAX_CUTOFF_HOURS))

    @property
    def slot_interval(self) -> timedelta:
        """Step between slot starts inside a working session."""
        return timedelta(minutes=self.slot_interval_minutes)

    @property
    def buffer(self) -> timedelta:
        """Free time kept after each booking before the next may start."""
        return timedelta(minutes=self.buffer_minutes)

    @property
    def minimum_notice(self) -> timedelta:
        """Shortest time between now and the start of a new booking."""
        return timedelta(minutes=self.minimum_notice_minutes)


@dataclass(frozen=True)
class RunningLateRules:
    """When patients hear that their practitioner is running late."""

    threshold_minutes: int = field(metadata=_limits(minimum=1, maximum=WORKING_DAY_MINUTES))
    step_minutes: int = field(metadata=_limits(minimum=1, maximum=WORKING_DAY_MINUTES))
    max_notices_per_booking: int = field(metadata=_limits(maximum=MAX_LATE_NOTICES))


@dataclass(frozen=True)
class ReminderRules:
    """When the reminder before a booking is sent, in the clinic's local time."""

    days_before: int = field(metadata=_limits(maximum=MAX_REMINDER_DAYS))
    local_time: time = field(metadata=_limits())
    quiet_start: time = field(metadata=_limits())
    quiet_end: time = field(metadata=_limits())

    def is_quiet(self, local: time) -> bool:
        """Return whether a local time of day falls inside quiet hours."""
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end


@dataclass(frozen=True)
class DialogueRules:
    """How long an unfinished conversation lives, per channel."""

    sms_expiry_minutes: int = field(metadata=_limits(minimum=1, maximum=MAX_DIALOGUE_EXPIRY_MINUTES))
    telegram_expiry_minutes: int = field(metadata=_limits(minimum=1, maximum=MAX_DIALOGUE_EXPIRY_MINUTES))

    def expiry_for(self, channel: str) -> timedelta:
        """Return the idle time after which a conversation on `channel` expires.

        The console channel counts as SMS; an unknown channel gets the
        Telegram expiry.
        """
        if channel == "sms":
            return timedelta(minutes=self.sms_expiry_minutes)
        return timedelta(minutes=self.telegram_expiry_minutes)


RuleSet = TypeVar("RuleSet", BookingRules, RunningLateRules, ReminderRules, DialogueRules)

RULE_SECTIONS: dict[str, type[Any]] = {
    "rules": BookingRules,
    "running_late": RunningLateRules,
    "reminders": ReminderRules,
    "dialogue": DialogueRules,
}


def read_rule_section(reader: TableReader, kind: type[RuleSet], defaults: RuleSet | None) -> RuleSet:
    """Read one rule table; with `defaults`, absent keys keep the default value.

    Unknown keys are rejected, so a misspelt override is reported, not ignored.
    """
    values: dict[str, Any] = {}
    for rule in fields(kind):
        if defaults is not None and rule.name not in reader:
            continue
        if rule.type in ("time", time):
            values[rule.name] = reader.clock(rule.name)
        else:
            values[rule.name] = reader.integer(
                rule.name,
                minimum=rule.metadata["minimum"],
                maximum=rule.metadata["maximum"],
                multiple=rule.metadata["multiple"],
            )
    reader.finish()

    if defaults is None:
        return kind(**values)
    return replace(defaults, **values)


def rule_overrides(rules: object, defaults: object) -> dict[str, object]:
    """Return the keys of `rules` that differ from `defaults`, as TOML-ready values."""
    changed: dict[str, object] = {}
    for rule in fields(rules):  # type: ignore[arg-type]
        value = getattr(rules, rule.name)
        if value != getattr(defaults, rule.name):
            changed[rule.name] = value.strftime("%H:%M") if isinstance(value, time) else value
    return changed
