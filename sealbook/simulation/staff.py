"""Running ``sealbook-admin`` inside this process at a chosen instant, as the simulated day and the demo do.

The staff tool reads its settings and clock from ``SEALBOOK_*`` variables and
sets up logging for itself, so both are swapped in for the call and restored
afterwards, and what it prints is captured.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sealbook.errors import SealbookError

OPERATOR = "reception"


class StaffCommandFailed(SealbookError):
    """A staff command run by the simulation or the demo exited with an error."""


@dataclass
class StaffRun:
    """One staff command: its arguments and what it printed."""

    arguments: list[str]
    stdout: str
    stderr: str


def run_staff_command(
    home: Path, database_url: str, now: datetime, arguments: list[str], *, log_level: str = "WARNING"
) -> StaffRun:
    """Run ``sealbook-admin ARGUMENTS`` as the operator ``reception`` at `now`; raise if it fails."""
    from admin_cli.app import app as admin_app
    from admin_cli.runner import run_admin

    overrides = {
        "SEALBOOK_HOME": str(home),
        "SEALBOOK_NOW": now.isoformat(),
        "SEALBOOK_OPERATOR": OPERATOR,
        "SEALBOOK_LOG_LEVEL": log_level,
        "SEALBOOK_DATABASE_URL": database_url,
    }
    stdout, stderr = io.StringIO(), io.StringIO()
    with _environment(overrides), _logging_restored(), redirect_stdout(stdout), redirect_stderr(stderr):
        code = run_admin(admin_app, arguments)
    run = StaffRun(arguments, stdout.getvalue(), stderr.getvalue())
    if code != 0:
        last_line = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise StaffCommandFailed(f"sealbook-admin {arguments[0]} exited with {code}: {last_line}")
    return run


@contextlib.contextmanager
def _environment(overrides: dict[str, str]) -> Iterator[None]:
    """Set `overrides` (an empty value unsets) and hide other SEALBOOK_* variables for the block."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("SEALBOOK_")}
    for name in saved:
        del os.environ[name]
    os.environ.update({name: value for name, value in overrides.items() if value})
    try:
        yield
    finally:
        for name in [name for name in os.environ if name.startswith("SEALBOOK_")]:
            del os.environ[name]
        os.environ.update(saved)


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    """Put the root logger's handlers and level back after a block that reconfigures logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
