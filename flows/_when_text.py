"""Find the date, clock-time and part-of-day mentions in a patient's message.

This is the normaliser that runs before dateparser. It cleans the text, rewrites
the shorthand patients use ("tmrw", "arvo", "thurs"), and lifts out each
mention with a regular expression, so that dateparser only ever receives a short
relative phrase such as "next friday" or "in 2 weeks". Everything it does not
recognise is left in the remainder for the dialogue to read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal, TypeVar

MAX_TEXT_LENGTH = 500
"""Characters of a message that are read for dates; a date sits near the start."""

T = TypeVar("T")
TimeBound = Literal["at", "after", "before"]
Meridiem = Literal["am", "pm"]


class PartOfDay(StrEnum):
    """A part of the day a patient can ask for instead of a clock time."""

    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
HOUR_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
COUNT_WORDS = {"a": 1, "an": 1, **HOUR_WORDS}

# Shorthand that dateparser 1.5.0 reads as nothing, rewritten to words it reads.
# Applied in order: later rules see the output of earlier ones.
_SHORTHAND: tuple[tuple[str, str], ...] = (
    (
        r"tom|tomo|tmrw|tmrow|tmw|tmr|tmro|tmoz|tomoz|tomoro|tomorow|tomorro|tommorow|tommorrow"
        r"|tomorrw|tommorw|2moro|2morrow|2morow|2mrw|2moz",
        "tomorrow",
    ),
    (r"2day|tdy", "today"),
    (r"tonight|tonite|2nite", "today evening"),
    (r"arvo|avo|aftn|afternon|arvos", "afternoon"),
    (r"this\s+(morning|afternoon|evening)", r"today \1"),
    (r"midday|mid\s+day|lunchtime|lunch\s+time", "noon"),
    (r"mornings|morn|mornin", "morning"),
    (r"afternoons", "afternoon"),
    (r"evenings|evening", "evening"),
    (r"mon|mondays", "monday"),
    (r"tues|tue|tuesdays", "tuesday"),
    (r"weds|wed|wednesdays", "wednesday"),
    (r"thurs|thur|thu|thursdays", "thursday"),
    (r"fri|fridays", "friday"),
    (r"sat|saturdays", "saturday"),
    (r"sun|sundays", "sunday"),
    (r"in\s+(?:a\s+|one\s+)?fortnight", "in 2 weeks"),
    (r"fortnights", "fortnight"),
    (r"wk|wks", "week"),
)
_SHORTHAND_RULES = tuple(
    (re.compile(rf"\b(?:{pattern})\b"), replacement) for pattern, replacement in _SHORTHAND
)

_WEEKDAY = "(?P<weekday>" + "|".join(WEEKDAYS) + ")"
_MONTH = "(?P<monthname>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
_HOUR = "(?P<hour>[0-9]{1,2}|" + "|".join(HOUR_WORDS) + ")"
_HOUR12 = "(?P<hour>0?[1-9]|1[0-2]|" + "|".join(HOUR_WORDS) + ")"
_BOUND = r"(?:(?P<bound>at|around|about|after|from|before|by|until|till|til)\s+)?"
_MERIDIEM = r"(?:\s*(?P<meridiem>am|pm)\b)?"
# A number followed by one of these is a day of the month, not an hour.
_NOT_A_DAY = (
    r"(?!\s*(?:st|nd|rd|th)\b)(?![/.:-][0-9])"
    r"(?!\s+(?:of\s+)?(?:" + "|".join(MONTHS) + r")\b)"
)
BARRIER = " | "
"""Separator that replaces a consumed mention, so no later pattern matches across it."""


@dataclass(frozen=True)
class TimeMention:
    """A clock time as written: `exact` means no am/pm reading is needed."""

    hour: int
    minute: int
    meridiem: Meridiem | None
    bound: TimeBound
    exact: bool
    could_be_date: bool = False
    """Written like "1.10" or "5.06": the 1st of October or 5 June just as well."""


@dataclass(frozen=True)
class DateMention:
    """A date as written, before it is resolved against the clinic's today."""

    kind: Literal["calendar", "day_of_month", "month", "relative", "weekday", "week", "month_start", "easter"]
    day: int | None = None
    month: int | None = None
    year: int | None = None
    phrase: str = ""
    """The phrase handed to dateparser, for `relative` and `weekday` mentions."""
    weekday: int | None = None
    weeks_later: int = 0
    in_next_week: bool = False


