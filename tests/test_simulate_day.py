"""Tests of `sealbook simulate-day`: a whole clinic day on SQLite and on PostgreSQL, run as an operator would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sealbook.simulation.patients import phone_canaries, plain_options

SEALBOOK = str(Path(sys.executable).parent / "sealbook")
DAY_TIMEOUT_SECONDS = 240


def run_day(tmp_path: Path, database_url: str | None) -> subprocess.CompletedProcess[str]:
    """Run `sealbook simulate-day` in a fresh home with no SEALBOOK_* variable but the database URL."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("SEALBOOK_")}
    if database_url:
        environment["SEALBOOK_DATABASE_URL"] = database_url
    return subprocess.run(
        [SEALBOOK, "simulate-day", "--home", str(tmp_path / "day")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=DAY_TIMEOUT_SECONDS,
        check=False,
    )


def summary_counts(output: str) -> dict[str, int]:
    """Read the `name: number` lines of the summary."""
    return {match[1]: int(match[2]) for match in re.finditer(r"^([a-zA-Z -]+): (\d+)$", output, re.M)}


def assert_day_passed(result: subprocess.CompletedProcess[str], backend: str) -> None:
    """Check the exit code, the invariants and the counts a passing day prints."""
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Simulated day at the demo clinic on {backend}" in result.stdout
    assert "all invariants hold" in result.stdout
    assert "FAIL" not in result.stdout
    counts = summary_counts(result.stdout)
    assert counts["bookings made"] == 40
    assert counts["bookings moved"] == 6
    assert counts["bookings cancelled"] == 6
    assert counts["duplicates suppressed"] == 2
    assert counts["forged requests rejected"] == 6
    assert counts["staff messages sent"] == 6
    assert counts["running-late notices sent"] >= 8
    assert "notices delivered per channel: email" in result.stdout


@pytest.mark.slow
def test_simulated_day_on_sqlite(tmp_path: Path) -> None:
    """A whole day on the embedded SQLite default ends with every invariant holding."""
    result = run_day(tmp_path, None)

    assert_day_passed(result, "SQLite")
    assert (tmp_path / "day" / "sealbook.sqlite3").exists()


@pytest.mark.slow
@pytest.mark.postgresql
def test_simulated_day_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    """A whole day on PostgreSQL, chosen with SEALBOOK_DATABASE_URL, ends with every invariant holding."""
    result = run_day(tmp_path, postgres_url)

    assert_day_passed(result, "PostgreSQL")
    assert not (tmp_path / "day" / "sealbook.sqlite3").exists()


def test_simulate_day_rejects_used_home(tmp_path: Path) -> None:
    """A home that already holds files is refused with one line, and left as it was."""
    used = tmp_path / "day"
    used.mkdir()
    (used / "notes.txt").write_text("keep me", encoding="utf-8")

    result = run_day(tmp_path, None)

    assert result.returncode == 1
    assert "is not empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in used.iterdir()) == ["notes.txt"]


def test_phone_canaries_cover_written_forms() -> None:
    """A number is searched spaced, as national digits and without its leading zero (inside E.164)."""
    canaries = phone_canaries("0491 570 123")

    assert canaries == ("0491 570 123", "0491570123", "491570123")
    assert any(canary in "+61491570123" for canary in canaries)


def test_plain_options_read_keys_and_labels() -> None:
    """Numbered and lettered option lines become options; other lines do not."""
    text = "Free times:\n1) Mon 8 Mar 10am\n2) Mon 8 Mar 10:15am\nY) Yes, book it\nnot an option) here"

    options = plain_options(text)

    assert [(option.key, option.label) for option in options] == [
        ("1", "Mon 8 Mar 10am"),
        ("2", "Mon 8 Mar 10:15am"),
        ("Y", "Yes, book it"),
    ]
