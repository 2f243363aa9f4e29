"""The ``--help`` of ``sealbook``, ``sealbook-admin`` and each of their commands, as typer prints it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import typer

from admin_cli.app import app as admin_app
from admin_cli.runner import run_admin
from sealbook.cli import app as sealbook_app
from sealbook.cli_support import run_app
from tests.admin_cli.test_canary import command_paths
from tests.conftest import InProcessRunner


def _run_sealbook(argv: list[str]) -> int:
    return run_app(sealbook_app, "sealbook", argv)


def _run_sealbook_admin(argv: list[str]) -> int:
    return run_admin(admin_app, argv)


@pytest.mark.parametrize(
    ("app", "entry"),
    [(sealbook_app, _run_sealbook), (admin_app, _run_sealbook_admin)],
    ids=["sealbook", "sealbook-admin"],
)
def test_help_has_no_rest_markup(
    run_in_process: InProcessRunner, app: typer.Typer, entry: Callable[[list[str]], int]
) -> None:
    """No help text shows reST's doubled backticks, which typer prints as they are written."""
    paths = ["", *command_paths(app)]

    for path in paths:
        result = run_in_process(entry, [*path.split(), "--help"])

        assert result.returncode == 0, (path, result.stderr)
        assert "Usage:" in result.stdout, path
        assert "``" not in result.stdout, (path, result.stdout)