@dataclass(frozen=True)
class Mentions:
    """Everything found in one message, plus what was left over."""

    times: tuple[TimeMention, ...]
    parts: tuple[PartOfDay, ...]
    dates: tuple[DateMention, ...]
    remainder: str


def clean_text(text: str) -> str:
    """Lower-case `text`, fold Unicode look-alikes and keep only what dates are made of."""
    text = unicodedata.normalize("NFKC", text[: MAX_TEXT_LENGTH * 2])[:MAX_TEXT_LENGTH].lower()
    # An ISO 8601 date and time ("2027-04-06T14:00:00+10:00") becomes a date and a clock time.
    text = re.sub(
        r"\b([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})t([0-9]{1,2}:[0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?"
        r"(?:z|[+-][0-9]{2}(?::?[0-9]{2})?)?(?![0-9])",
        r"\1 \2",
        text,
    )
    text = re.sub(r"\b([ap])\.\s*m\b\.?", r"\1m", text)
    text = re.sub(r"\bo\s*['\u2019]?\s*clock\b", " oclock", text)
    text = re.sub(r"[^a-z0-9:./\- ]", " ", text)
    text = re.sub(r"(?<![0-9])[:./-]|[:./-](?![0-9])", " ", text)
    for pattern, replacement in _SHORTHAND_RULES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def _hour(token: str) -> int:
    return HOUR_WORDS.get(token) or int(token)


def _bound(match: re.Match[str]) -> TimeBound:
    word = match.groupdict().get("bound")
    if word in ("after", "from"):
        return "after"
    if word in ("before", "by", "until", "till", "til"):
        return "before"
    return "at"


def _meridiem(match: re.Match[str]) -> Meridiem | None:
    value = match.groupdict().get("meridiem")
    if value == "am":
        return "am"
    if value == "pm":
        return "pm"
    return None


def _clock(match: re.Match[str], minute: int, *, exact: bool = False) -> TimeMention:
    return TimeMention(_hour(match["hour"]), minute, _meridiem(match), _bound(match), exact)


def _digits_clock(match: re.Match[str]) -> TimeMention:
    hour_text = match["hour"]
    # "14:30" and "09:30" are 24-hour times; "2.30" and "9:30" need an am/pm reading.
    exact = int(hour_text) > 12 or int(hour_text) == 0 or hour_text.startswith("0")
    plain = _meridiem(match) is None and match.groupdict().get("bound") is None
    # "1.10" and "5.06" are dates as much as times; "2.30" and "9:45" are not.
    could_be_date = plain and match["sep"] == "." and 1 <= int(match["minute"]) <= 12 and not exact
    clock = _clock(match, int(match["minute"]), exact=exact and _meridiem(match) is None)
    return replace(clock, could_be_date=could_be_date)


def _range(match: re.Match[str]) -> TimeMention:
    """Read "2-4pm" or "tues 9-11" as from the first hour, with the meridiem the second implies."""
    first, second = _hour(match["hour"]), _hour(match["hour2"])
    meridiem = _meridiem(match)
    if meridiem is not None and first % 12 > second % 12:
        # "11-1pm" starts in the morning.
        meridiem = "am" if meridiem == "pm" else "pm"
    return TimeMention(first, 0, meridiem, "after", False)


def _quarter_to(match: re.Match[str]) -> TimeMention:
    hour = _hour(match["hour"]) - 1
    return TimeMention(hour if hour > 0 else 12, 45, _meridiem(match), _bound(match), False)


def _named(match: re.Match[str]) -> TimeMention:
    hour = 12 if match["named"] == "noon" else 0
    return TimeMention(hour, 0, None, _bound(match), True)


def _in_the(match: re.Match[str]) -> TimeMention:
    meridiem: Meridiem = "am" if match["part"] == "morning" else "pm"
    return TimeMention(_hour(match["hour"]), 0, meridiem, _bound(match), False)


