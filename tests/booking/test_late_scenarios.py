"""Running-late scenarios on a fixed day: exactly who is notified of what, and when.

Each table was worked out by hand from the scenario's rules (see each
scenario's comment), not recorded from a run. Times are local
(Australia/Sydney) on Wednesday 10 March 2027; booking numbers count from the
first booking of the day.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.booking.late_db_driver import DatabaseDayDriver
from tests.booking.late_replay import (
    DayDriver,
    Declaration,
    Issued,
    PureDayDriver,
    Scenario,
    parse_table,
    replay_day,
)

# Sixteen 15-minute appointments from 09:00 to 12:45, back to back. The third
# consult (09:30) runs 25 minutes over, so everyone after it is 25 minutes
# late, under the threshold. The seventh (10:30, started 10:55) runs 20 over:
# from 11:10 the delay grows a minute a minute and reaches 30 at 11:15 and 45
# at 11:30, where it stays. Bookings 8 to 10 are checked in by 11:15 and are
# never notified; 11 to 16 are notified at both steps. Booking 11, expected
# at 12:00, arrives at 11:55, so it is still waiting at 11:30.
OVERRUNS = Scenario(
    name="overruns",
    first_start="09:00",
    count=16,
    interval_minutes=15,
    duration_minutes=15,
    replay_from="08:50",
    replay_until="13:45",
    overrun_minutes={3: 25, 7: 20},
)
OVERRUNS_EXPECTED = parse_table(
    """
    11:15 11 running_late 30 12:00
    11:15 12 running_late 30 12:15
    11:15 13 running_late 30 12:30
    11:15 14 running_late 30 12:45
    11:15 15 running_late 30 13:00
    11:15 16 running_late 30 13:15
    11:30 11 running_late 45 12:15
    11:30 12 running_late 45 12:30
    11:30 13 running_late 45 12:45
    11:30 14 running_late 45 13:00
    11:30 15 running_late 45 13:15
    11:30 16 running_late 45 13:30
    """
)

# Eight 15-minute appointments every half hour from 09:00. At 08:40 the
# practitioner is declared 45 minutes late (they arrive at 09:45), so all
# eight are notified of +45. At 09:50, with the first consult under way until 10:00,
# the declaration drops to 10: booking 2 (09:30) is now expected at 10:00,
# step 30; booking 3 (10:00) follows at 10:15, 15 late; the rest catch up to
# the 10-minute floor. Each of those moves to a step not yet notified, so all
# seven waiting patients hear again, once.
DECLARED = Scenario(
    name="declared",
    first_start="09:00",
    count=8,
    interval_minutes=30,
    duration_minutes=15,
    replay_from="08:35",
    replay_until="13:00",
    practitioner_from="09:45",
    declarations=(Declaration("08:40", late_minutes=45), Declaration("09:50", late_minutes=10)),
)
DECLARED_EXPECTED = parse_table(
    """
    08:40 1 running_late 45 09:45
    08:40 2 running_late 45 10:15
    08:40 3 running_late 45 10:45
    08:40 4 running_late 45 11:15
    08:40 5 running_late 45 11:45
    08:40 6 running_late 45 12:15
    08:40 7 running_late 45 12:45
    08:40 8 running_late 45 13:15
    09:50 2 running_late 30 10:00
    09:50 3 running_late 0 10:15
    09:50 4 running_late 0 10:40
    09:50 5 running_late 0 11:10
    09:50 6 running_late 0 11:40
    09:50 7 running_late 0 12:10
    09:50 8 running_late 0 12:40
    """
)

# Sixteen 15-minute appointments from 12:00. The second consult (12:15) runs
# 30 over, so at 13:00 the delay reaches 30 and bookings 6 to 16 (not yet
# checked in) are notified. At 13:50 reception records that the practitioner
# leaves at 14:00: booking 6 is in consult until 14:00, and bookings 7 and 8
# (13:30 and 13:45) are projected at 14:00 and 14:15, so they are cancelled
# and notified with bookings 9 to 16 (scheduled from 14:00); nobody hears of a
# delay after that.
LEAVES = Scenario(
    name="leaves",
    first_start="12:00",
    count=16,
    interval_minutes=15,
    duration_minutes=15,
    replay_from="11:50",
    replay_until="14:15",
    overrun_minutes={2: 30},
    declarations=(Declaration("13:50", away_from="14:00"),),
)
LEAVES_EXPECTED = parse_table(
    """
    13:00 6 running_late 30 13:45
    13:00 7 running_late 30 14:00
    13:00 8 running_late 30 14:15
    13:00 9 running_late 30 14:30
    13:00 10 running_late 30 14:45
    13:00 11 running_late 30 15:00
    13:00 12 running_late 30 15:15
    13:00 13 running_late 30 15:30
    13:00 14 running_late 30 15:45
    13:00 15 running_late 30 16:00
    13:00 16 running_late 30 16:15
    13:50 7 session_cancelled - -
    13:50 8 session_cancelled - -
    13:50 9 session_cancelled - -
    13:50 10 session_cancelled - -
    13:50 11 session_cancelled - -
    13:50 12 session_cancelled - -
    13:50 13 session_cancelled - -
    13:50 14 session_cancelled - -
    13:50 15 session_cancelled - -
    13:50 16 session_cancelled - -
    """
)

SCENARIOS = [
    pytest.param(OVERRUNS, OVERRUNS_EXPECTED, id="overruns-3rd-by-25-7th-by-20"),
    pytest.param(DECLARED, DECLARED_EXPECTED, id="declared-45-drops-to-10"),
    pytest.param(LEAVES, LEAVES_EXPECTED, id="leaves-at-14"),
]


def check_replay(scenario: Scenario, expected: list[Issued], driver: DayDriver) -> None:
    """Replay ``scenario`` on ``driver`` and check the notices against the table."""
    issued = replay_day(scenario, driver)

    assert sorted(issued, key=_order) == sorted(expected, key=_order)
    steps = Counter((item.number, item.kind, item.step) for item in issued)
    assert [key for key, count in steps.items() if count > 1] == []


def _order(item: Issued) -> tuple[str, int, str]:
    return (item.at_text, item.number, item.kind)


@pytest.mark.parametrize(("scenario", "expected"), SCENARIOS)
def test_scenario_pure(scenario: Scenario, expected: list[Issued]) -> None:
    """The pure projection and policy notify exactly the patients in the table, once per step."""
    check_replay(scenario, expected, PureDayDriver(scenario))


def test_notices_go_soonest_first() -> None:
    """Within one minute, notices are issued in the order of the appointments they concern."""
    issued = replay_day(OVERRUNS, PureDayDriver(OVERRUNS))

    at_1115 = [item.number for item in issued if item.at_text == "11:15"]
    assert at_1115 == sorted(at_1115)
    assert at_1115 == [11, 12, 13, 14, 15, 16]


@pytest.mark.parametrize(("scenario", "expected"), SCENARIOS)
def test_scenario_database(
    session_factory: sessionmaker[Session], scenario: Scenario, expected: list[Issued]
) -> None:
    """Every event through the booking core and the outbox notifies exactly the patients in the table."""
    check_replay(scenario, expected, DatabaseDayDriver(session_factory, scenario))
