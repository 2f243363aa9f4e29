"""Headless Chromium (Debian's ``chromium`` package) for tests that load a page on loopback.

The browser runs with a throw-away profile, its background services off, and
a host resolver that maps every name except 127.0.0.1 to "not found", so a
test can reach only the server it started itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SEALBOOK_TEST_CHROMIUM", "/usr/bin/chromium")
TIMEOUT_SECONDS = 60
QUIET_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--hide-scrollbars",
)


def require_chromium() -> str:
    """Return the browser's path; skip the test without it, or fail it in CI, where it must run."""
    path = shutil.which(CHROMIUM)
    if path is not None:
        return path
    reason = f"headless browser test needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _run(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    browser = require_chromium()
    with tempfile.TemporaryDirectory(prefix="sealbook-chromium-") as profile:
        command = [browser, *QUIET_FLAGS, f"--user-data-dir={profile}", *arguments]
        # Chromium's sandbox needs user namespaces, which a root CI container
        # usually lacks; the browser loads only pages this test serves.
        if os.geteuid() == 0:
            command.insert(1, "--no-sandbox")
        return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)


def dump_dom(url: str) -> str:
    """Load ``url`` and return the DOM as serialised after the page has loaded."""
    result = _run(["--dump-dom", url])
    if result.returncode != 0 or not result.stdout.strip():
        raise AssertionError(f"chromium --dump-dom failed with exit code {result.returncode}")
    return result.stdout


def screenshot(url: str, target: Path, width: int = 1600, height: int = 900) -> None:
    """Load ``url`` and save a PNG screenshot of the window at ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    result = _run([f"--screenshot={target}", f"--window-size={width},{height}", url])
    if result.returncode != 0 or not target.exists():
        raise AssertionError(f"chromium --screenshot failed with exit code {result.returncode}")
