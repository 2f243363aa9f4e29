"""Date helpers of the "when" reader: Easter days, and words that look like a misspelt day or month."""

from __future__ import annotations

import datetime as dt
import difflib

from flows._when_text import WEEKDAYS


def easter_sunday(year: int) -> dt.date:
    """Return Easter Sunday of the Gregorian `year` (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    week_day = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * week_day) // 433
    month = (h + week_day - 7 * m + 90) // 25
    return dt.date(year, month, (h + week_day - 7 * m + 33 * month + 19) % 32)


_DATE_NAMES = (*WEEKDAYS, "january", "february", "march", "april", "august", "september", "october",
               "november", "december")  # fmt: skip


def misspelt_date_word(remainder: str) -> bool:
    """Return whether a word left over looks like a misspelt day or month ("thursady").

    Such a message is asked about: reading it without its day would offer
    the wrong date without a word.
    """
    for word in remainder.split():
        if len(word) < 5 or word in _DATE_NAMES:
            continue
        close = difflib.get_close_matches(word, _DATE_NAMES, n=1, cutoff=0.8)
        if close and close[0][0] == word[0]:
            return True
    return False
