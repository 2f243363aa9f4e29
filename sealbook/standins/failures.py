"""Failure rules the stand-ins apply: per key (a chat, a number) or for every key, a number of times or forever."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

KeyT = TypeVar("KeyT", bound=Hashable)
FailureT = TypeVar("FailureT")


@dataclass
class _Rule(Generic[FailureT]):
    failure: FailureT
    remaining: int | None


class FailureRules(Generic[KeyT, FailureT]):
    """Failures to return per key, where the key None covers every key without its own rule.

    Not thread-safe: the stand-ins call it under their own lock.
    """

    def __init__(self) -> None:
        self._rules: dict[KeyT | None, _Rule[FailureT]] = {}

    def set(self, key: KeyT | None, failure: FailureT, times: int | None) -> None:
        """Return `failure` for `key` the next `times` times, or always when `times` is None."""
        self._rules[key] = _Rule(failure, times)

    def clear(self) -> None:
        """Remove every rule."""
        self._rules.clear()

    def take(self, key: KeyT | None) -> FailureT | None:
        """Return the failure for `key`, counting one use of its rule, or None to succeed."""
        chosen: KeyT | None = key if key in self._rules else None
        rule = self._rules.get(chosen)
        if rule is None:
            return None
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining <= 0:
                del self._rules[chosen]
        return rule.failure
