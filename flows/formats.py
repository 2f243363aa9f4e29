"""Format dates and clock times the way the dialogue shows them to patients."""

from __future__ import annotations

import datetime as dt

WEEKDAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_ABBREVIATIONS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def format_ordinal(number: int) -> str:
    """Return `number` with its English ordinal suffix: 1st, 2nd, 11th, 23rd."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def format_day(day: dt.date) -> str:
    """Return a short local date such as `Fri 18 Jun` (ASCII, so GSM-7 safe)."""
    return f"{WEEKDAY_ABBREVIATIONS[day.weekday()]} {day.day} {MONTH_ABBREVIATIONS[day.month - 1]}"


def format_day_with_year(day: dt.date) -> str:
    """Return a short local date with its year, such as `Mon 29 Feb 2028`."""
    return f"{format_day(day)} {day.year}"


def format_day_month(day: int, month: int, year: int | None = None) -> str:
    """Return a day and month that may not exist as a date, such as `29 Feb 2027`."""
    text = f"{day} {MONTH_ABBREVIATIONS[month - 1]}"
    return text if year is None else f"{text} {year}"


def format_clock(clock: dt.time) -> str:
    """Return a 12-hour clock time such as `3pm`, `9:30am` or `12pm` (noon)."""
    hour = clock.hour % 12 or 12
    meridiem = "am" if clock.hour < 12 else "pm"
    if clock.minute == 0:
        return f"{hour}{meridiem}"
    return f"{hour}:{clock.minute:02d}{meridiem}"


def format_local(moment: dt.datetime) -> str:
    """Return an aware local datetime as `Fri 18 Jun 3:30pm`."""
    return f"{format_day(moment.date())} {format_clock(moment.time())}"
