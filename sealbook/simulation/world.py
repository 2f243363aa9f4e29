"""The simulated clinic's surroundings: stand-ins of Telegram, Twilio and SMTP, the front, the relay and staff.

Everything listens on 127.0.0.1. The front and the relay run in this process
with the simulation's clock. The staff tool runs in this process too, told
the simulated time through ``SEALBOOK_NOW``, and what it prints is kept for
the leak check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from starlette.applications import Starlette

from booking.store import load_clinic
from bot.app import create_app
from bot.front import Front, build_front
from crypto import load_relay_keyring
from relay.cli import worker_config
from relay.settings import RelayWorkerSettings
from relay.transports import build_transport
from relay.worker import RelayWorker
from sealbook.clock import FixedClock
from sealbook.errors import SealbookError
from sealbook.settings import FrontSettings, load_settings
from sealbook.simulation.staff import StaffRun, run_staff_command
from sealbook.standins.server import serve_in_background
from sealbook.standins.smtp import SmtpMode, SmtpServer, serve_smtp
from sealbook.standins.telegram_api import TelegramApiStandin
from sealbook.standins.twilio_api import TwilioApiStandin

logger = logging.getLogger(__name__)

PUBLIC_URL = "https://book.harbourside.example"
"""The URL Telegram and Twilio are told to call; the front listens elsewhere, as behind a TLS proxy."""
CLINIC_SMS_NUMBER = "+61255501234"
STAFF_COMMAND_TIME = timedelta(seconds=30)
TELEGRAM_TOKEN = "700000001:" + "S" * 35
ACCOUNT_SID = "AC" + "5" * 32
API_KEY_SID = "SK" + "6" * 32


class ServerStartError(SealbookError):
    """The simulated front did not start listening in time."""


# Loggers of the stand-ins, which play the providers' own servers: aiosmtpd
# logs each SMTP command, addresses included, as a real mail server would.
STANDIN_LOGGERS = ("mail.log",)


class LogCapture(logging.Handler):
    """Keeps every formatted log record of sealbook's own code for the leak check, stand-ins left out."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(STANDIN_LOGGERS):
            return
        text = self.format(record)
        with self._guard:
            self.lines.append(text)


@dataclass
class Secrets:
    """The channel secrets of the simulated clinic, fresh for each run."""

    telegram_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    twilio_auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    twilio_api_secret: str = field(default_factory=lambda: secrets.token_hex(16))


@dataclass
class World:
    """Everything a simulated day talks to, running."""

    home: Path
    database_url: str
    clock: FixedClock
    secrets: Secrets
    front_settings: FrontSettings
    front: Front
    app: Starlette
    client: httpx.Client
    telegram: TelegramApiStandin
    twilio: TwilioApiStandin
    smtp: SmtpServer
    relay_settings: RelayWorkerSettings
    zone: ZoneInfo
    staff_runs: list[StaffRun] = field(default_factory=list)
    relay_stats: Counter[str] = field(default_factory=Counter)

    @property
    def signed_sms_url(self) -> str:
        return PUBLIC_URL + "/sms"

    def advance_to(self, hours: int, minutes: int = 0) -> None:
        """Move the clock to a local time of the simulated day's date."""
        local = self.clock.now().astimezone(self.zone)
        target = local.replace(hour=hours, minute=minutes, second=0, microsecond=0)
        if target < local:
            raise ValueError(f"the simulated clock cannot go back from {local:%H:%M} to {target:%H:%M}")
        self.clock.set(target)

    def run_relay(self) -> Counter[str]:
        """Deliver every notice due now, with the live senders pointed at the stand-ins."""
        clock = self.clock

        async def advance(seconds: float) -> None:
            # Rate-limit waits pass on the simulated clock, so the day is not slowed down.
            clock.advance(timedelta(seconds=seconds))
            await asyncio.sleep(0)

        worker = RelayWorker(
            self.front.session_factory,
            load_relay_keyring(self.relay_settings.keys_dir),
            build_transport(self.relay_settings, clock),
            worker_config(self.relay_settings),
            clock,
            sleep=advance,
        )
        stats = asyncio.run(worker.run(once=True))
        self.relay_stats.update(stats)
        return stats

    def staff(self, *arguments: str) -> StaffRun:
        """Run ``sealbook-admin ARGUMENTS`` at the simulated time, keeping what it printed for the leak check."""
        # DEBUG makes the leak check cover every log line the tool can write.
        run = run_staff_command(
            self.home, self.database_url, self.clock.now(), list(arguments), log_level="DEBUG"
        )
        self.staff_runs.append(run)
        # The tool's clock ran on in real time from the simulated instant, so
        # what it queued is due a moment later. Staff take that long anyway.
        self.clock.advance(STAFF_COMMAND_TIME)
        return run


