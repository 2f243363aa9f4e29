"""The waiting-room board in headless Chromium, served by uvicorn on loopback from a real database."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from bot.board import board_routes
from sealbook.clock import FixedClock
from sealbook.settings import FrontSettings
from storage import db
from tests.booking.late_db_driver import DatabaseDayDriver
from tests.booking.late_replay import Scenario, at
from tests.bot.chromium import dump_dom, require_chromium, screenshot
from tests.bot.loopback import serve_on_loopback

Factory = sessionmaker[Session]
TOKEN = "waiting-room-board-token-0123456789"
REPOSITORY = Path(__file__).resolve().parents[2]
# Set to 1 to refresh the screenshot kept in docs/.
KEEP_SCREENSHOT = os.environ.get("SEALBOOK_UPDATE_BOARD_SCREENSHOT", "") == "1"

MORNING = Scenario(
    name="morning",
    first_start="09:00",
    count=10,
    interval_minutes=15,
    duration_minutes=15,
    replay_from="08:00",
    replay_until="08:00",
)


@pytest.fixture
def delayed_day(session_factory: Factory) -> DatabaseDayDriver:
    """Return a morning in progress: booking 1 seen, booking 2 in consult, Dr Lee declared 40 minutes late."""
    require_chromium()
    driver = DatabaseDayDriver(session_factory, MORNING)
    driver.start_consult(1, at("09:00"))
    driver.finish_consult(1, at("09:20"))
    driver.start_consult(2, at("09:20"))
    driver.check_in(3, at("09:25"))
    driver.declare_late(40, at("09:30"))
    return driver


def rendered_rows(dom: str) -> list[tuple[str, str, str]]:
    """Return (reference, booked for, expected) of every row the browser rendered."""
    pattern = re.compile(
        r'<tr data-reference="([^"]+)"><td>[^<]+</td><td>([^<]+)</td><td class="expected">([^<]+)</td></tr>'
    )
    return pattern.findall(dom)


def test_board_after_declared_delay(
    session_factory: Factory, delayed_day: DatabaseDayDriver, tmp_path: Path
) -> None:
    """After a 40-minute declaration the board shows the delay and each remaining booking's new time."""
    settings = FrontSettings(home=tmp_path, board_token=TOKEN)
    app = Starlette(routes=board_routes(settings, session_factory, FixedClock(at("09:30"))))

    with serve_on_loopback(app) as base_url:
        dom = dump_dom(f"{base_url}/board/{TOKEN}")
        wrong = dump_dom(f"{base_url}/board/not-the-token-at-all-000000")
        target = REPOSITORY / "docs" / "board.png" if KEEP_SCREENSHOT else tmp_path / "board.png"
        screenshot(f"{base_url}/board/{TOKEN}", target)

    references = delayed_day.references
    assert "Harbour Street Medical" in dom
    assert "Running 40 minutes late" in dom
    assert rendered_rows(dom)[:3] == [
        (references[3], "09:30", "10:10"),
        (references[4], "09:45", "10:25"),
        (references[5], "10:00", "10:40"),
    ]
    assert len(rendered_rows(dom)) == 8
    assert references[1] not in dom  # seen and gone
    assert references[2] not in dom  # in consult
    assert '<meta http-equiv="refresh" content="30">' in dom
    assert "Not Found" in wrong
    assert references[3] not in wrong
    assert target.stat().st_size > 10_000


def test_board_unavailable_database(tmp_path: Path) -> None:
    """With the database unreachable the screen gets a 503 page that keeps refreshing, not a traceback."""
    require_chromium()
    engine = db.make_engine(f"sqlite+pysqlite:///{tmp_path / 'missing' / 'none.sqlite3'}")
    settings = FrontSettings(home=tmp_path, board_token=TOKEN)
    app = Starlette(routes=board_routes(settings, db.make_session_factory(engine), FixedClock(at("09:30"))))

    with serve_on_loopback(app) as base_url:
        dom = dump_dom(f"{base_url}/board/{TOKEN}")

    assert "Waiting times are not available right now." in dom
    assert '<meta http-equiv="refresh" content="30">' in dom
    assert "Traceback" not in dom
