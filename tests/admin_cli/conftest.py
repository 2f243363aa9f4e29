"""Fixtures for the staff tool: a migrated database it is pointed at, and ways to run it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from admin_cli.app import app
from admin_cli.runner import run_admin
from tests.admin_cli.clinic_day import ADMIN_NOW
from tests.conftest import InProcessRunner

# The console script that installing the package puts next to this Python.
ADMIN_COMMAND = [str(Path(sys.executable).with_name("sealbook-admin"))]


@dataclass(frozen=True)
class AdminRun:
    """The outcome of one ``sealbook-admin`` run."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


AdminRunner = Callable[..., AdminRun]
AdminInProcessRunner = Callable[..., AdminRun]


@pytest.fixture
def admin_env(engine: Engine, db_url: str, tmp_path: Path) -> dict[str, str]:
    """Return the SEALBOOK_* variables that point the staff tool at the migrated test database."""
    home = tmp_path / "admin-home"
    home.mkdir()
    return {
        "SEALBOOK_HOME": str(home),
        "SEALBOOK_DATABASE_URL": db_url,
        "SEALBOOK_NOW": ADMIN_NOW.isoformat(),
        "SEALBOOK_OPERATOR": "reception",
    }


def _run_admin_app(argv: list[str]) -> int:
    return run_admin(app, argv)


@pytest.fixture
def admin_in_process(run_in_process: InProcessRunner) -> AdminInProcessRunner:
    """Return a function that runs ``sealbook-admin`` in this process with exactly these SEALBOOK_* variables.

    It takes the same arguments as ``run_admin_process``, and output that
    bypasses ``sys.stdout`` is captured too.
    """

    def run(args: list[str], env: dict[str, str], stdin: str = "") -> AdminRun:
        result = run_in_process(_run_admin_app, args, env, stdin)
        return AdminRun(tuple(args), result.returncode, result.stdout, result.stderr)

    return run


@pytest.fixture
def admin(admin_env: dict[str, str], admin_in_process: AdminInProcessRunner) -> AdminRunner:
    """Return a function that runs ``sealbook-admin`` in this process on the test database."""

    def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> AdminRun:
        return admin_in_process(list(args), {**admin_env, **(env or {})}, stdin)

    return run


def run_admin_process(args: list[str], env: dict[str, str], stdin: str = "") -> AdminRun:
    """Run the ``sealbook-admin`` console script in a subprocess with exactly these SEALBOOK_* variables."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("SEALBOOK_")}
    clean.update(env)
    result = subprocess.run(
        [*ADMIN_COMMAND, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
        check=False,
    )
    return AdminRun(tuple(args), result.returncode, result.stdout, result.stderr)
