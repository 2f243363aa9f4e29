"""The board's route: token handling, headers and the page it renders."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from booking.projection import DayBooking, project_day
from bot.board import BoardView, board_routes, build_board_view, render_board
from sealbook.clock import FixedClock
from sealbook.errors import ConfigError
from sealbook.settings import FrontSettings
from storage import db

TOKEN = "board-token-for-tests-0123456789"
ZONE = ZoneInfo("Australia/Sydney")
NOW = datetime(2027, 3, 9, 23, 10, tzinfo=UTC)  # 10:10 in Sydney


def settings(tmp_path: Path, token: str) -> FrontSettings:
    """Return front settings with only the board token set."""
    return FrontSettings(home=tmp_path, board_token=token)


def view(_session: Session, now: datetime) -> BoardView:
    """Return the board of one practitioner 35 minutes behind, with a name that needs escaping."""
    day = [
        DayBooking(
            1, "K7QM-4X2P", now - timedelta(minutes=40), timedelta(minutes=15), "arrived", started_at=now
        ),
        DayBooking(2, "H3RT-9W1C", now - timedelta(minutes=20), timedelta(minutes=15), "booked"),
        DayBooking(3, "M2ZD-7Q4E", now, timedelta(minutes=15), "booked"),
    ]
    return build_board_view("Harbour <Street>", ZONE, now, [("Dr Lee", project_day(day, now))])


@pytest.fixture
def factory(sqlite_url: str) -> sessionmaker[Session]:
    """Return a session factory on a migrated SQLite file."""
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    return db.make_session_factory(engine)


async def get(
    tmp_path: Path, factory: sessionmaker[Session], path: str, token: str = TOKEN
) -> httpx.Response:
    """Request ``path`` from an app holding only the board's routes."""
    routes = board_routes(settings(tmp_path, token), factory, FixedClock(NOW), source=view)
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://board.test") as client:
        return await client.get(path)


async def test_no_token_no_route(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    """Without a configured token there is no board route at all."""
    assert board_routes(settings(tmp_path, ""), factory, FixedClock(NOW), source=view) == []
    assert (await get(tmp_path, factory, "/board/anything", token="")).status_code == 404


def test_short_token_rejected(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    """A guessable token stops the server with a message that names the setting."""
    with pytest.raises(ConfigError, match="SEALBOOK_BOARD_TOKEN"):
        board_routes(settings(tmp_path, "short"), factory, FixedClock(NOW), source=view)


@pytest.mark.parametrize("path", ["/board/wrong-token-of-some-length", f"/board/{TOKEN}x", "/board/"])
async def test_wrong_token_not_found(tmp_path: Path, factory: sessionmaker[Session], path: str) -> None:
    """A wrong or missing token gets a plain 404 that shows nothing of the board."""
    response = await get(tmp_path, factory, path)

    assert response.status_code == 404
    assert "K7QM" not in response.text


async def test_wrong_tokens_logged_sparsely(
    tmp_path: Path, factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    """Nine wrong tokens are logged at the 1st, 2nd, 4th and 8th, each line without the token."""
    routes = board_routes(settings(tmp_path, TOKEN), factory, FixedClock(NOW), source=view)
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    with caplog.at_level(logging.INFO):
        async with httpx.AsyncClient(transport=transport, base_url="http://board.test") as client:
            statuses = [
                (await client.get(f"/board/guess-{attempt:02d}-of-a-token")).status_code
                for attempt in range(9)
            ]

    assert statuses == [404] * 9
    # httpx logs each request URL itself, so only sealbook's own loggers are checked.
    our_lines = [record for record in caplog.records if record.name.startswith("bot.")]
    assert [record.getMessage() for record in our_lines] == [
        f"rejected board request: wrong token ({count} so far)" for count in (1, 2, 4, 8)
    ]
    assert all(record.levelno == logging.WARNING for record in our_lines)


async def test_board_shows_delay_and_references(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    """The right token shows each remaining booking with its expected time, escaped and uncached."""
    response = await get(tmp_path, factory, f"/board/{TOKEN}")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "Running 35 minutes late" in response.text
    assert "H3RT-9W1C" in response.text
    assert "M2ZD-7Q4E" in response.text
    assert "K7QM-4X2P" not in response.text  # in consult, no longer waiting
    assert "Harbour &lt;Street&gt;" in response.text
    assert '<meta http-equiv="refresh" content="30">' in response.text


def test_board_limits_rows() -> None:
    """A long day shows the next eight bookings and a count of the rest."""
    board = build_board_view(
        "Clinic",
        ZONE,
        NOW,
        [
            (
                "Dr Lee",
                project_day(
                    [
                        DayBooking(
                            n, f"REF{n:02d}", NOW + timedelta(minutes=15 * n), timedelta(minutes=15), "booked"
                        )
                        for n in range(1, 12)
                    ],
                    NOW,
                ),
            )
        ],
    )

    page = render_board(board)

    assert page.count("data-reference=") == 8
    assert "and 3 more" in page


def test_empty_board_says_so() -> None:
    """A day with no practitioner left shows that nothing remains."""
    page = render_board(BoardView("Clinic", "17:30", ()))

    assert "No appointments remain today." in page
