"""Read the date, time and part of day a patient asks for, in the clinic's time zone.

Dates and times are read relative to the clinic's local "now", with days
written before months ("5/6" is 5 June), preferring the future, and with any
phrase that stays ambiguous turned into a clarifying question instead of a
guess. `_when_text` finds the mentions; this module resolves them, handing
relative phrases ("next friday", "in 2 weeks") to dateparser.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
import time as time_module
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import dateparser

from flows._when_days import easter_sunday, misspelt_date_word
from flows._when_text import WEEKDAYS, DateMention, Mentions, PartOfDay, TimeBound, TimeMention, find_mentions
from flows.formats import (
    MONTH_ABBREVIATIONS,
    WEEKDAY_NAMES,
    format_clock,
    format_day,
    format_day_month,
    format_ordinal,
)

__all__ = [
    "DEFAULT_OPENING_HOURS",
    "PART_OF_DAY_HOURS",
    "PartOfDay",
    "Question",
    "WhenReading",
    "read_when",
    "warm_up",
]

logger = logging.getLogger(__name__)

DEFAULT_OPENING_HOURS = (dt.time(8, 0), dt.time(18, 0))
"""Opening and closing time used to read a bare hour when the caller gives none."""

PART_OF_DAY_HOURS: Mapping[PartOfDay, tuple[dt.time, dt.time | None]] = {
    PartOfDay.MORNING: (dt.time(0, 0), dt.time(12, 0)),
    PartOfDay.AFTERNOON: (dt.time(12, 0), dt.time(17, 0)),
    PartOfDay.EVENING: (dt.time(17, 0), None),
}
"""Start (inclusive) and end (exclusive, None for midnight) of each part of the day."""

_BARE_NUMBER = re.compile(r"\s*#?\s*(?P<number>[0-9]{1,3})\s*[.)]?\s*", re.ASCII)

NEXT_YEAR_WINDOW = dt.timedelta(days=183)
"""How far ahead a day and month without a year may roll into next year.

