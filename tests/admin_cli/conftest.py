"""Fixtures for the staff tool: a migrated database it is pointed at, and ways to run it."""

from __future__ import annotations

import io
import logging
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

ADMIN_COMMAND = [sys.executable, "-c", "from admin_cli.app import main; main()"]


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


@pytest.fixture
def admin(
    admin_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> AdminRunner:
    """Return a function that runs ``sealbook-admin`` in this process and captures what it prints."""
    for name in list(os.environ):
        if name.startswith("SEALBOOK_"):
            monkeypatch.delenv(name)
    for name, value in admin_env.items():
        monkeypatch.setenv(name, value)

    def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> AdminRun:
        with monkeypatch.context() as scoped:
            for name, value in (env or {}).items():
                scoped.setenv(name, value)
            scoped.setattr(sys, "stdin", io.StringIO(stdin))
            # The tool sets up logging on the captured stderr; put the
            # test's own logging back afterwards.
            root, driver = logging.getLogger(), logging.getLogger("psycopg")
            handlers, level, driver_level = list(root.handlers), root.level, driver.level
            capsys.readouterr()
            try:
                code = run_admin(app, list(args))
            finally:
                root.handlers[:] = handlers
                root.setLevel(level)
                driver.setLevel(driver_level)
            captured = capsys.readouterr()
        return AdminRun(tuple(args), code, captured.out, captured.err)

    return run


def run_admin_process(args: list[str], env: dict[str, str], stdin: str = "") -> AdminRun:
    """Run ``sealbook-admin`` in a subprocess with exactly these SEALBOOK_* variables."""
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
