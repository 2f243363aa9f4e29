"""Every failure of the staff tool is one plain line with a documented exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from admin_cli.context import resolve_operator
from admin_cli.errors import EXIT_ERROR, EXIT_USAGE, InvalidInput
from sealbook.settings import AdminSettings
from tests.admin_cli.conftest import AdminInProcessRunner, AdminRunner, run_admin_process


@pytest.mark.parametrize(
    "args",
    [
        ["no-such-command"],
        ["outbox", "--limit", "many"],
        ["outbox", "--limit", "0"],
        ["outbox", "--no-such-option"],
        ["audit", "verify", "extra"],
    ],
)
def test_usage_error_one_line(admin: AdminRunner, args: list[str]) -> None:
    """A command-line mistake gives exit code 2 and one line naming the help to read."""
    run = admin(*args)

    assert run.code == EXIT_USAGE
    assert run.out == ""
    assert run.err.count("\n") == 1
    assert run.err.startswith("sealbook-admin: ")
    assert "--help" in run.err


def test_typed_value_not_repeated(admin: AdminRunner) -> None:
    """A phone number typed where a number of rows belongs is not repeated in the error."""
    run = admin("outbox", "--limit", "0491 570 157")

    assert run.code == EXIT_USAGE
    assert "0491" not in run.err


def test_no_arguments_prints_help(admin: AdminRunner) -> None:
    """Run bare, the tool prints its help, with the exit codes, and exits 2."""
    run = admin()

    assert run.code == EXIT_USAGE
    assert "Exit codes:" in run.out
    assert "audit" in run.out


def test_missing_database_one_line(tmp_path: Path) -> None:
    """A home without a database gives one line saying to run ``sealbook init``, and creates nothing.

    It runs the installed console script, so its exit code is the process's own.
    """
    run = run_admin_process(["outbox", "--home", str(tmp_path)], env={})

    assert run.code == EXIT_ERROR
    assert run.err.count("\n") == 1
    assert "sealbook init" in run.err
    assert "Traceback" not in run.output
    assert list(tmp_path.iterdir()) == []


def test_missing_sqlite_url_one_line(tmp_path: Path) -> None:
    """A SQLite URL naming a missing file gives the same line, and the file is not created."""
    database_file = tmp_path / "elsewhere.sqlite3"
    env = {"SEALBOOK_HOME": str(tmp_path), "SEALBOOK_DATABASE_URL": f"sqlite+pysqlite:///{database_file}"}

    run = run_admin_process(["audit"], env=env)

    assert run.code == EXIT_ERROR
    assert run.err.count("\n") == 1
    assert f"no database at {database_file}" in run.err
    assert not database_file.exists()


def test_unmigrated_database_one_line(tmp_path: Path, admin_in_process: AdminInProcessRunner) -> None:
    """A database behind the newest migration gives one line saying to upgrade it."""
    (tmp_path / "sealbook.sqlite3").touch()

    run = admin_in_process(["audit"], env={"SEALBOOK_HOME": str(tmp_path)})

    assert run.code == EXIT_ERROR
    assert run.err.count("\n") == 1
    assert "sealbook db upgrade" in run.err


def test_operator_option_wins(tmp_path: Path) -> None:
    """``--operator`` wins over the setting, which wins over the login name."""
    settings = AdminSettings(home=tmp_path, operator="from-setting")

    assert resolve_operator("desk-2", settings) == "staff:desk-2"
    assert resolve_operator(None, settings) == "staff:from-setting"


def test_operator_defaults_to_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without option or setting, the operator is the login name."""
    monkeypatch.setenv("LOGNAME", "frontdesk")
    monkeypatch.setenv("USER", "frontdesk")

    assert resolve_operator(None, AdminSettings(home=tmp_path)) == "staff:frontdesk"


@pytest.mark.parametrize(
    "name", ["jane@example.org", "0491 570 157", "0491570157", "a" * 49, "-dash", "two words"]
)
def test_operator_name_rejected(tmp_path: Path, name: str) -> None:
    """An operator name that is not a plain login name is rejected without repeating it."""
    with pytest.raises(InvalidInput) as raised:
        resolve_operator(name, AdminSettings(home=tmp_path))

    assert name not in str(raised.value)