"5/1" written in December means next January; "5/6" written on 16 June
means a date that has passed, not one 11 months away.
"""


@dataclass(frozen=True)
class Question:
    """A clarifying question: the template key and the values to fill in."""

    key: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WhenReading:
    """The date, time and part of day read from one message; None where not given."""

    date: dt.date | None = None
    time: dt.time | None = None
    part_of_day: PartOfDay | None = None
    time_bound: TimeBound = "at"
    """Whether `time` is the time asked for, the earliest or the latest."""
    menu_choice: int | None = None
    """The option number, when the whole message was a number while a menu was open."""
    question: Question | None = None
    """Set instead of the fields above when the message needs clarifying."""
    remainder: str = ""
    """The cleaned text with every date and time mention removed."""

    @property
    def given(self) -> bool:
        """Whether the message named a date, a time or a part of the day."""
        return self.date is not None or self.time is not None or self.part_of_day is not None

    def local_start(self, zone: ZoneInfo) -> dt.datetime | None:
        """Return the aware local start when both a date and a time were given.

        A wall time that a daylight-saving change skips (02:30 on the day
        clocks go forward) is moved forward by the gap, as a round trip through
        UTC does.
        """
        if self.date is None or self.time is None:
            return None
        naive = dt.datetime.combine(self.date, self.time)
        return naive.replace(tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def _dateparser_settings(base: dt.datetime) -> dict[str, Any]:
    # A naive base in the clinic's wall time: an aware base, or the TIMEZONE
    # setting, makes dateparser 1.5 skip "3pm" to the next day or drop it.
    return {
        "RELATIVE_BASE": base,
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }


def _parse_relative(phrase: str, local_now: dt.datetime) -> dt.date | None:
    base = local_now.replace(tzinfo=None)
    parsed = dateparser.parse(phrase, languages=["en"], settings=_dateparser_settings(base))
    return None if parsed is None else parsed.date()


def warm_up() -> float:
    """Parse one phrase so that dateparser loads its English data; return the seconds taken.

    The first parse after import loads dateparser's English data. In local
    runs of dateparser 1.5.0 that took a few hundred milliseconds and later
    parses about a millisecond, so a server calls this once at start-up.
    """
    started = time_module.perf_counter()
    _parse_relative("next friday", dt.datetime(2000, 1, 5, 10, 0))
    elapsed = time_module.perf_counter() - started
    logger.info("dateparser warmed up in %.3f s", elapsed)
    return elapsed


def _valid_date(year: int, month: int, day: int) -> dt.date | None:
    if not dt.MINYEAR <= year <= dt.MAXYEAR or not 1 <= month <= 12:
        return None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return dt.date(year, month, day)


def _resolve_calendar(mention: DateMention, today: dt.date) -> dt.date | Question:
    assert mention.day is not None
    assert mention.month is not None
    day, month = mention.day, mention.month
    if 12 < month <= 31 and 1 <= day <= 12:
        # Written month first, as in "6/13"; ask rather than swap it silently.
        return Question("when_day_month_order", {"date": format_day_month(month, day)})
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return Question("when_unclear")
    if mention.year is not None:
        found = _valid_date(mention.year, month, day)
        written = {"date": format_day_month(day, month, mention.year)}
        if found is None:
            return Question("when_no_such_date", written)
        if found < today:
            return Question("when_date_past", written)
        return found
    return _upcoming(day, month, today)


def _upcoming(day: int, month: int, today: dt.date) -> dt.date | Question:
    """Return the next `day`/`month` from today, or the question when there is none soon."""
    this_year = _valid_date(today.year, month, day)
    if this_year is not None and this_year >= today:
        return this_year
    next_year = _valid_date(today.year + 1, month, day)
    if next_year is not None and next_year - today <= NEXT_YEAR_WINDOW:
        return next_year
    if this_year is None:
        return Question("when_no_such_date", {"date": format_day_month(day, month, today.year)})
    return Question("when_date_past", {"date": format_day_month(day, month)})


def _resolve_day_of_month(day: int, today: dt.date) -> dt.date | Question:
    """Return the next `day` of a month: this month's unless it has passed, else next month's.

    A day that month does not have ("the 31st" in June) is asked about,
    never moved to a later month.
    """
    if not 1 <= day <= 31:
        return Question("when_unclear")
    year, month = today.year, today.month
    if day < today.day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    found = _valid_date(year, month, day)
    if found is None:
        return Question("when_no_such_date", {"date": format_day_month(day, month, year)})
    return found


def _resolve_easter(offset: int, today: dt.date) -> dt.date | Question:
    this_year = easter_sunday(today.year) + dt.timedelta(days=offset)
    if this_year >= today:
        return this_year
    next_year = easter_sunday(today.year + 1) + dt.timedelta(days=offset)
    if next_year - today <= NEXT_YEAR_WINDOW:
        return next_year
    return Question("when_date_past", {"date": format_day(this_year)})


def _resolve_weekday(mention: DateMention, local_now: dt.datetime) -> dt.date | Question:
    assert mention.weekday is not None
    today = local_now.date()
    if mention.in_next_week:
        next_monday = today + dt.timedelta(days=7 - today.weekday())
        return next_monday + dt.timedelta(days=mention.weekday)
    if mention.phrase == WEEKDAYS[mention.weekday] and mention.weekday == today.weekday():
        # Today's weekday: "friday week" said on a Friday is a week today, a bare
        # "friday" next week (`read_when` takes today when the time is still ahead).
        return today + dt.timedelta(weeks=mention.weeks_later or 1)
    found = _parse_relative(mention.phrase, local_now)
    if found is None:
        return Question("when_unclear")
    return found + dt.timedelta(weeks=mention.weeks_later)


def _resolve_date(mention: DateMention, local_now: dt.datetime) -> dt.date | Question:
    today = local_now.date()
    if mention.kind == "calendar":
        return _resolve_calendar(mention, today)
    if mention.kind == "day_of_month":
        assert mention.day is not None
        return _resolve_day_of_month(mention.day, today)
    if mention.kind == "month":
        assert mention.month is not None
        if mention.month == today.month:
            return today
        year = today.year if mention.month > today.month else today.year + 1
        return dt.date(year, mention.month, 1)
    if mention.kind == "week":
        if mention.weeks_later == 0:
            return today
        return today + dt.timedelta(days=7 - today.weekday())
    if mention.kind == "month_start":
        return dt.date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    if mention.kind == "weekday":
        return _resolve_weekday(mention, local_now)
    if mention.kind == "easter":
        assert mention.day is not None
        return _resolve_easter(mention.day, today)
    found = _parse_relative(mention.phrase, local_now)
    if found is None:
        return Question("when_unclear")
    return found


def _combine_dates(mentions: tuple[DateMention, ...], local_now: dt.datetime) -> dt.date | Question | None:
    """Resolve every date mention and check they name one day."""
    resolved: list[tuple[DateMention, dt.date]] = []
    for mention in mentions:
        found = _resolve_date(mention, local_now)
        if isinstance(found, Question):
            return found
        resolved.append((mention, found))
    if not resolved:
        return None

    fixed = [(m, d) for m, d in resolved if m.kind in ("calendar", "day_of_month")]
    weekdays = [m for m, _ in resolved if m.kind == "weekday"]
    if fixed and weekdays:
        day = fixed[0][1]
        for mention in weekdays:
            if mention.weekday != day.weekday():
                assert mention.weekday is not None
                return Question(
                    "when_weekday_mismatch",
                    {"date": format_day(day), "weekday": WEEKDAY_NAMES[mention.weekday]},
                )
        resolved = fixed

    days = {d for _, d in resolved}
    if len(days) > 1:
        return Question("when_one_day")
    day = days.pop()
    if day < local_now.date():
        return Question("when_date_past", {"date": format_day(day)})
    return day


def _reads_within(clock: dt.time, opening_hours: tuple[dt.time, dt.time]) -> bool:
    return opening_hours[0] <= clock < opening_hours[1]


def _resolve_time(
    mention: TimeMention, part: PartOfDay | None, opening_hours: tuple[dt.time, dt.time]
) -> dt.time | Question:
    """Turn a written clock time into a 24-hour time, reading a bare hour within opening hours."""
    hour, minute = mention.hour, mention.minute
    if minute > 59 or hour > 23:
        return Question("when_unclear")
    if mention.exact or hour > 12:
        return dt.time(hour, minute)
    if hour == 0:
        return Question("when_unclear")
    morning = dt.time(hour % 12, minute)
    afternoon = dt.time(hour % 12 + 12, minute)
    if mention.meridiem is not None:
        return morning if mention.meridiem == "am" else afternoon
    if part is PartOfDay.MORNING:
        return morning
    if part in (PartOfDay.AFTERNOON, PartOfDay.EVENING):
        return afternoon
    if hour == 12:
        # "at 12" is noon: midnight is never a consultation time.
        return afternoon
    readings = [c for c in (morning, afternoon) if _reads_within(c, opening_hours)]
    if len(readings) == 1:
        return readings[0]
    readings_text = {"morning": format_clock(morning), "afternoon": format_clock(afternoon)}
    return Question("when_am_or_pm", readings_text)


def _read_bare_number(
    number: int, menu_size: int | None, opening_hours: tuple[dt.time, dt.time], today: dt.date
) -> WhenReading:
    """Read a message that is only a number: a menu option, never silently a date."""
    if menu_size is not None:
        if 1 <= number <= menu_size:
            return WhenReading(menu_choice=number)
        if menu_size == 1:
            return WhenReading(question=Question("when_menu_one"))
        return WhenReading(question=Question("when_menu_range", {"count": str(menu_size)}))
    if not 1 <= number <= 31:
        return WhenReading(question=Question("when_unclear"))
    ordinal = format_ordinal(number)
    found = _resolve_day_of_month(number, today)
    # The month of the next such day, to show the patient how to write it.
    month = MONTH_ABBREVIATIONS[found.month - 1] if isinstance(found, dt.date) else ""
    if number > 23:
        return WhenReading(question=Question("when_bare_day", {"ordinal": ordinal, "month": month}))
    as_hour = _resolve_time(TimeMention(number, 0, None, "at", False), None, opening_hours)
    clock = f"{number} o'clock" if isinstance(as_hour, Question) else format_clock(as_hour)
    params = {"ordinal": ordinal, "clock": clock, "month": month}
    return WhenReading(question=Question("when_bare_number", params))


def _check_not_past(
    day: dt.date, clock: dt.time | None, part: PartOfDay | None, local_now: dt.datetime
) -> Question | None:
    if day != local_now.date():
        return None
    if clock is not None:
        start = dt.datetime.combine(day, clock, tzinfo=local_now.tzinfo)
        if start <= local_now:
            return Question("when_time_past", {"time": format_clock(clock)})
        return None
    if part is not None:
        end = PART_OF_DAY_HOURS[part][1]
        if end is not None and local_now.time() >= end:
            return Question("when_part_past", {"part": part.value})
    return None


def _today_while_ahead(mentions: Mentions, clock: dt.time, local_now: dt.datetime) -> bool:
    """Return whether the only date named is today's weekday, bare, with a time still ahead today."""
    if len(mentions.dates) != 1:
        return False
    mention = mentions.dates[0]
    return (
        mention.kind == "weekday"
        and mention.weekday == local_now.weekday()
        and mention.phrase == WEEKDAYS[local_now.weekday()]
        and mention.weeks_later == 0
        and not mention.in_next_week
        and dt.datetime.combine(local_now.date(), clock, tzinfo=local_now.tzinfo) > local_now
    )