_RANGE_TO = r"\s*(?:-|to|or|till|until)\s*"
_HOUR12_SECOND = "(?P<hour2>0?[1-9]|1[0-2]|" + "|".join(HOUR_WORDS) + ")"

TimeRule = tuple[re.Pattern[str], Callable[[re.Match[str]], TimeMention]]
_TIME_RULES: tuple[TimeRule, ...] = (
    (
        re.compile(r"(?<![0-9/.:-])\b" + _HOUR12 + _RANGE_TO + _HOUR12_SECOND + r"\s*(?P<meridiem>am|pm)\b"),
        _range,
    ),
    (
        re.compile(
            r"\b(?:today|tomorrow|" + "|".join(WEEKDAYS) + r")\s+(?:from\s+|between\s+)?"
            r"(?P<take>"
            + _HOUR12
            + r"\s*(?:-|to|till|until|and)\s*"
            + _HOUR12_SECOND
            + r")\b(?![/.:-]?[0-9])"
        ),
        _range,
    ),
    (re.compile(_BOUND + r"\bhalf\s+past\s+" + _HOUR + r"\b" + _MERIDIEM), lambda m: _clock(m, 30)),
    (
        re.compile(_BOUND + r"\b(?:a\s+)?quarter\s+past\s+" + _HOUR + r"\b" + _MERIDIEM),
        lambda m: _clock(m, 15),
    ),
    (re.compile(_BOUND + r"\b(?:a\s+)?quarter\s+to\s+" + _HOUR + r"\b" + _MERIDIEM), _quarter_to),
    (
        re.compile(
            _BOUND + r"(?<![0-9/.:-])(?P<hour>[0-9]{1,2})(?P<sep>[:.])(?P<minute>[0-5][0-9])"
            r"(?![/.:-]?[0-9])" + _MERIDIEM
        ),
        _digits_clock,
    ),
    (
        re.compile(_BOUND + r"\b(?P<hour>[0-9]{1,2})(?P<minute>[0-5][0-9])\s*(?P<meridiem>am|pm)\b"),
        lambda m: _clock(m, int(m["minute"])),
    ),
    (re.compile(_BOUND + r"\b" + _HOUR + r"\s*(?P<meridiem>am|pm)\b"), lambda m: _clock(m, 0)),
    (re.compile(_BOUND + r"\b" + _HOUR + r"\s*oclock\b" + _MERIDIEM), lambda m: _clock(m, 0)),
    (re.compile(_BOUND + r"\b(?P<named>noon|midnight)\b"), _named),
    (re.compile(_BOUND + r"\b" + _HOUR12 + r"\s+in\s+the\s+(?P<part>morning|afternoon|evening)\b"), _in_the),
    (
        re.compile(
            r"\b(?P<bound>at|around|about|after|from|before|by|until|till|til)\s+"
            r"(?P<hour>[01][0-9]|2[0-3])(?P<minute>[0-5][0-9])\b"
        ),
        lambda m: _clock(m, int(m["minute"]), exact=True),
    ),
    # "0930", "1630": a 24-hour time. From 1900 on a four-digit number may be a year.
    (
        re.compile(r"(?<![0-9/.:-])\b(?P<hour>0[0-9]|1[0-8])(?P<minute>[0-5][0-9])\b(?![/.:-]?[0-9])"),
        lambda m: _clock(m, int(m["minute"]), exact=True),
    ),
    (
        re.compile(
            r"\b(?P<bound>at|around|about|after|from|before|by|until|till|til)\s+"
            + _HOUR
            + r"\b"
            + _NOT_A_DAY
        ),
        lambda m: _clock(m, 0),
    ),
    (
        re.compile(
            r"\b(?:today|tomorrow|" + "|".join(WEEKDAYS) + r")\s+(?P<take>" + _HOUR12 + r")\b" + _NOT_A_DAY
        ),
        lambda m: _clock(m, 0),
    ),
    (re.compile(r"\b(?P<take>" + _HOUR12 + r")\s+(?=today\b|tomorrow\b)"), lambda m: _clock(m, 0)),
)

