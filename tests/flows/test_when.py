"""Table of phrases patients write, read against fixed clocks in Australia/Sydney."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows._when_days import easter_sunday
from flows.when import PartOfDay, Question, WhenReading, read_when, warm_up

SYDNEY = ZoneInfo("Australia/Sydney")

# Wednesday 16 June 2027, 10:00 in Sydney (AEST, UTC+10, no daylight saving).
WINTER_NOW = dt.datetime(2027, 6, 16, 0, 0, tzinfo=dt.UTC)
# Wednesday 29 September 2027, 10:00 AEST; clocks go forward on Sunday 3 October at 02:00.
SPRING_NOW = dt.datetime(2027, 9, 29, 0, 0, tzinfo=dt.UTC)
# Wednesday 31 March 2027, 10:00 AEDT (UTC+11); clocks go back on Sunday 4 April at 03:00.
AUTUMN_NOW = dt.datetime(2027, 3, 30, 23, 0, tzinfo=dt.UTC)
# Thursday 17 June 2027, 00:30 in Sydney, while it is still Wednesday in UTC.
AFTER_MIDNIGHT_NOW = dt.datetime(2027, 6, 16, 14, 30, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Reads:
    """The expected reading: each field None when the phrase does not give it."""

    date: dt.date | None = None
    time: dt.time | None = None
    part: PartOfDay | None = None
    bound: str = "at"


@dataclass(frozen=True)
class Asks:
    """The expected clarifying question."""

    key: str
    params: dict[str, str] = field(default_factory=dict)


def day(month: int, day_of_month: int, year: int = 2027) -> dt.date:
    """Build a date in 2027 unless another year is given."""
    return dt.date(year, month, day_of_month)


def clock(hour: int, minute: int = 0) -> dt.time:
    """Build a clock time."""
    return dt.time(hour, minute)


MORNING, AFTERNOON, EVENING = PartOfDay.MORNING, PartOfDay.AFTERNOON, PartOfDay.EVENING

WINTER_TABLE: list[tuple[str, Reads | Asks]] = [
    # Shorthand dateparser 1.5.0 misses.
    ("tmrw 3pm", Reads(day(6, 17), clock(15))),
    ("3pm tmrw", Reads(day(6, 17), clock(15))),
    ("tomorrow arvo", Reads(day(6, 17), part=AFTERNOON)),
    ("tmoz 11", Reads(day(6, 17), clock(11))),
    ("2moro at 9", Reads(day(6, 17), clock(9))),
    ("day after tmrw", Reads(day(6, 18))),
    ("thurs", Reads(day(6, 17))),
    ("Weds 10am", Reads(day(6, 23), clock(10))),
    ("tues 9.45am", Reads(day(6, 22), clock(9, 45))),
    ("fri arvo", Reads(day(6, 18), part=AFTERNOON)),
    ("sat morning", Reads(day(6, 19), part=MORNING)),
    ("midday", Reads(time=clock(12))),
    ("noon tomorrow", Reads(day(6, 17), clock(12))),
    ("half past 3", Reads(time=clock(15, 30))),
    ("half past two tomorrow", Reads(day(6, 17), clock(14, 30))),
    ("quarter to 4", Reads(time=clock(15, 45))),
    ("quarter past 10 on friday", Reads(day(6, 18), clock(10, 15))),
    ("3 o'clock tuesday", Reads(day(6, 22), clock(15))),
    ("monday week", Reads(day(6, 28))),
    ("friday week", Reads(day(6, 25))),
    ("friday next week", Reads(day(6, 25))),
    ("next week friday", Reads(day(6, 25))),
    ("a week today", Reads(day(6, 23))),
    ("a week from friday", Reads(day(6, 25))),
    ("in a fortnight", Reads(day(6, 30))),
    ("in 2 weeks time", Reads(day(6, 30))),
    ("in 3 days", Reads(day(6, 19))),
    # Relative phrases dateparser reads once the rest is lifted out.
    ("next Fri", Reads(day(6, 18))),
    ("next tuesday afternoon", Reads(day(6, 22), part=AFTERNOON)),
    ("this thursday", Reads(day(6, 17))),
    ("monday", Reads(day(6, 21))),
    ("next week", Reads(day(6, 21))),
    ("next month", Reads(day(7, 1))),
    ("this morning", Reads(day(6, 16), part=MORNING)),
    ("tonight", Reads(day(6, 16), part=EVENING)),
    ("today 4pm", Reads(day(6, 16), clock(16))),
    # dateparser reads "friday at 3" as the 3rd of the month, a past date.
    ("friday at 3", Reads(day(6, 18), clock(15))),
    ("tomorrow 3", Reads(day(6, 17), clock(15))),
    ("friday 12:30", Reads(day(6, 18), clock(12, 30))),
    # Bare hours are read within opening hours (08:00-18:00 by default).
    ("at 4", Reads(time=clock(16))),
    ("at 8", Reads(time=clock(8))),
    ("at 11", Reads(time=clock(11))),
    ("2.30", Reads(time=clock(14, 30))),
    ("9:30", Reads(time=clock(9, 30))),
    ("8 in the morning", Reads(time=clock(8))),
    ("3 in the afternoon", Reads(time=clock(15))),
    ("at 7", Asks("when_am_or_pm", {"morning": "7am", "afternoon": "7pm"})),
    ("at 6 in the evening", Reads(time=clock(18))),
    ("09:30", Reads(time=clock(9, 30))),
    ("14:00", Reads(time=clock(14))),
    ("at 1530", Reads(time=clock(15, 30))),
    ("12pm", Reads(time=clock(12))),
    ("after 2pm friday", Reads(day(6, 18), clock(14), bound="after")),
    ("before 10 on monday", Reads(day(6, 21), clock(10), bound="before")),
    # Calendar dates, day before month.
    ("5/6", Asks("when_date_past", {"date": "5 Jun"})),
    ("20/6", Reads(day(6, 20))),
    ("30/9", Reads(day(9, 30))),
    ("fri 18/6", Reads(day(6, 18))),
    ("Thu 18/6", Asks("when_weekday_mismatch", {"date": "Fri 18 Jun", "weekday": "Thursday"})),
    ("friday 18", Reads(day(6, 18))),
    ("Mon 21 June at 9", Reads(day(6, 21), clock(9))),
    ("21st june 10am", Reads(day(6, 21), clock(10))),
    ("june 21st", Reads(day(6, 21))),
    ("the 21st at 2", Reads(day(6, 21), clock(14))),
    ("the 31st", Asks("when_no_such_date", {"date": "31 Jun 2027"})),
    ("sept 1", Reads(day(9, 1))),
    ("in june", Reads(day(6, 16))),
    ("20/06/2027", Reads(day(6, 20))),
    ("5/6/27", Asks("when_date_past", {"date": "5 Jun 2027"})),
    ("6/13", Asks("when_day_month_order", {"date": "13 Jun"})),
    ("31/6", Asks("when_no_such_date", {"date": "31 Jun 2027"})),
    ("29 February", Asks("when_no_such_date", {"date": "29 Feb 2027"})),
    ("29/2/2027", Asks("when_no_such_date", {"date": "29 Feb 2027"})),
    ("29/2/2028", Reads(day(2, 29, 2028))),
    ("yesterday", Asks("when_date_past", {"date": "Tue 15 Jun"})),
    ("last friday", Asks("when_date_past", {"date": "Fri 11 Jun"})),
    ("9am today", Asks("when_time_past", {"time": "9am"})),
    ("today or tomorrow", Asks("when_one_day")),
    ("3pm or 4pm", Asks("when_one_time")),
    # A bare number with no menu open is never silently a date.
    ("2", Asks("when_bare_number", {"ordinal": "2nd", "clock": "2pm", "month": "Jul"})),
    ("9", Asks("when_bare_number", {"ordinal": "9th", "clock": "9am", "month": "Jul"})),
    ("25", Asks("when_bare_day", {"ordinal": "25th", "month": "Jun"})),
    # Whole messages: the date and time come out, the rest stays for the dialogue.
    ("standard consult with Dr Lee tomorrow afternoon", Reads(day(6, 17), part=AFTERNOON)),
    ("make it Thursday", Reads(day(6, 17))),
    ("may I come tomorrow?", Reads(day(6, 17))),
    ("morning or afternoon", Reads()),
    ("asap", Reads()),
    ("", Reads()),
    # Fortnights count from the day named.
    ("friday fortnight", Reads(day(7, 2))),
    ("a fortnight today", Reads(day(6, 30))),
    ("a fortnight tmrw", Reads(day(7, 1))),
    ("fortnight on friday", Reads(day(7, 2))),
    # Misspelt days, holidays and numbers that could be a date or a time are asked about.
    ("thursady 10am", Asks("when_unclear")),
    ("easter monday", Asks("when_date_past", {"date": "Mon 29 Mar"})),
    ("1.10", Asks("when_unclear")),
    ("5.06", Asks("when_unclear")),
    ("2027-06-22T14:00", Reads(day(6, 22), clock(14))),
    # Four-digit 24-hour times.
    ("tmrw 0930", Reads(day(6, 17), clock(9, 30))),
    ("1630", Reads(time=clock(16, 30))),
    ("1800", Reads(time=clock(18))),
    # Ranges of hours are read from their first hour, never as a day of the month.
    ("2-4pm", Reads(time=clock(14), bound="after")),
    ("3 or 4pm", Reads(time=clock(15), bound="after")),
    ("tues 2-4", Reads(day(6, 22), clock(14), bound="after")),
    ("mon 9-11", Reads(day(6, 21), clock(9), bound="after")),
    ("tmrw 10-12", Reads(day(6, 17), clock(10), bound="after")),
    # Today's weekday means today while the time is still ahead.
    ("wed 5:30pm", Reads(day(6, 16), clock(17, 30))),
    ("wed 9am", Reads(day(6, 23), clock(9))),
]

SPRING_TABLE: list[tuple[str, Reads | Asks]] = [
    ("sunday 10am", Reads(day(10, 3), clock(10))),
    ("monday 9am", Reads(day(10, 4), clock(9))),
    ("next week", Reads(day(10, 4))),
    ("tmrw arvo", Reads(day(9, 30), part=AFTERNOON)),
    ("in a fortnight", Reads(day(10, 13))),
    ("1/10", Reads(day(10, 1))),
]

AUTUMN_TABLE: list[tuple[str, Reads | Asks]] = [
    ("sunday 9am", Reads(day(4, 4), clock(9))),
    ("monday week", Reads(day(4, 12))),
    ("sat 2.30", Reads(day(4, 3), clock(14, 30))),
    ("next fri", Reads(day(4, 2))),
]

EASTER_TABLE: list[tuple[str, Reads | Asks]] = [
    ("easter monday", Reads(day(3, 29))),
    ("good friday 10am", Reads(day(3, 26), clock(10))),
    ("easter", Reads(day(3, 28))),
]
# Monday 1 March 2027, 10:00 AEDT; Easter Sunday 2027 is 28 March.
EASTER_NOW = dt.datetime(2027, 2, 28, 23, 0, tzinfo=dt.UTC)

AFTER_MIDNIGHT_TABLE: list[tuple[str, Reads | Asks]] = [
    ("today", Reads(day(6, 17))),
    ("tomorrow", Reads(day(6, 18))),
    ("friday 3pm", Reads(day(6, 18), clock(15))),
]


def _check(phrase: str, expected: Reads | Asks, now: dt.datetime) -> None:
    reading = read_when(phrase, now=now, zone=SYDNEY)
    if isinstance(expected, Asks):
        assert reading.question == Question(expected.key, expected.params)
        return
    assert reading.question is None
    assert reading.date == expected.date
    assert reading.time == expected.time
    assert reading.part_of_day == expected.part
    assert reading.time_bound == expected.bound


def test_phrase_table_is_large_enough() -> None:
    """The phrase tables together hold at least 60 distinct phrases."""
    phrases = {p for table in (WINTER_TABLE, SPRING_TABLE, AUTUMN_TABLE) for p, _ in table}

    assert len(phrases) >= 60


@pytest.mark.parametrize(("phrase", "expected"), WINTER_TABLE, ids=[p for p, _ in WINTER_TABLE])
def test_winter_phrase(phrase: str, expected: Reads | Asks) -> None:
    """Each phrase reads as expected on Wednesday 16 June 2027 at 10:00 in Sydney."""
    _check(phrase, expected, WINTER_NOW)


@pytest.mark.parametrize(("phrase", "expected"), SPRING_TABLE, ids=[p for p, _ in SPRING_TABLE])
def test_spring_forward_week_phrase(phrase: str, expected: Reads | Asks) -> None:
    """Each phrase reads as expected in the week Sydney moves its clocks forward."""
    _check(phrase, expected, SPRING_NOW)


@pytest.mark.parametrize(("phrase", "expected"), AUTUMN_TABLE, ids=[p for p, _ in AUTUMN_TABLE])
def test_fall_back_week_phrase(phrase: str, expected: Reads | Asks) -> None:
    """Each phrase reads as expected in the week Sydney moves its clocks back."""
    _check(phrase, expected, AUTUMN_NOW)


@pytest.mark.parametrize(("phrase", "expected"), EASTER_TABLE, ids=[p for p, _ in EASTER_TABLE])
def test_easter_phrase(phrase: str, expected: Reads | Asks) -> None:
    """Easter days are worked out for the year, read a month before Easter 2027."""
    _check(phrase, expected, EASTER_NOW)


@pytest.mark.parametrize(
    ("phrase", "expected"), AFTER_MIDNIGHT_TABLE, ids=[p for p, _ in AFTER_MIDNIGHT_TABLE]
)
def test_local_date_differs_from_utc(phrase: str, expected: Reads | Asks) -> None:
    """Relative days count from the clinic's date, not the UTC date."""
    _check(phrase, expected, AFTER_MIDNIGHT_NOW)


