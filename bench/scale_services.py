"""Scale figures of the running services: webhook turns through `sealbook serve`, and relay notices.

Both start real `sealbook` processes on a fresh home: `sealbook serve` on a
loopback port for the webhook turns and its memory, and one or two
`sealbook relay --once` processes sending SMS to a loopback Twilio stand-in.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

BIN = Path(sys.executable).parent
START = datetime(2027, 3, 8, 20, 0, tzinfo=UTC)  # Tue 9 Mar 2027 07:00 in Sydney
PUBLIC_URL = "https://book.bench.example"
TELEGRAM_TOKEN = "700000001:" + "B" * 35
ACCOUNT_SID = "AC" + "1" * 32
API_KEY = "SK" + "2" * 32
SENDER_COUNT = 50


def _available(module: str) -> bool:
    """Return whether `module` can be imported, its parent package included."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _environment(home: Path, database_url: str | None, extra: dict[str, str]) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("SEALBOOK_")}
    environment.update(SEALBOOK_HOME=str(home), SEALBOOK_LOG_LEVEL="WARNING", **extra)
    if database_url:
        environment["SEALBOOK_DATABASE_URL"] = database_url
    return environment


def _init_home(home: Path, environment: dict[str, str]) -> None:
    subprocess.run(
        [str(BIN / "sealbook"), "init", "--demo-clinic"],
        env=environment,
        check=True,
        capture_output=True,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _resident_kib(pid: int, field: str) -> int:
    """Return a memory field (VmRSS, VmHWM) of a process from /proc, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


@contextlib.contextmanager
def _serve(environment: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run `sealbook serve` on a free loopback port until the block ends."""
    import httpx

    port = _free_port()
    process = subprocess.Popen(
        [str(BIN / "sealbook"), "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sealbook serve did not start; run it by hand to see why")
            time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _turns_per_second(base: str, auth_token: str, turns: int, threads: int) -> float:
    """Send `turns` signed SMS webhooks from `threads` threads; return turns per second."""
    import httpx
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(auth_token)
    errors: list[str] = []

    def send(share: range) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            for number in share:
                params = {
                    "MessageSid": "SM" + secrets.token_hex(16),
                    "From": f"+6149157{number % SENDER_COUNT + 1000:04d}",
                    "To": "+61255501234",
                    "Body": "status" if number % 2 else "menu",
                }
                signature = validator.compute_signature(PUBLIC_URL + "/sms", params)
                response = client.post("/sms", data=params, headers={"X-Twilio-Signature": signature})
                if response.status_code != 200:
                    errors.append(str(response.status_code))

    shares = [range(index, turns, threads) for index in range(threads)]
    workers = [threading.Thread(target=send, args=(share,)) for share in shares]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} webhook turns failed, first with status {errors[0]}")
    return turns / elapsed


def _health_per_second(base: str, count: int) -> float:
    import httpx

    with httpx.Client(base_url=base, timeout=30) as client:
        started = time.perf_counter()
        for _ in range(count):
            client.get("/healthz")
        return count / (time.perf_counter() - started)


def bench_webhooks(turns: int) -> None:
    """Print webhook turns per second and the memory of `sealbook serve`."""
    print(f"webhook turns ({turns} signed POST /sms to sealbook serve, SQLite):")
    if not _available("bot.app"):
        print("  not measured yet: the webhook server is not in this version")
        return
    auth_token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        environment = _environment(
            home,
            None,
            {
                "SEALBOOK_NOW": START.isoformat(),
                "SEALBOOK_PUBLIC_URL": PUBLIC_URL,
                "SEALBOOK_TWILIO_AUTH_TOKEN": auth_token,
                # Every sender sends a few messages a second here, far above a person's rate.
                "SEALBOOK_MESSAGES_PER_MINUTE": "100000",
            },
        )
        _init_home(home, environment)
        with _serve(environment) as (base, process):
            idle_kib = _resident_kib(process.pid, "VmRSS")
            baseline = _health_per_second(base, turns)
            one = _turns_per_second(base, auth_token, turns, threads=1)
            four = _turns_per_second(base, auth_token, turns, threads=4)
            busy_kib = _resident_kib(process.pid, "VmRSS")
            peak_kib = _resident_kib(process.pid, "VmHWM")
    print(
        f"  {one:.0f} turns/s from 1 client, {four:.0f}/s from 4 clients; "
        f"baseline {baseline:.0f} GET /healthz/s; ratio {one / baseline:.3f} (1 client)"
    )
    print(
        f"  sealbook serve memory: {idle_kib / 1024:.0f} MiB resident when ready, "
        f"{busy_kib / 1024:.0f} MiB after the turns, peak {peak_kib / 1024:.0f} MiB"
    )


def _queue_notices(home: Path, database_url: str | None, count: int, now: datetime) -> None:
    """Book `count` consultations as staff for as many SMS contacts; each queues one confirmation due `now`."""
    from booking.service import find_slots
    from booking.store import load_clinic
    from bot.contacts import resolve_contact
    from crypto import load_front_keyring
    from sealbook.settings import CommonSettings, load_settings
    from storage import db

    settings = load_settings(CommonSettings, home, environ=_environment(home, database_url, {}))
    keyring = load_front_keyring(settings.keys_dir)
    engine = db.make_engine(settings.effective_database_url)
    factory = db.make_session_factory(engine)
    try:
        with factory() as session:
            clinic = load_clinic(session)
            slots = find_slots(
                session, clinic, appointment_type_id="standard", now=now + timedelta(days=1), limit=count
            )
        from booking.service import book

        for number, slot in enumerate(slots):
            with db.session_scope(factory) as session:
                contact = resolve_contact(
                    session, keyring, "sms", f"+6149157{number + 2000:04d}", default_region="AU", now=now
                )
                book(
                    session,
                    clinic,
                    contact_id=contact.contact_id,
                    appointment_type_id=slot.appointment_type_id,
                    practitioner_id=slot.practitioner_id,
                    starts_at=slot.starts_at,
                    now=now,
                    actor="staff:bench",
                )
    finally:
        engine.dispose()


def _requeue(home: Path, database_url: str | None) -> None:
    """Put every confirmation back to pending, so the next run sends the same notices again."""
    from sqlalchemy import delete, update

    from sealbook.settings import CommonSettings, load_settings
    from storage import db
    from storage.models.outbox import DeliveryAttempt, Notice

    settings = load_settings(CommonSettings, home, environ=_environment(home, database_url, {}))
    engine = db.make_engine(settings.effective_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(delete(DeliveryAttempt))
            connection.execute(
                update(Notice)
                .where(Notice.kind == "booking_confirmed")
                .values(
                    status="pending", attempts=0, lease_owner=None, lease_expires_at=None, finished_at=None
                )
            )
    finally:
        engine.dispose()


def _relays(environment: dict[str, str], workers: int) -> None:
    """Run `workers` relay processes with --once at the same time, until all have finished."""
    processes = [
        subprocess.Popen(
            [str(BIN / "sealbook"), "relay", "--once"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(workers)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=600)
        if process.returncode != 0:
            raise RuntimeError(f"sealbook relay failed: {stderr.decode(errors='replace').strip()[-300:]}")


def _sending_seconds(home: Path, database_url: str | None) -> float:
    """Return the time from the first to the last delivery attempt, as the relays recorded them."""
    from sqlalchemy import func, select

    from sealbook.settings import CommonSettings, load_settings
    from storage import db
    from storage.models.outbox import DeliveryAttempt

    settings = load_settings(CommonSettings, home, environ=_environment(home, database_url, {}))
    engine = db.make_engine(settings.effective_database_url)
    try:
        with engine.connect() as connection:
            first, last = connection.execute(
                select(func.min(DeliveryAttempt.at), func.max(DeliveryAttempt.at))
            ).one()
    finally:
        engine.dispose()
    return float((last - first).total_seconds())


def _relay_rates(label: str, database_url: str | None, notices: int, worker_counts: list[int]) -> None:
    """Print notices per second for each relay count, from the relays' own delivery records.

    Timing the processes from outside would count Python's start-up, which
    takes longer than sending a few hundred notices on a loaded machine.
    """
    from sealbook.standins.server import serve_in_background
    from sealbook.standins.twilio_api import TwilioApiStandin

    secret = secrets.token_hex(16)
    twilio = TwilioApiStandin(ACCOUNT_SID, {API_KEY: secret})
    with tempfile.TemporaryDirectory() as folder, serve_in_background(twilio.app) as twilio_url:
        home = Path(folder) / "home"
        environment = _environment(
            home,
            database_url,
            {
                "SEALBOOK_RELAY_TRANSPORT": "live",
                "SEALBOOK_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "SEALBOOK_TWILIO_API_KEY": API_KEY,
                "SEALBOOK_TWILIO_API_SECRET": secret,
                "SEALBOOK_TWILIO_API_URL": twilio_url,
                "SEALBOOK_SMS_FROM": "+61255501234",
                "SEALBOOK_RELAY_SMS_PER_SECOND": "100000",
                "SEALBOOK_RELAY_POLL_MILLISECONDS": "50",
            },
        )
        _init_home(home, environment)
        # Real time: the relays run on the system clock, so their records can be compared.
        _queue_notices(home, database_url, notices, datetime.now(UTC))
        baseline = 0.0
        for workers in worker_counts:
            before = len(twilio.messages)
            _relays(environment, workers)
            sent = len(twilio.messages) - before
            if sent != notices:
                raise RuntimeError(f"{workers} relay(s) sent {sent} SMS for {notices} notices")
            seconds = _sending_seconds(home, database_url)
            rate = (notices - 1) / seconds if seconds > 0 else float("inf")
            baseline = baseline or rate
            print(
                f"  {label}, {workers} relay(s): {rate:.0f} notices/s "
                f"(first to last send {seconds:.2f} s); ratio {rate / baseline:.2f} to 1 relay"
            )
            _requeue(home, database_url)


def bench_relay(notices: int, postgres_url: str | None) -> None:
    """Print relay notices per second with one relay on SQLite, and one and two relays on PostgreSQL."""
    print(f"relay notices ({notices} SMS confirmations to the Twilio stand-in per run):")
    if not _available("relay.worker"):
        print("  not measured yet: the relay is not in this version")
        return
    _relay_rates("SQLite", None, notices, [1])
    if postgres_url is not None:
        _relay_rates("PostgreSQL", postgres_url, notices, [1, 2])