_PART_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], PartOfDay]], ...] = (
    (
        re.compile(
            r"\b(?:(?:in\s+the|during\s+the|any|early|late|mid)\s+)?"
            r"(?P<part>morning|afternoon|evening|night)\b"
        ),
        lambda m: PartOfDay.EVENING if m["part"] == "night" else PartOfDay(m["part"]),
    ),
    (
        re.compile(r"\b(?:today|tomorrow|" + "|".join(WEEKDAYS) + r")\s+(?P<take>am|pm)\b"),
        lambda m: PartOfDay.MORNING if m["take"] == "am" else PartOfDay.AFTERNOON,
    ),
)


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + 2000 if len(text) == 2 else int(text)


def _calendar(match: re.Match[str]) -> list[DateMention]:
    groups = match.groupdict()
    month = MONTHS[groups["monthname"]] if groups.get("monthname") else int(groups["month"])
    day, year = int(groups["day"]), _year(groups["year"])
    return [DateMention("calendar", day=day, month=month, year=year)]


def _weekday_and_day(match: re.Match[str]) -> list[DateMention]:
    return [
        DateMention("weekday", phrase=match["weekday"], weekday=WEEKDAYS.index(match["weekday"])),
        DateMention("day_of_month", day=int(match["day"])),
    ]


def _weekday(match: re.Match[str]) -> list[DateMention]:
    name = match["weekday"]
    modifier = " ".join((match.groupdict().get("modifier") or "").split())
    suffix = " ".join((match.groupdict().get("suffix") or "").split())
    index = WEEKDAYS.index(name)
    if suffix == "next week" or match.groupdict().get("lead"):
        return [DateMention("weekday", phrase=name, weekday=index, in_next_week=True)]
    # "this coming friday" and "on friday" mean the same as a bare "friday".
    phrase = f"{modifier} {name}" if modifier in ("this", "next", "last") else name
    weeks_later = {"week": 1, "after next": 1, "fortnight": 2}.get(suffix, 0)
    return [DateMention("weekday", phrase=phrase, weekday=index, weeks_later=weeks_later)]


def _week_from_day_word(match: re.Match[str]) -> list[DateMention]:
    days = 7 if match["word"] == "today" else 8
    return [DateMention("relative", phrase=f"in {days} days")]


def _week_after_weekday(match: re.Match[str]) -> list[DateMention]:
    index = WEEKDAYS.index(match["weekday"])
    weeks = 2 if "fortnight" in match[0] else 1
    return [DateMention("weekday", phrase=match["weekday"], weekday=index, weeks_later=weeks)]


EASTER_OFFSETS = {
    "good friday": -2,
    "easter saturday": -1,
    "easter sunday": 0,
    "easter": 0,
    "easter monday": 1,
}
"""Days from Easter Sunday of the Easter days patients name."""


def _in_count(match: re.Match[str]) -> list[DateMention]:
    count = COUNT_WORDS.get(match["count"]) or int(match["count"])
    return [DateMention("relative", phrase=f"in {count} {match['unit']}s")]


