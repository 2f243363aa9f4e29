"""`sealbook relay [--once]`: the relay's composition root, reading only the relay's settings and keys."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
from collections import Counter
from typing import Annotated, TextIO

import typer

from crypto import KeyringError, load_relay_keyring
from relay.lock import SqliteRelayLock, sqlite_database_file
from relay.retry import RetryPolicy
from relay.settings import RelayWorkerSettings
from relay.transports import build_transport
from relay.worker import RelayWorker, WorkerConfig
from sealbook.cli_support import HomeOption
from sealbook.clock import Clock, clock_from_env
from sealbook.errors import ConfigError
from sealbook.logs import configure_logging
from sealbook.settings import load_settings
from storage import db

# Used in calendar UIDs and as the organizer when no sender address is configured.
FALLBACK_DOMAIN = "sealbook.invalid"


def relay_command(
    home: HomeOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Deliver the notices due now, then exit instead of polling.")
    ] = False,
) -> None:
    """Deliver queued notices over Telegram, SMS and e-mail, or print them with the console transport."""
    settings = load_settings(RelayWorkerSettings, home)
    configure_logging(settings.log_level)
    stats = run_relay(settings, once=once)
    typer.echo(
        f"relay finished: {stats['sent']} sent, {stats['pending']} left pending (to retry, or waiting for a chat reply record), "
        f"{stats['failed']} failed, {stats['undeliverable']} undeliverable, {stats['skipped']} skipped"
    )


def run_relay(
    settings: RelayWorkerSettings,
    *,
    once: bool,
    clock: Clock | None = None,
    console: TextIO | None = None,
) -> Counter[str]:
    """Check the settings, take the SQLite lock if needed, and run one relay worker to its end."""
    settings.check()
    clock = clock or clock_from_env()
    try:
        keyring = load_relay_keyring(settings.keys_dir)
    except KeyringError as error:
        raise ConfigError(str(error)) from None

    engine = db.make_engine(settings.effective_database_url)
    try:
        current = db.current_revision(engine)
        if current != db.head_revision():
            raise ConfigError(
                f"the database is at migration {current or 'none'}, not the newest; run: sealbook db upgrade"
            )
        database_file = sqlite_database_file(engine.url)
        lock = SqliteRelayLock(database_file) if database_file else contextlib.nullcontext()
        with lock:
            worker = RelayWorker(
                db.make_session_factory(engine),
                keyring,
                build_transport(settings, clock, console),
                worker_config(settings),
                clock,
            )
            return asyncio.run(_run_until_signalled(worker, once=once))
    finally:
        engine.dispose()


def worker_config(settings: RelayWorkerSettings) -> WorkerConfig:
    """Turn settings into the worker's configuration, with a lease owner name unique to this process."""
    sender = settings.email_from or f"notices@{FALLBACK_DOMAIN}"
    domain = sender.rpartition("@")[2] or FALLBACK_DOMAIN
    return WorkerConfig(
        owner=f"{socket.gethostname()[:32]}-{os.getpid()}-{secrets.token_hex(3)}",
        lease=settings.lease,
        concurrency=settings.concurrency,
        poll_seconds=settings.poll_milliseconds / 1000,
        retry=RetryPolicy(
            max_attempts=settings.max_attempts,
            base_seconds=settings.retry_base_seconds,
            cap_seconds=settings.retry_max_seconds,
        ),
        pacing=settings.pacing(),
        organizer_email=sender,
        uid_domain=domain,
    )


async def _run_until_signalled(worker: RelayWorker, *, once: bool) -> Counter[str]:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, worker.stop)
    try:
        return await worker.run(once=once)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
