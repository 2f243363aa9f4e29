"""The waiting-room board: each practitioner's delay and the expected start of each remaining booking.

The page is served at ``GET /board/{token}``, where the token is
``SEALBOOK_BOARD_TOKEN``. With no token configured there is no route at all,
and a wrong token gets the same 404 as any unknown path. The page names
bookings by reference only and holds no patient data. It reloads itself with
a meta refresh, so a waiting-room screen needs nothing but a browser.

NOTE: the token travels in the URL path, so any access log in front of the
app (uvicorn's included) records it. Run ``sealbook serve`` without access
logging, or filter ``/board/`` paths out of the proxy's log.
"""

from __future__ import annotations

import hmac
import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from booking.errors import ClinicNotLoaded
from booking.late_views import practitioner_projections
from booking.projection import DayProjection
from bot._http import RejectionLog
from sealbook.clock import Clock
from sealbook.errors import ConfigError, SealbookError
from sealbook.settings import FrontSettings
from storage.models.clinic import ClinicRow

logger = logging.getLogger(__name__)

# 20 URL-safe characters carry about 120 bits, out of reach of guessing.
MIN_TOKEN_LENGTH = 20
REFRESH_SECONDS = 30
# Rows per practitioner that fit a television at reading distance.
MAX_ROWS = 8
RESPONSE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


@dataclass(frozen=True)
class BoardRow:
    """One remaining booking: reference and local ``HH:MM`` times."""

    reference: str
    scheduled: str
    expected: str
    delay_minutes: int


@dataclass(frozen=True)
class PractitionerBoard:
    """One practitioner's column: the name patients know, the current delay and the next bookings."""

    name: str
    delay_minutes: int
    rows: tuple[BoardRow, ...]


@dataclass(frozen=True)
class BoardView:
    """Everything the board shows at one instant."""

    clinic_name: str
    local_time: str
    practitioners: tuple[PractitionerBoard, ...]


BoardSource = Callable[[Session, datetime], BoardView]


def board_routes(
    settings: FrontSettings,
    session_factory: sessionmaker[Session],
    clock: Clock,
    source: BoardSource | None = None,
) -> list[Route]:
    """Return the board's route, or no route when no board token is configured.

    ``source`` reads the view from the database; it defaults to
    `read_board`, the live projection of today in the clinic's zone.
    """
    token = settings.board_token
    if not token:
        return []
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"SEALBOOK_BOARD_TOKEN must be at least {MIN_TOKEN_LENGTH} characters; make one with: "
            'python3 -c "import secrets; print(secrets.token_urlsafe(24))"'
        )
    expected = token.encode("utf-8")
    read_view = source if source is not None else read_board
    # Anyone can try tokens, so repeated rejections are logged sparsely, as for the webhooks.
    rejections = RejectionLog("request")

    def show_board(request: Request) -> Response:
        presented = str(request.path_params.get("token", "")).encode("utf-8")
        if not hmac.compare_digest(presented, expected):
            rejections.record("board", "wrong token")
            return PlainTextResponse("Not Found", status_code=404)
        try:
            with session_factory() as session:
                view = read_view(session, clock.now())
        except (SQLAlchemyError, SealbookError) as error:
            # The screen keeps refreshing, so it recovers by itself once the
            # database is back.
            logger.warning("board could not read the projection: %s", type(error).__name__)
            return HTMLResponse(UNAVAILABLE_PAGE, status_code=503, headers=RESPONSE_HEADERS)
        return HTMLResponse(render_board(view), headers=RESPONSE_HEADERS)

    # A sync endpoint runs in Starlette's thread pool, so the database work
    # does not block the event loop.
    return [Route("/board/{token}", show_board, methods=["GET"], name="board")]


def read_board(session: Session, now: datetime) -> BoardView:
    """Read today's board from the database: every practitioner with bookings today, in clinic order."""
    clinic = session.execute(
        select(ClinicRow.name, ClinicRow.time_zone).order_by(ClinicRow.id).limit(1)
    ).first()
    if clinic is None:
        raise ClinicNotLoaded()
    zone = ZoneInfo(clinic.time_zone)
    projections = practitioner_projections(session, now.astimezone(zone).date(), now)
    return build_board_view(
        clinic.name, zone, now, [(item.practitioner_name, item.projection) for item in projections]
    )