@contextlib.contextmanager
def serve_front(app: Starlette) -> Iterator[str]:
    """Serve the front app on a free loopback port with its lifespan; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="sim-front", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ServerStartError("the simulated front did not start within 15 s; see the log above")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def channel_environment(home: Path, database_url: str, keys: Secrets, urls: dict[str, str]) -> dict[str, str]:
    """Return the SEALBOOK_* settings of the simulated clinic's front and relay."""
    environment = {
        "SEALBOOK_HOME": str(home),
        "SEALBOOK_PUBLIC_URL": PUBLIC_URL,
        "SEALBOOK_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "SEALBOOK_TELEGRAM_SECRET": keys.telegram_secret,
        "SEALBOOK_TELEGRAM_API_URL": urls["telegram"],
        "SEALBOOK_TWILIO_AUTH_TOKEN": keys.twilio_auth_token,
        "SEALBOOK_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "SEALBOOK_TWILIO_API_KEY": API_KEY_SID,
        "SEALBOOK_TWILIO_API_SECRET": keys.twilio_api_secret,
        "SEALBOOK_TWILIO_API_URL": urls["twilio"],
        "SEALBOOK_SMS_FROM": CLINIC_SMS_NUMBER,
        "SEALBOOK_SMTP_HOST": urls["smtp_host"],
        "SEALBOOK_SMTP_PORT": urls["smtp_port"],
        "SEALBOOK_SMTP_TLS": "none",
        "SEALBOOK_EMAIL_FROM": "bookings@harbourside.example",
        "SEALBOOK_RELAY_TRANSPORT": "live",
        # The stand-ins respond at once, so these limits only keep the relay from pacing the day's notices.
        "SEALBOOK_RELAY_SMS_PER_SECOND": "100",
        "SEALBOOK_RELAY_TELEGRAM_PER_SECOND": "100",
        "SEALBOOK_RELAY_EMAIL_PER_SECOND": "100",
        "SEALBOOK_RELAY_POLL_MILLISECONDS": "50",
    }
    if database_url:
        environment["SEALBOOK_DATABASE_URL"] = database_url
    return environment


@contextlib.contextmanager
def open_world(home: Path, database_url: str, clock: FixedClock) -> Iterator[World]:
    """Start the stand-ins and the front for an initialised home; stop everything afterwards."""
    keys = Secrets()
    telegram = TelegramApiStandin(TELEGRAM_TOKEN)
    twilio = TwilioApiStandin(ACCOUNT_SID, {API_KEY_SID: keys.twilio_api_secret})
    with (
        serve_in_background(telegram.app) as telegram_url,
        serve_in_background(twilio.app) as twilio_url,
        serve_smtp(SmtpMode.PLAIN) as smtp,
    ):
        urls = {
            "telegram": telegram_url,
            "twilio": twilio_url,
            "smtp_host": smtp.host,
            "smtp_port": str(smtp.port),
        }
        environment = channel_environment(home, database_url, keys, urls)
        front_settings = load_settings(FrontSettings, home, environ=environment)
        relay_settings = load_settings(RelayWorkerSettings, home, environ=environment)
        relay_settings.check()
        front = build_front(front_settings, clock)
        try:
            with front.session_factory() as session:
                zone = load_clinic(session).zone
            app = create_app(front_settings, front.session_factory, clock, front.handler, clinic=front.clinic)
            with serve_front(app) as front_url, httpx.Client(base_url=front_url, timeout=30) as client:
                yield World(
                    home=home,
                    database_url=database_url,
                    clock=clock,
                    secrets=keys,
                    front_settings=front_settings,
                    front=front,
                    app=app,
                    client=client,
                    telegram=telegram,
                    twilio=twilio,
                    smtp=smtp,
                    relay_settings=relay_settings,
                    zone=zone,
                )
        finally:
            front.close()
