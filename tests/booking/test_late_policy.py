"""The running-late notice policy: thresholds, steps, the maximum count and who is never notified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.late_policy import NoticeRules, decide_step, plan_notices, step_of
from booking.projection import DayProjection, Phase, ProjectedBooking

MEDICAL = NoticeRules(threshold_minutes=30, step_minutes=15, max_notices_per_booking=3)
NINE = datetime(2027, 3, 9, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delay", "step"),
    [(0, 0), (29, 0), (30, 30), (44, 30), (45, 45), (59, 45), (60, 60), (121, 120)],
)
def test_step_of_delay(delay: int, step: int) -> None:
    """A delay sits on the band that starts at the threshold plus whole steps."""
    assert step_of(delay, MEDICAL) == step


def test_first_notice_at_threshold() -> None:
    """A waiting patient is first notified when the delay reaches the threshold."""
    assert decide_step(Phase.WAITING, 29, [], MEDICAL) is None
    assert decide_step(Phase.WAITING, 30, [], MEDICAL) == 30


def test_first_notice_on_jump_uses_its_band() -> None:
    """A delay that jumps past several steps is notified once, at the band it lands in."""
    assert decide_step(Phase.WAITING, 52, [], MEDICAL) == 45


def test_no_repeat_within_step() -> None:
    """Growth inside a band already notified sends nothing."""
    assert decide_step(Phase.WAITING, 44, [30], MEDICAL) is None


def test_growth_by_step_notifies() -> None:
    """Moving onto the next band sends a notice at that band."""
    assert decide_step(Phase.WAITING, 45, [30], MEDICAL) == 45


def test_drop_below_threshold_notifies_once() -> None:
    """A patient notified of a delay hears once when it falls back under the threshold."""
    assert decide_step(Phase.WAITING, 10, [45], MEDICAL) == 0
    assert decide_step(Phase.WAITING, 5, [45, 0], MEDICAL) is None


def test_return_to_notified_step_is_silent() -> None:
    """A delay that returns to a band already notified sends nothing."""
    assert decide_step(Phase.WAITING, 35, [30, 45], MEDICAL) is None


def test_maximum_notices_respected() -> None:
    """After the maximum number of notices a booking gets no more."""
    assert decide_step(Phase.WAITING, 75, [30, 45, 60], MEDICAL) is None
    rules = NoticeRules(threshold_minutes=30, step_minutes=15, max_notices_per_booking=0)
    assert decide_step(Phase.WAITING, 30, [], rules) is None


@pytest.mark.parametrize("phase", [Phase.CHECKED_IN, Phase.IN_PROGRESS, Phase.FINISHED, Phase.GONE])
def test_never_after_check_in(phase: Phase) -> None:
    """Checked-in, in-consult, finished, cancelled and no-show bookings are never notified."""
    assert decide_step(phase, 60, [], MEDICAL) is None


@pytest.mark.parametrize(("threshold", "step", "maximum"), [(0, 15, 3), (30, 0, 3), (30, 15, -1)])
def test_invalid_rules_rejected(threshold: int, step: int, maximum: int) -> None:
    """A threshold or step under a minute, or a negative maximum, is rejected."""
    with pytest.raises(ValueError, match="running-late"):
        NoticeRules(threshold_minutes=threshold, step_minutes=step, max_notices_per_booking=maximum)


def test_plan_orders_soonest_first() -> None:
    """The plan lists notices by scheduled start, whatever order the projection holds."""
    later = ProjectedBooking(
        2, "B02", NINE + timedelta(hours=1), NINE + timedelta(hours=2), 60, Phase.WAITING
    )
    sooner = ProjectedBooking(1, "B01", NINE, NINE + timedelta(minutes=40), 40, Phase.WAITING)
    projection = DayProjection(NINE, NINE, None, None, (later, sooner))

    plan = plan_notices(projection, {}, MEDICAL)

    assert [(notice.reference, notice.step) for notice in plan] == [("B01", 30), ("B02", 60)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=180), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=1, max_value=30),
    st.integers(min_value=0, max_value=5),
)
def test_policy_invariants(delays: list[int], threshold: int, step: int, maximum: int) -> None:
    """Over any run of delays a booking is notified at most the maximum, never twice for one step."""
    rules = NoticeRules(threshold_minutes=threshold, step_minutes=step, max_notices_per_booking=maximum)
    notified: list[int] = []

    for delay in delays:
        decided = decide_step(Phase.WAITING, delay, notified, rules)
        if decided is not None:
            assert decided == step_of(delay, rules)
            notified.append(decided)

    assert len(notified) <= maximum
    assert len(notified) == len(set(notified))
    if notified:
        assert notified[0] >= threshold
