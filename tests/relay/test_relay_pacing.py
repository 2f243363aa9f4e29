"""Rate limits per channel with an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest

from relay.channels.base import ChannelKind
from relay.pacing import ChannelPacer, PacingSettings, RateLimit, RateLimiter
from sealbook.clock import FixedClock

START = dt.datetime(2026, 12, 8, 0, 0, tzinfo=dt.UTC)
BOT = "bot"


@pytest.fixture
def clock() -> FixedClock:
    """A clock stopped at the start of the test day."""
    return FixedClock(START)


def test_one_message_per_second_per_chat(clock: FixedClock) -> None:
    """A second send to one chat waits a second; a send to another chat need not."""
    pacer = ChannelPacer(PacingSettings(telegram_per_bot=RateLimit(30.0, burst=30)), clock)

    first = pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=1, sender_key=BOT)
    second = pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=1, sender_key=BOT)
    other_chat = pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=2, sender_key=BOT)
    clock.advance(dt.timedelta(seconds=1))
    second_retried = pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=1, sender_key=BOT)

    assert first == dt.timedelta(0)
    assert second == dt.timedelta(seconds=1)
    assert other_chat == dt.timedelta(0)
    assert second_retried == dt.timedelta(0)


def test_waiting_send_takes_no_bot_slot(clock: FixedClock) -> None:
    """A send refused for its chat leaves the bot-wide capacity to other chats."""
    pacer = ChannelPacer(PacingSettings(telegram_per_bot=RateLimit(30.0, burst=30)), clock)
    pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=1, sender_key=BOT)

    for _ in range(5):
        assert pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=1, sender_key=BOT) > dt.timedelta(0)
    others = [
        pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=chat, sender_key=BOT) for chat in range(2, 31)
    ]

    assert others == [dt.timedelta(0)] * 29


def test_bot_limit_spaces_sends_to_many_chats(clock: FixedClock) -> None:
    """Sends to different chats from one bot are spaced a thirtieth of a second apart."""
    pacer = ChannelPacer(PacingSettings(), clock)

    first = pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=1, sender_key=BOT)
    second = pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=2, sender_key=BOT)
    other_bot = pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=3, sender_key="bot-2")

    assert first == dt.timedelta(0)
    assert second.total_seconds() == pytest.approx(1 / 30, abs=1e-6)
    assert other_bot == dt.timedelta(0)


def test_waits_shrink_as_time_passes(clock: FixedClock) -> None:
    """A send asked for after the clock moved on waits only for what remains."""
    pacer = ChannelPacer(PacingSettings(), clock)
    pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=1, sender_key=BOT)

    clock.advance(dt.timedelta(milliseconds=400))
    wait = pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=1, sender_key=BOT)

    assert wait == dt.timedelta(milliseconds=600)


def test_sms_limit_per_sender_counts_segments(clock: FixedClock) -> None:
    """SMS sends from one number are spaced by their segment count; another number is separate."""
    settings = PacingSettings(sms_per_sender=RateLimit(per_second=2.0))
    pacer = ChannelPacer(settings, clock)

    two_segments = pacer.try_acquire(ChannelKind.SMS, recipient_key=1, sender_key="+61400000001", cost=2)
    after = pacer.try_acquire(ChannelKind.SMS, recipient_key=2, sender_key="+61400000001")
    other_sender = pacer.try_acquire(ChannelKind.SMS, recipient_key=3, sender_key="+61400000002")

    assert two_segments == dt.timedelta(0)
    assert after == dt.timedelta(seconds=1)
    assert other_sender == dt.timedelta(0)


def test_hold_after_rate_limit_answer(clock: FixedClock) -> None:
    """A held chat waits out the provider's retry_after; other chats do not."""
    pacer = ChannelPacer(PacingSettings(), clock)

    pacer.hold(ChannelKind.TELEGRAM, recipient_key=1, sender_key=BOT, seconds=7)

    held = pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=1, sender_key=BOT)
    free = pacer.try_acquire(ChannelKind.TELEGRAM, recipient_key=2, sender_key=BOT)
    assert held == dt.timedelta(seconds=7)
    assert free == dt.timedelta(0)


def test_console_is_not_limited(clock: FixedClock) -> None:
    """The console transport never waits."""
    pacer = ChannelPacer(PacingSettings(), clock)

    waits = {pacer.try_acquire(ChannelKind.CONSOLE, recipient_key=1) for _ in range(100)}

    assert waits == {dt.timedelta(0)}


def test_limiter_keeps_average_rate_over_many_sends(clock: FixedClock) -> None:
    """300 sends that each wait as instructed keep to 30 a second in every one-second window."""
    limiter = RateLimiter(clock)
    limit = RateLimit(per_second=30.0)
    sent_at: list[float] = []

    while len(sent_at) < 300:
        wait = limiter.try_acquire([("bot", limit)])
        if wait > 0:
            clock.advance(dt.timedelta(seconds=wait))
            continue
        sent_at.append((clock.now() - START).total_seconds())

    assert sent_at[-1] == pytest.approx(299 / 30, abs=1e-3)
    for first in range(0, 270):
        assert sent_at[first + 30] - sent_at[first] >= 1.0 - 1e-3


def test_invalid_limits_are_refused() -> None:
    """A rate of zero or a burst below one is a programming error."""
    with pytest.raises(ValueError, match="per_second"):
        RateLimit(per_second=0)
    with pytest.raises(ValueError, match="burst"):
        RateLimit(per_second=1, burst=0)
