"""When a notice that failed for a temporary reason is tried again: exponential backoff with jitter."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Up to `max_attempts` tries, waiting `base * 2**(attempt - 1)` seconds after each, at most `cap`.

    Half of each wait is fixed and half is random ("equal jitter"), so notices that
    failed together, in one outage, do not all come back in the same second.
    """

    max_attempts: int
    base_seconds: float
    cap_seconds: float

    def gives_up_after(self, attempt: int) -> bool:
        """Tell whether attempt number `attempt` (1 for the first) was the last one allowed."""
        return attempt >= self.max_attempts

    def delay(
        self, attempt: int, rng: random.Random, retry_after_seconds: float | None = None
    ) -> dt.timedelta:
        """Return the wait after failed attempt `attempt`, never shorter than the provider's retry-after."""
        exponential = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        seconds = exponential / 2 + rng.uniform(0, exponential / 2)
        if retry_after_seconds is not None:
            seconds = max(seconds, retry_after_seconds)
        return dt.timedelta(seconds=seconds)