def read_when(
    text: str,
    *,
    now: dt.datetime,
    zone: ZoneInfo,
    opening_hours: tuple[dt.time, dt.time] = DEFAULT_OPENING_HOURS,
    menu_size: int | None = None,
) -> WhenReading:
    """Read when a patient wants to come from `text`, relative to the aware instant `now`.

    `menu_size` is the number of options on the menu the patient is replying
    to, if any: a message that is only a number then picks an option.
    Raises ValueError when `now` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("read_when needs an aware `now`; pass the clock's UTC instant")
    local_now = now.astimezone(zone)

    bare = _BARE_NUMBER.fullmatch(text[:64])
    if bare is not None:
        return _read_bare_number(int(bare["number"]), menu_size, opening_hours, local_now.date())

    mentions = find_mentions(text)
    parts = set(mentions.parts)
    # "morning or afternoon" names no single part, so it does not narrow the search.
    part = parts.pop() if len(parts) == 1 else None

    day = _combine_dates(mentions.dates, local_now)
    if isinstance(day, Question):
        return WhenReading(question=day, remainder=mentions.remainder)

    clock: dt.time | None = None
    bound: TimeBound = "at"
    distinct_times = set(mentions.times)
    if len({(t.hour, t.minute, t.meridiem) for t in distinct_times}) > 1:
        return WhenReading(question=Question("when_one_time"), remainder=mentions.remainder)
    if distinct_times:
        mention = mentions.times[0]
        if mention.could_be_date and not mentions.dates:
            return WhenReading(question=Question("when_unclear"), remainder=mentions.remainder)
        resolved = _resolve_time(mention, part, opening_hours)
        if isinstance(resolved, Question):
            return WhenReading(question=resolved, remainder=mentions.remainder)
        clock, bound = resolved, mention.bound

    if misspelt_date_word(mentions.remainder):
        return WhenReading(question=Question("when_unclear"), remainder=mentions.remainder)
    if day is not None and clock is not None and _today_while_ahead(mentions, clock, local_now):
        day = local_now.date()
    if day is not None:
        past = _check_not_past(day, clock, part, local_now)
        if past is not None:
            return WhenReading(question=past, remainder=mentions.remainder)
    return WhenReading(date=day, time=clock, part_of_day=part, time_bound=bound, remainder=mentions.remainder)
