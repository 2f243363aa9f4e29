"""A client that closes the connection before its whole body arrives is counted, not logged as an error.

Each test serves the real app with uvicorn on loopback and talks to it over a
raw socket, because an HTTP client library always sends the body it declares.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from bot.sms import SIGNATURE_HEADER
from bot.telegram_webhook import SECRET_HEADER
from sealbook.logs import throttle_repeats
from tests.bot.conftest import TELEGRAM_SECRET
from tests.bot.loopback import serve_on_loopback

DISCONNECT_REASON = "client disconnected before the whole body arrived"
# The SMS handler checks the signature only after reading the body, so any value gets that far.
SMS_HEADERS = f"{SIGNATURE_HEADER}: any-signature\r\n"
TELEGRAM_HEADERS = f"{SECRET_HEADER}: {TELEGRAM_SECRET}\r\n"


def _declared_longer(path: str, headers: str) -> bytes:
    """Return a request that declares 1000 body bytes and carries 7."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: 1000\r\n\r\n"
    return head.encode("ascii") + b"Body=hi"


def _chunked_cut_off(path: str, headers: str) -> bytes:
    """Return a chunked request that ends after its first chunk, with no last chunk."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Transfer-Encoding: chunked\r\n\r\n"
    return head.encode("ascii") + b"7\r\nBody=hi\r\n"


def _chunked_invalid(path: str, headers: str) -> bytes:
    """Return a chunked request whose chunk size is not hexadecimal, so uvicorn sends 400 and closes."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Transfer-Encoding: chunked\r\n\r\n"
    return head.encode("ascii") + b"zz\r\nBody=hi\r\n0\r\n\r\n"


class _RecordList(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _server_log_records() -> Iterator[list[logging.LogRecord]]:
    """Collect the records of uvicorn's loggers and of the app's, which log to the root logger.

    uvicorn's default logging set-up stops its records at the ``uvicorn``
    logger, so caplog, which listens on the root logger, would miss them.
    """
    handler = _RecordList()
    watched = [logging.getLogger("uvicorn"), logging.getLogger()]
    for logger in watched:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in watched:
            logger.removeHandler(handler)


def _send_and_close(base_url: str, request: bytes) -> None:
    address = urlsplit(base_url)
    assert address.hostname is not None
    assert address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(request)


def _wait_for_outcome(app: Starlette, channel: str, records: list[logging.LogRecord]) -> None:
    """Wait until the disconnect is counted or an error is logged, for at most 5 seconds."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if app.state.rejections.count(channel, DISCONNECT_REASON) > 0:
            return
        if any(record.levelno >= logging.ERROR for record in records):
            return
        time.sleep(0.02)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("path", "channel", "headers"),
    [("/sms", "sms", SMS_HEADERS), ("/telegram", "telegram", TELEGRAM_HEADERS)],
    ids=["sms", "telegram"],
)
@pytest.mark.parametrize("build_request", [_declared_longer, _chunked_cut_off, _chunked_invalid])
def test_disconnect_mid_body_logs_no_error(
    webhook_app: Starlette,
    path: str,
    channel: str,
    headers: str,
    build_request: Callable[[str, str], bytes],
) -> None:
    """A body cut short by the client gets one rejection warning, no ERROR or traceback, and the server stays up."""
    request = build_request(path, headers)

    with serve_on_loopback(webhook_app, lifespan="on") as url, _server_log_records() as records:
        _send_and_close(url, request)
        _wait_for_outcome(webhook_app, channel, records)
        health = httpx.get(url + "/healthz", timeout=5)

    errors = [record.getMessage() for record in records if record.levelno >= logging.ERROR]
    tracebacks = [record.getMessage() for record in records if record.exc_info is not None]
    warnings = [record.getMessage() for record in records if record.name == "bot._http"]
    assert errors == []
    assert tracebacks == []
    assert warnings == [f"rejected {channel} webhook request: {DISCONNECT_REASON} (1 so far)"]
    assert webhook_app.state.rejections.count(channel, DISCONNECT_REASON) == 1
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_junk_requests_warn_thinned(webhook_app: Starlette) -> None:
    """Twenty malformed requests give uvicorn's warning at the 1st, 2nd, 4th, 8th and 16th only."""
    uvicorn_errors = logging.getLogger("uvicorn.error")
    throttle = throttle_repeats("uvicorn.error")
    try:
        with serve_on_loopback(webhook_app, lifespan="on") as url, _server_log_records() as records:
            for _ in range(20):
                _send_and_close(url, b"NOT HTTP AT ALL\r\n\r\n")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and len(_invalid_request_warnings(records)) < 5:
                time.sleep(0.02)
            time.sleep(0.2)
            health = httpx.get(url + "/healthz", timeout=5)
    finally:
        uvicorn_errors.removeFilter(throttle)

    assert _invalid_request_warnings(records) == [
        "Invalid HTTP request received.",
        "Invalid HTTP request received. (2 so far)",
        "Invalid HTTP request received. (4 so far)",
        "Invalid HTTP request received. (8 so far)",
        "Invalid HTTP request received. (16 so far)",
    ]
    assert health.status_code == 200


def _invalid_request_warnings(records: list[logging.LogRecord]) -> list[str]:
    return [record.getMessage() for record in records if "Invalid HTTP request" in record.getMessage()]