_DATE_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], list[DateMention]]], ...] = (
    (re.compile(r"\b(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})\b"), _calendar),
    (
        re.compile(
            r"(?<![0-9/.:-])(?P<day>[0-9]{1,2})[/.-](?P<month>[0-9]{1,2})"
            r"(?:[/.-](?P<year>[0-9]{4}|[0-9]{2}))?(?![0-9/.:-])"
        ),
        _calendar,
    ),
    (
        re.compile(
            r"\b(?:the\s+)?(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
            + _MONTH
            + r"\b(?:\s+(?P<year>[0-9]{4})\b)?"
        ),
        _calendar,
    ),
    (
        re.compile(
            r"\b" + _MONTH + r"\s+(?:the\s+)?(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?\b"
            r"(?:\s+(?P<year>[0-9]{4})\b)?"
        ),
        _calendar,
    ),
    (re.compile(r"\b" + _WEEKDAY + r"\s+(?:the\s+)?(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?\b"), _weekday_and_day),
    (
        re.compile(r"\b(?:the\s+)?(?P<day>[0-9]{1,2})(?:st|nd|rd|th)\b"),
        lambda m: [DateMention("day_of_month", day=int(m["day"]))],
    ),
    (
        re.compile(r"\bthe\s+(?P<day>[0-9]{1,2})\b"),
        lambda m: [DateMention("day_of_month", day=int(m["day"]))],
    ),
    # A month name alone counts only after "in" and the like, or as the whole message,
    # because "may" and "march" are also verbs.
    (
        re.compile(r"\b(?:in|during|early|late|mid|start\s+of|end\s+of|beginning\s+of)\s+" + _MONTH + r"\b"),
        lambda m: [DateMention("month", month=MONTHS[m["monthname"]])],
    ),
    (re.compile(r"^" + _MONTH + r"$"), lambda m: [DateMention("month", month=MONTHS[m["monthname"]])]),
    (
        re.compile(r"\b(?P<name>good\s+friday|easter(?:\s+(?:saturday|sunday|monday))?)\b"),
        lambda m: [DateMention("easter", day=EASTER_OFFSETS[" ".join(m["name"].split())])],
    ),
    (re.compile(r"\b(?:a|one)\s+week\s+(?:from\s+)?(?P<word>today|tomorrow)\b"), _week_from_day_word),
    (
        re.compile(
            r"\b(?:(?:a|one)\s+fortnight\s+(?:from\s+)?(?P<word>today|tomorrow)"
            r"|(?P<word2>today|tomorrow)\s+fortnight)\b"
        ),
        lambda m: [DateMention("relative", phrase=f"in {14 if 'today' in m[0] else 15} days")],
    ),
    (
        re.compile(
            r"\b(?:(?:a|one)\s+)?(?:week|fortnight)\s+(?:from|on|after)\s+(?:this\s+)?" + _WEEKDAY + r"\b"
        ),
        _week_after_weekday,
    ),
    (
        re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b"),
        lambda m: [DateMention("relative", phrase="day after tomorrow")],
    ),
    (
        re.compile(r"\b(?P<word>today|tomorrow|yesterday)\b"),
        lambda m: [DateMention("relative", phrase=m["word"])],
    ),
    (
        re.compile(
            r"\bin\s+(?P<count>a|an|[0-9]{1,2}|" + "|".join(HOUR_WORDS) + r")\s+"
            r"(?P<unit>day|week|month)s?\b"
        ),
        _in_count,
    ),
    (re.compile(r"\b(?P<lead>next\s+week)\s+(?:on\s+)?" + _WEEKDAY + r"\b"), _weekday),
    (
        re.compile(
            r"\b(?:(?P<modifier>this\s+coming|coming|this|next|last|on)\s+)?"
            + _WEEKDAY
            + r"\b(?:\s+(?P<suffix>week|fortnight|next\s+week|after\s+next)\b)?"
        ),
        _weekday,
    ),
    (
        re.compile(r"\b(?P<which>this|next)\s+week\b"),
        lambda m: [DateMention("week", weeks_later=0 if m["which"] == "this" else 1)],
    ),
    (re.compile(r"\bnext\s+month\b"), lambda m: [DateMention("month_start")]),
)


def _consume(text: str, pattern: re.Pattern[str], on_match: Callable[[re.Match[str]], None]) -> str:
    """Call `on_match` for each match of `pattern` and cut the matched text out."""
    pieces: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        group = "take" if match.groupdict().get("take") is not None else 0
        start, end = match.span(group)
        on_match(match)
        pieces.append(text[position:start])
        pieces.append(BARRIER)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _collect(
    build: Callable[[re.Match[str]], T], sink: Callable[[T], object]
) -> Callable[[re.Match[str]], None]:
    def on_match(match: re.Match[str]) -> None:
        sink(build(match))

    return on_match


def find_mentions(text: str) -> Mentions:
    """Find every date, time and part-of-day mention in `text`, in that order of search."""
    work = clean_text(text)
    times: list[TimeMention] = []
    parts: list[PartOfDay] = []
    dates: list[DateMention] = []

    for time_pattern, build_time in _TIME_RULES:
        work = _consume(work, time_pattern, _collect(build_time, times.append))
    for part_pattern, build_part in _PART_RULES:
        work = _consume(work, part_pattern, _collect(build_part, parts.append))
    for date_pattern, build_dates in _DATE_RULES:
        work = _consume(work, date_pattern, _collect(build_dates, dates.extend))

    remainder = " ".join(work.replace(BARRIER.strip(), " ").split())
    return Mentions(tuple(times), tuple(parts), tuple(dates), remainder)