def test_local_start_across_spring_forward() -> None:
    """A time after the change carries the daylight-saving offset, UTC+11."""
    reading = read_when("monday 9am", now=SPRING_NOW, zone=SYDNEY)

    start = reading.local_start(SYDNEY)

    assert start is not None
    assert start.utcoffset() == dt.timedelta(hours=11)
    assert start.astimezone(dt.UTC) == dt.datetime(2027, 10, 3, 22, 0, tzinfo=dt.UTC)


def test_local_start_across_fall_back() -> None:
    """A time after clocks go back carries standard time, UTC+10."""
    reading = read_when("sunday 9am", now=AUTUMN_NOW, zone=SYDNEY)

    start = reading.local_start(SYDNEY)

    assert start is not None
    assert start.utcoffset() == dt.timedelta(hours=10)
    assert start.astimezone(dt.UTC) == dt.datetime(2027, 4, 3, 23, 0, tzinfo=dt.UTC)


def test_local_start_skipped_hour_moves_forward() -> None:
    """02:30 on the morning clocks go forward does not exist and becomes 03:30 AEDT."""
    reading = read_when("sunday 2:30am", now=SPRING_NOW, zone=SYDNEY)

    start = reading.local_start(SYDNEY)

    assert start is not None
    assert (start.hour, start.minute) == (3, 30)
    assert start.utcoffset() == dt.timedelta(hours=11)


