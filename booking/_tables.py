"""Typed reading of parsed TOML tables with errors that name the offending key."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import time
from typing import NoReturn

# Called with the dotted path of the bad key and a plain message; must raise.
Fail = Callable[[str, str], NoReturn]

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")

TEXT_LENGTH = 200
"""Default maximum length of a text field: the size of the name and reason columns."""


def parse_clock(text: str) -> time | None:
    """Return the local time written as `HH:MM`, or None if it is not a valid time."""
    match = _CLOCK.match(text.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


class TableReader:
    """One TOML table, read key by key; `finish()` rejects keys that no accessor read."""

    def __init__(self, data: Mapping[str, object], path: str, fail: Fail) -> None:
        self.data = data
        self.path = path
        self.fail = fail
        self._read: set[str] = set()

    def key_path(self, key: str) -> str:
        """Return the dotted path of `key` inside this table."""
        return f"{self.path}.{key}" if self.path else key

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> object:
        """Return the value of `key` unchecked, or None when it is absent."""
        self._read.add(key)
        return self.data.get(key)

    def text(self, key: str, default: str | None = None, *, max_length: int = TEXT_LENGTH) -> str:
        """Return a non-empty string value of at most `max_length` characters.

        Without a default the key is required. Surrounding white space is
        removed before the length is checked.
        """
        value = self.raw(key)
        if value is None:
            if default is not None:
                return default
            self.fail(self.key_path(key), f"missing field {key!r}; add it")
        if not isinstance(value, str) or not value.strip():
            self.fail(self.key_path(key), f"field {key!r} must be a non-empty string")
        text = value.strip()
        if len(text) > max_length:
            self.fail(
                self.key_path(key),
                f"field {key!r} is {len(text)} characters long; shorten it to at most {max_length}",
            )
        return text

    def integer(
        self,
        key: str,
        *,
        default: int | None = None,
        minimum: int = 0,
        maximum: int | None = None,
        multiple: int = 1,
    ) -> int:
        """Return an integer value from `minimum` to `maximum` and divisible by `multiple`."""
        value = self.raw(key)
        if value is None:
            if default is not None:
                return default
            self.fail(self.key_path(key), f"missing field {key!r}; add it")
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(self.key_path(key), f"field {key!r} must be a whole number")
        if value < minimum:
            self.fail(self.key_path(key), f"field {key!r} must be at least {minimum}, not {value}")
        if maximum is not None and value > maximum:
            self.fail(self.key_path(key), f"field {key!r} must be at most {maximum}, not {value}")
        if value % multiple != 0:
            self.fail(self.key_path(key), f"field {key!r} must be a multiple of {multiple}, not {value}")
        return value

    def clock(self, key: str, default: time | None = None) -> time:
        """Return a local time written as `HH:MM`."""
        if default is not None and key not in self.data:
            self._read.add(key)
            return default
        text = self.text(key)
        parsed = parse_clock(text)
        if parsed is None:
            self.fail(
                self.key_path(key),
                f"field {key!r} is not a valid time {text!r}; write it as HH:MM, 00:00 to 23:59",
            )
        return parsed

    def strings(self, key: str) -> list[str] | None:
        """Return a list of non-empty strings, or None when the key is absent."""
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            self.fail(self.key_path(key), f"field {key!r} must be a list of strings")
        return [item.strip() for item in value]

    def table(self, key: str) -> TableReader | None:
        """Return the sub-table at `key`, or None when it is absent."""
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(self.key_path(key), f"{key!r} must be a table, written [{key}]")
        return TableReader(value, self.key_path(key), self.fail)

    def tables(self, key: str) -> list[TableReader]:
        """Return the entries of the array of tables at `key`, numbered from 1 as `key#N`."""
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail(self.key_path(key), f"{key!r} must be an array of tables, written [[{key}]]")
        return [
            TableReader(item, f"{self.key_path(key)}#{index}", self.fail)
            for index, item in enumerate(value, start=1)
        ]

    def unread(self) -> Iterator[str]:
        """Yield the keys that no accessor has read."""
        return (key for key in self.data if key not in self._read)

    def finish(self) -> None:
        """Reject the first key that no accessor read, which is usually a typo."""
        for key in self.unread():
            self.fail(self.key_path(key), f"unknown field {key!r}; check its spelling")