def build_board_view(
    clinic_name: str,
    zone: ZoneInfo,
    now: datetime,
    practitioners: Sequence[tuple[str, DayProjection]],
) -> BoardView:
    """Turn each practitioner's projection into the board's local-time view."""
    boards = tuple(
        PractitionerBoard(
            name=name,
            delay_minutes=projection.current_delay_minutes,
            rows=tuple(
                BoardRow(
                    reference=item.reference,
                    scheduled=_local_clock(item.scheduled_at, zone),
                    expected=_local_clock(item.expected_at, zone),
                    delay_minutes=item.delay_minutes,
                )
                for item in projection.bookings
            ),
        )
        for name, projection in practitioners
    )
    return BoardView(clinic_name=clinic_name, local_time=_local_clock(now, zone), practitioners=boards)


def _local_clock(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%H:%M}"


def render_board(view: BoardView) -> str:
    """Render the board as one self-contained HTML page."""
    columns = "\n".join(_render_practitioner(practitioner) for practitioner in view.practitioners)
    if not view.practitioners:
        columns = '<p class="empty">No appointments remain today.</p>'
    return PAGE.format(
        refresh=REFRESH_SECONDS,
        clinic=html.escape(view.clinic_name),
        now=html.escape(view.local_time),
        columns=columns,
    )


def describe_delay(delay_minutes: int) -> str:
    """Return the delay as the board words it."""
    if delay_minutes <= 0:
        return "On time"
    if delay_minutes == 1:
        return "Running 1 minute late"
    return f"Running {delay_minutes} minutes late"


def _render_practitioner(practitioner: PractitionerBoard) -> str:
    status_class = "late" if practitioner.delay_minutes > 0 else "ontime"
    shown: Sequence[BoardRow] = practitioner.rows[:MAX_ROWS]
    rows = "\n".join(
        f'<tr data-reference="{html.escape(row.reference)}">'
        f"<td>{html.escape(row.reference)}</td>"
        f"<td>{html.escape(row.scheduled)}</td>"
        f'<td class="expected">{html.escape(row.expected)}</td></tr>'
        for row in shown
    )
    more = len(practitioner.rows) - len(shown)
    more_line = f'<p class="more">and {more} more</p>' if more > 0 else ""
    if not practitioner.rows:
        rows = '<tr><td colspan="3">No more appointments today</td></tr>'
    return (
        f'<section class="practitioner" data-delay="{practitioner.delay_minutes}">'
        f"<h2>{html.escape(practitioner.name)}</h2>"
        f'<p class="status {status_class}">{describe_delay(practitioner.delay_minutes)}</p>'
        "<table><thead><tr><th>Booking</th><th>Booked for</th><th>Expected</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{more_line}</section>"
    )


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{refresh}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{clinic}: waiting times</title>
<style>
  body {{ margin: 0; padding: 2vh 2vw; background: #101820; color: #f4f4f4;
         font-family: "DejaVu Sans", Verdana, sans-serif; font-size: max(24px, 2.4vw); }}
  header {{ display: flex; justify-content: space-between; align-items: baseline; }}
  h1 {{ font-size: 1.6em; margin: 0 0 2vh 0; }}
  .clock {{ font-size: 1.6em; font-variant-numeric: tabular-nums; }}
  main {{ display: flex; flex-wrap: wrap; gap: 2vw; }}
  .practitioner {{ flex: 1 1 28em; background: #1d2b38; border-radius: 0.4em; padding: 1vh 1.5vw; }}
  h2 {{ font-size: 1.3em; margin: 0.3em 0; }}
  .status {{ font-size: 1.2em; font-weight: bold; margin: 0.2em 0 0.6em 0; }}
  .late {{ color: #ffc857; }}
  .ontime {{ color: #7bd389; }}
  table {{ width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }}
  th {{ text-align: left; font-size: 0.7em; color: #b8c4cf; font-weight: normal; }}
  td {{ padding: 0.25em 0; border-top: 1px solid #2e4153; }}
  td.expected {{ font-weight: bold; }}
  .more, .empty {{ color: #b8c4cf; }}
</style>
</head>
<body>
<header><h1>{clinic}</h1><span class="clock">{now}</span></header>
<main>
{columns}
</main>
</body>
</html>
"""

UNAVAILABLE_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<title>Waiting times</title>
</head>
<body style="background: #101820; color: #f4f4f4; font: 3vw sans-serif; padding: 4vh 4vw;">
<p>Waiting times are not available right now. This page will try again shortly.</p>
</body>
</html>
"""