def test_local_start_needs_date_and_time() -> None:
    """A reading with only a part of the day has no start instant."""
    reading = read_when("tomorrow arvo", now=WINTER_NOW, zone=SYDNEY)

    assert reading.local_start(SYDNEY) is None


@pytest.mark.parametrize("text", ["2", "#2", "2.", " 2 ", "2)"])
def test_menu_number_is_choice_not_date(text: str) -> None:
    """A bare number while a menu of five is open picks option 2."""
    reading = read_when(text, now=WINTER_NOW, zone=SYDNEY, menu_size=5)

    assert reading.menu_choice == 2
    assert reading.date is None
    assert reading.question is None


def test_menu_number_out_of_range() -> None:
    """A number past the end of the open menu asks for one in range."""
    reading = read_when("7", now=WINTER_NOW, zone=SYDNEY, menu_size=5)

    assert reading.question == Question("when_menu_range", {"count": "5"})
    assert reading.menu_choice is None


def test_opening_hours_change_bare_hour() -> None:
    """With evening opening hours, "at 7" reads as 7pm."""
    hours = (dt.time(12, 0), dt.time(21, 0))

    reading = read_when("at 7", now=WINTER_NOW, zone=SYDNEY, opening_hours=hours)

    assert reading.time == dt.time(19, 0)


