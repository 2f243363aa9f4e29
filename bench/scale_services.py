"""Scale figures of the running services: webhook turns through `sealbook serve`, and relay notices."""

from __future__ import annotations

import importlib.util


def _available(module: str) -> bool:
    """Return whether `module` can be imported, its parent package included."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def bench_webhooks(turns: int) -> None:
    """Print webhook turns per second and the memory of `sealbook serve`."""
    print(f"webhook turns ({turns} signed POST /sms):")
    if not _available("bot.app"):
        print("  not measured yet: the webhook server is not in this version")
        return


def bench_relay(notices: int, postgres_url: str | None) -> None:
    """Print relay notices per second with one and two relay processes."""
    print(f"relay notices ({notices} per run):")
    if not _available("relay.worker"):
        print("  not measured yet: the relay is not in this version")
        return
