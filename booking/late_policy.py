"""The running-late notice policy: which patients to tell, and at which step of the delay.

A delay is placed on a step: step 0 means under the threshold, and from the
threshold up each step is the lower edge, in minutes, of a band one step wide.
With the medical profile (threshold 30, step 15) a delay of 30 to 44 minutes
is step 30, 45 to 59 is step 45, and 29 or less is step 0.

A patient is notified the first time their delay reaches a step at or above
the threshold. After that they are notified again whenever the delay moves,
up or down, onto a step they have not been notified of. Moving back under the
threshold counts, so a patient who expects a 45-minute delay hears when it
drops to 10. A patient is never notified twice for the same step, never more
than the maximum number of times, and never once checked in, in consult,
finished, cancelled or marked no-show.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from booking.projection import DayProjection, Phase, ProjectedBooking

ON_TIME_STEP = 0


@dataclass(frozen=True, slots=True)
class NoticeRules:
    """The clinic's running-late rules: threshold and step in minutes, and notices per booking."""

    threshold_minutes: int
    step_minutes: int
    max_notices_per_booking: int

    def __post_init__(self) -> None:
        if self.threshold_minutes < 1 or self.step_minutes < 1:
            raise ValueError("running-late threshold and step must be at least one minute")
        if self.max_notices_per_booking < 0:
            raise ValueError("the maximum number of running-late notices cannot be negative")


@dataclass(frozen=True, slots=True)
class LateNotice:
    """A decision to notify one booking's patient of their new expected start."""

    booking_id: int
    reference: str
    scheduled_at: datetime
    expected_at: datetime
    delay_minutes: int
    step: int


def step_of(delay_minutes: int, rules: NoticeRules) -> int:
    """Return the step a delay is on: 0 under the threshold, else the lower edge of its band."""
    if delay_minutes < rules.threshold_minutes:
        return ON_TIME_STEP
    bands = (delay_minutes - rules.threshold_minutes) // rules.step_minutes
    return rules.threshold_minutes + bands * rules.step_minutes


def decide_step(
    phase: Phase, delay_minutes: int, notified_steps: Collection[int], rules: NoticeRules
) -> int | None:
    """Return the step to notify a booking at, or None when it gets no notice now."""
    if phase is not Phase.WAITING:
        return None
    if len(notified_steps) >= rules.max_notices_per_booking:
        return None

    step = step_of(delay_minutes, rules)
    if step in notified_steps:
        return None
    if step == ON_TIME_STEP and not notified_steps:
        # An on-time notice goes only to a patient who was notified of a delay.
        return None
    return step


def decide_notice(
    projected: ProjectedBooking, notified_steps: Collection[int], rules: NoticeRules
) -> LateNotice | None:
    """Return the notice one projected booking should get now, or None."""
    step = decide_step(projected.phase, projected.delay_minutes, notified_steps, rules)
    if step is None:
        return None
    return LateNotice(
        booking_id=projected.booking_id,
        reference=projected.reference,
        scheduled_at=projected.scheduled_at,
        expected_at=projected.expected_at,
        delay_minutes=projected.delay_minutes,
        step=step,
    )


def plan_notices(
    projection: DayProjection, notified: Mapping[int, Collection[int]], rules: NoticeRules
) -> list[LateNotice]:
    """Return the notices a projection calls for, soonest scheduled appointment first.

    ``notified`` maps a booking id to the steps it has been notified at; a
    booking missing from it has had no running-late notice.
    """
    notices = [
        notice
        for projected in projection.bookings
        if (notice := decide_notice(projected, notified.get(projected.booking_id, ()), rules)) is not None
    ]
    notices.sort(key=lambda notice: (notice.scheduled_at, notice.reference))
    return notices
