"""Printing results: JSON for scripts, ``rich`` tables for people, and confirmation prompts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from admin_cli.errors import Refused

# Wide enough that a table piped to a file or another program keeps
# references and times on one line; a terminal uses its own width.
PIPE_WIDTH = 160


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON followed by a newline."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> None:
    """Print rows under ``columns``, or the ``empty`` line when there are none.

    Cells are plain ``Text``, so square brackets in stored text are shown as
    written and never read as ``rich`` markup.
    """
    console = _console()
    if not rows:
        console.print(Text(empty))
        return
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)


def print_line(message: str) -> None:
    """Print one line of plain text to standard output."""
    _console().print(Text(message))


def iso(instant: datetime | None) -> str | None:
    """Return an aware instant in ISO 8601 with seconds, or None."""
    return None if instant is None else instant.isoformat(timespec="seconds")


def confirm_reach(count: int, action: str, assume_yes: bool) -> None:
    """Say how many bookings ``action`` reaches and ask to go on, unless ``assume_yes``."""
    noun = "booking" if count == 1 else "bookings"
    typer.echo(f"This will {action} for {count} {noun}.", err=True)
    confirm(assume_yes)


def confirm(assume_yes: bool) -> None:
    """Ask on standard error whether to go on, unless ``assume_yes``.

    Raises ``Refused`` (exit code 4) when the operator says no or standard
    input ends without an answer, so nothing changes.
    """
    if assume_yes:
        return
    try:
        confirmed = typer.confirm("Go ahead?", default=False, err=True)
    except typer.Abort:
        confirmed = False
    if not confirmed:
        raise Refused("not confirmed; nothing changed (pass --yes to skip the question)")


def _console() -> Console:
    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=PIPE_WIDTH, no_color=True)