def test_remainder_keeps_other_words() -> None:
    """The words that are not a date stay for the dialogue to read."""
    reading = read_when("Standard consult with Dr Lee tmrw 3pm please", now=WINTER_NOW, zone=SYDNEY)

    assert reading.remainder == "standard consult with dr lee please"


def test_naive_now_rejected() -> None:
    """A naive `now` is a programming error and raises ValueError."""
    with pytest.raises(ValueError, match="aware"):
        read_when("tomorrow", now=dt.datetime(2027, 6, 16, 10, 0), zone=SYDNEY)


def test_warm_up_returns_seconds() -> None:
    """The warm-up parse returns a small non-negative duration."""
    elapsed = warm_up()

    assert 0 <= elapsed < 10


def test_long_message_is_cut_and_read() -> None:
    """A 5,000-character message is read from its start without error."""
    text = "tomorrow 3pm " + "x" * 5000

    reading = read_when(text, now=WINTER_NOW, zone=SYDNEY)

    assert reading.date == day(6, 17)
    assert reading.time == clock(15)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.one_of(st.none(), st.integers(1, 9)))
def test_any_text_reads_without_error(text: str, menu_size: int | None) -> None:
    """Arbitrary Unicode never raises and yields either a reading or a question."""
    reading = read_when(text, now=WINTER_NOW, zone=SYDNEY, menu_size=menu_size)

    assert isinstance(reading, WhenReading)
    if reading.question is not None:
        assert reading.date is None
        assert reading.time is None
    if reading.date is not None:
        assert reading.date >= day(6, 16)


