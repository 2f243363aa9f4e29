"""Serve an ASGI app with uvicorn in a background thread on a free loopback port."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from sealbook.errors import SealbookError

logger = logging.getLogger(__name__)

LOOPBACK_HOST = "127.0.0.1"


class StandinStartError(SealbookError):
    """A stand-in server did not start listening in time."""


@contextlib.contextmanager
def serve_in_background(app: ASGIApp, *, start_timeout_seconds: float = 10.0) -> Iterator[str]:
    """Run `app` on 127.0.0.1 and a free port for the duration of the block.

    Yields the base URL (`http://127.0.0.1:PORT`, no trailing slash). The socket is
    bound before uvicorn starts, so the port cannot be taken between choosing and
    serving it. On exit the server is asked to stop and its thread is joined.
    """
    # The protocol must be named: asyncio (3.11) sets TCP_NODELAY only on connections
    # whose socket says IPPROTO_TCP. Made with protocol 0, Nagle's algorithm meets the
    # client's delayed ACK and every keep-alive response stalls about 40 ms.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK_HOST, 0))
    port = sock.getsockname()[1]

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        # Keep-alive connections would hold shutdown open for the full timeout.
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"standin-{port}", daemon=True
    )
    thread.start()

    deadline = time.monotonic() + start_timeout_seconds
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise StandinStartError(
                f"stand-in server on port {port} did not start within "
                f"{start_timeout_seconds} s; check the uvicorn warnings above"
            )
        time.sleep(0.01)
    logger.debug("stand-in server listening on port %s", port)

    try:
        yield f"http://{LOOPBACK_HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        logger.debug("stand-in server on port %s stopped", port)
