"""Benchmark a signed SMS turn through the whole webhook stack against a bare Starlette echo route.

Run: `.venv/bin/python bench/bench_webhook.py [--requests N] [--database-url URL]`.

One uvicorn server, started in a child process, serves both routes of the
same app in the same run:

- `POST /sms`: the real front. It verifies the Twilio signature, records the
  MessageSid once, resolves the contact by keyed pseudonym (sealing it on
  first contact), counts the rate limit, runs one dialogue turn ("hi", which
  shows the menu) and renders TwiML.
- `POST /echo`: the baseline, a bare Starlette endpoint that parses the form
  and returns the Body as TwiML, with no verification and no database.

The client sends one request at a time over one keep-alive connection and
alternates the two routes, so both see the same machine load. It prints
each route's throughput and p50/p99 latency, and their ratios.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PUBLIC_URL = "https://book.example.org"
AUTH_TOKEN = "bench-twilio-auth-token"  # noqa: S105 - a fixed token for a throwaway home
SENDERS = 50
WARM_UP_ROUNDS = 60


def serve_child(home: Path) -> None:
    """Build the real app plus the echo route and serve it on a free loopback port (child process)."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
    from twilio.twiml.messaging_response import MessagingResponse

    from bot.app import create_app
    from bot.front import build_front
    from sealbook.clock import SystemClock
    from sealbook.logs import configure_logging
    from sealbook.settings import FrontSettings, load_settings

    async def echo(request: Request) -> Response:
        params = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        response = MessagingResponse()
        response.message(params.get("Body", ""))
        return Response(str(response), media_type="application/xml")

    settings = load_settings(FrontSettings, home)
    configure_logging(settings.log_level)
    front = build_front(settings, SystemClock())
    app = create_app(
        settings,
        front.session_factory,
        front.clock,
        front.handler,
        clinic=front.clinic,
        extra_routes=[Route("/echo", echo, methods=["POST"])],
    )
    # With proto 0 instead of IPPROTO_TCP, asyncio does not set TCP_NODELAY on
    # the accepted connections, and each response waits about 40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    server.run(sockets=[sock])


def _signed_sms(serial: int) -> tuple[str, dict[str, str]]:
    from twilio.request_validator import RequestValidator

    sender = f"+614128{serial % SENDERS:05d}"
    params = {
        "MessageSid": f"SM{serial:032x}",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+61291234567",
        "Body": "hi",
        "NumMedia": "0",
        "NumSegments": "1",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/sms", params)
    return signature, params


def _post(client: httpx.Client, path: str, params: dict[str, str], signature: str) -> float:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    started = time.perf_counter()
    response = client.post(path, content=urlencode(params), headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or "<Message>" not in response.text:
        raise SystemExit(f"{path} returned {response.status_code}: {response.text[:200]}")
    return elapsed


def _summary(name: str, latencies: list[float]) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    throughput = len(ordered) / sum(ordered)
    print(f"{name:<22} {len(ordered):>8} {throughput:>9.0f} {p50:>9.2f} {p99:>9.2f}")
    return throughput, p50, p99


def run(requests: int, database_url: str | None) -> None:
    """Start the server, warm both routes up, then time them alternately and print the table."""
    from sealbook.home import initialise_home

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        environment = {
            **os.environ,
            "SEALBOOK_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "SEALBOOK_PUBLIC_URL": PUBLIC_URL,
            "SEALBOOK_MESSAGES_PER_MINUTE": "1000000",
            "SEALBOOK_LOG_LEVEL": "WARNING",
        }
        if database_url:
            environment["SEALBOOK_DATABASE_URL"] = database_url
        os.environ.update({key: value for key, value in environment.items() if key.startswith("SEALBOOK_")})
        initialise_home(home, demo_clinic=True)

        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(home)],
            stdout=subprocess.PIPE,
            env=environment,
            text=True,
        )
        try:
            assert child.stdout is not None
            port = int(child.stdout.readline())
            _measure(f"http://127.0.0.1:{port}", requests)
        finally:
            child.terminate()
            child.wait(timeout=30)


def _measure(base_url: str, requests: int) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for _ in range(50):
            try:
                client.get("/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        echo_times: list[float] = []
        stack_times: list[float] = []
        for round_number in range(WARM_UP_ROUNDS + requests):
            signature, params = _signed_sms(round_number + 1)
            echo_time = _post(client, "/echo", params, signature)
            stack_time = _post(client, "/sms", params, signature)
            if round_number >= WARM_UP_ROUNDS:
                echo_times.append(echo_time)
                stack_times.append(stack_time)

    print(f"{'route':<22} {'requests':>8} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}")
    echo_throughput, echo_p50, echo_p99 = _summary("echo (baseline)", echo_times)
    stack_throughput, stack_p50, stack_p99 = _summary("signed SMS turn", stack_times)
    print(
        f"ratio SMS turn / echo: p50 {stack_p50 / echo_p50:.1f}x, p99 {stack_p99 / echo_p99:.1f}x, "
        f"throughput {stack_throughput / echo_throughput:.2f}x"
    )


def main() -> None:
    """Parse the arguments and run the benchmark, or serve as its child process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="timed requests per route (default 400)")
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL to use instead of a SQLite file in a temporary home"
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve is not None:
        serve_child(arguments.serve)
        return
    run(arguments.requests, arguments.database_url)


if __name__ == "__main__":
    main()