DATE_WORDS = [
    "0",
    "00",
    "0000-00-00",
    "0000-01-01",
    "9999-12-31",
    "99/99",
    "31/12/99",
    "1/1/00",
    "29/2",
    "at",
    "by",
    "after",
    "12",
    "13",
    "24",
    "99",
    "am",
    "pm",
    "noon",
    "midnight",
    "half",
    "quarter",
    "past",
    "to",
    "the",
    "of",
    "31st",
    "0th",
    "99th",
    "next",
    "this",
    "last",
    "week",
    "weeks",
    "month",
    "fortnight",
    "in",
    "a",
    "tomorrow",
    "tmrw",
    "today",
    "yesterday",
    "monday",
    "fri",
    "sat",
    "june",
    "may",
    "morning",
    "arvo",
    "night",
    "oclock",
    "2.30",
    "23:59",
    "24:00",
    "12:60",
    "1530",
    "0930",
    "day",
    ":",
    "/",
    ".",
    "-",
    "one",
    "twelve",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(DATE_WORDS), min_size=1, max_size=7), st.sampled_from([None, 5]))
def test_date_word_soup_reads_without_error(words: list[str], menu_size: int | None) -> None:
    """Any run of date-like words, valid or not, yields a reading or a question."""
    reading = read_when(" ".join(words), now=WINTER_NOW, zone=SYDNEY, menu_size=menu_size)

    if reading.date is not None:
        assert reading.date >= day(6, 16)
    if reading.time is not None:
        assert reading.question is None


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2024, day(3, 31, 2024)), (2025, day(4, 20, 2025)), (2027, day(3, 28)), (2038, day(4, 25, 2038))],
)
def test_easter_sunday(year: int, expected: dt.date) -> None:
    """Easter Sunday falls on its published date, the latest possible one included."""
    assert easter_sunday(year) == expected
