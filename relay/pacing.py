"""Per-channel send rate limits, kept with the generic cell rate algorithm and an injected clock.

Each limited key (a bot, a chat, a sender number) has a theoretical arrival time
(TAT). A send of cost `n` at time `t` is allowed when `t >= TAT - tolerance`, and moves
TAT to `max(TAT, t) + n * interval`, where `interval = 1 / rate` and the tolerance
lets `burst` sends through back to back. A send that needs several keys (the bot and
the chat) is allowed only when all of them allow it, and then counts against all.

Slots are taken only at the moment of sending, never booked ahead: a send waiting a
second for its chat would otherwise hold a bot-wide slot that other chats could use.
Callers on one event loop call `try_acquire`, sleep for the wait it returns, and call
it again. Because there is no await between the check and the update, two coroutines
cannot take the same slot.

The state lives in one process: two relay workers each keep their own limits, so
together they may send up to twice a per-bot rate.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from relay.channels.base import ChannelKind
from sealbook.clock import Clock


@dataclass(frozen=True)
class RateLimit:
    """At most `per_second` sends a second on average, with up to `burst` back to back."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.per_second <= 0:
            raise ValueError("per_second must be positive")
        if self.burst < 1:
            raise ValueError("burst must be 1 or more")

    @property
    def interval_seconds(self) -> float:
        return 1.0 / self.per_second

    @property
    def tolerance_seconds(self) -> float:
        return (self.burst - 1) * self.interval_seconds


# Telegram's published guidance, which client libraries such as teloxide take as their
# defaults: about 30 messages a second in bulk, at most one a second to one chat. The
# real limits are looser or tighter per bot, so a 429 response can still come; its
# `retry_after` is honoured through `hold`.
# The bot-wide limit has no burst, so no one-second window holds more than 31 sends.
TELEGRAM_PER_BOT = RateLimit(per_second=30.0, burst=1)
TELEGRAM_PER_CHAT = RateLimit(per_second=1.0, burst=1)
# NOTE: Twilio's send rate depends on the number type and country: a US long code
# takes about one segment a second, a short code far more. Set `sms_per_sender` to
# the sender's real rate. Twilio queues what exceeds it rather than failing.
SMS_PER_SENDER = RateLimit(per_second=1.0, burst=1)
EMAIL_PER_SERVER = RateLimit(per_second=10.0, burst=10)


# A datetime clock counts in microseconds; a shorter wait is no wait.
_RESOLUTION_SECONDS = 1e-6


class RateLimiter:
    """Reserve send slots against any number of keyed rate limits."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        # Times are seconds since the limiter was made, so float sums keep microseconds.
        self._origin = clock.now()
        self._tat: dict[Hashable, float] = {}

    def try_acquire(self, limits: Sequence[tuple[Hashable, RateLimit]], cost: int = 1) -> float:
        """Take a slot now if every `(key, limit)` allows it and return 0, else return the wait.

        The wait, in seconds, is how long until all keys would allow the send; nothing
        is taken in that case. `cost` counts units of the limit, such as SMS segments.
        """
        now = self._seconds_now()
        allowed_at = now
        for key, limit in limits:
            allowed_at = max(allowed_at, self._tat.get(key, now) - limit.tolerance_seconds)
        if allowed_at - now >= _RESOLUTION_SECONDS:
            # Rounded up to the clock's resolution, so that sleeping for the returned
            # wait always reaches the allowed time.
            return math.ceil((allowed_at - now) / _RESOLUTION_SECONDS) * _RESOLUTION_SECONDS
        for key, limit in limits:
            self._tat[key] = max(self._tat.get(key, now), now) + cost * limit.interval_seconds
        return 0.0

    def hold(self, key: Hashable, seconds: float) -> None:
        """Allow no send on `key` for `seconds` from now, as after a provider's 429 response."""
        until = self._seconds_now() + seconds
        self._tat[key] = max(self._tat.get(key, until), until)

    def _seconds_now(self) -> float:
        return (self._clock.now() - self._origin).total_seconds()


@dataclass(frozen=True)
class PacingSettings:
    """The limits of each channel; the defaults follow the providers' published guidance."""

    telegram_per_bot: RateLimit = TELEGRAM_PER_BOT
    telegram_per_chat: RateLimit = TELEGRAM_PER_CHAT
    sms_per_sender: RateLimit = SMS_PER_SENDER
    email_per_server: RateLimit = EMAIL_PER_SERVER


class ChannelPacer:
    """Turn a pending send into the rate-limit keys of its channel and take a slot.

    `recipient_key` identifies the recipient without revealing them (the contact's
    row id), so the per-chat limit never keeps a chat id in memory longer than a send.
    """

    def __init__(self, settings: PacingSettings, clock: Clock) -> None:
        self._settings = settings
        self._limiter = RateLimiter(clock)

    def try_acquire(
        self, channel: ChannelKind, *, recipient_key: int, sender_key: str = "", cost: int = 1
    ) -> dt.timedelta:
        """Take a slot for one send now and return zero, or return how long to wait first."""
        limits = self._limits(channel, recipient_key, sender_key)
        return dt.timedelta(seconds=self._limiter.try_acquire(limits, cost))

    def hold(self, channel: ChannelKind, *, recipient_key: int, sender_key: str, seconds: float) -> None:
        """Pause sends after a 429: to that chat on Telegram, from that sender on SMS and e-mail."""
        if channel is ChannelKind.TELEGRAM:
            self._limiter.hold(("telegram-chat", recipient_key), seconds)
        elif channel is ChannelKind.SMS:
            self._limiter.hold(("sms-sender", sender_key), seconds)
        elif channel is ChannelKind.EMAIL:
            self._limiter.hold(("email-server", sender_key), seconds)

    def _limits(
        self, channel: ChannelKind, recipient_key: int, sender_key: str
    ) -> list[tuple[Hashable, RateLimit]]:
        settings = self._settings
        if channel is ChannelKind.TELEGRAM:
            return [
                (("telegram-bot", sender_key), settings.telegram_per_bot),
                (("telegram-chat", recipient_key), settings.telegram_per_chat),
            ]
        if channel is ChannelKind.SMS:
            return [(("sms-sender", sender_key), settings.sms_per_sender)]
        if channel is ChannelKind.EMAIL:
            return [(("email-server", sender_key), settings.email_per_server)]
        return []
