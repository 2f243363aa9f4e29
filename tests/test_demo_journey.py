"""Tests of `sealbook demo`: the guided journey, run without a terminal as `make demo` would be piped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SEALBOOK = str(Path(sys.executable).parent / "sealbook")
# A Thursday evening in Sydney: the doctor's next working afternoon is Friday.
START = "2027-03-11T19:30:00+11:00"
DEMO_NUMBER_FORMS = ("491570006", "491 570 006", "0491570006")


def run_demo(home: Path, stdin: str, now: str | None = START) -> subprocess.CompletedProcess[str]:
    """Run `sealbook demo` with `stdin` piped in and no SEALBOOK_* variable but the start instant."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("SEALBOOK_")}
    if now is not None:
        environment["SEALBOOK_NOW"] = now
    return subprocess.run(
        [SEALBOOK, "demo", "--home", str(home)],
        input=stdin,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def section(output: str, title: str) -> str:
    """Return the text of one `== title` section of the demo's output."""
    start = output.index(f"== {title}")
    end = output.find("\n== ", start + 1)
    return output[start : end if end != -1 else len(output)]


@pytest.mark.slow
def test_demo_plays_whole_journey(tmp_path: Path) -> None:
    """Booking, status, a running-late notice, a move, a cancellation and reception's view, in that order."""
    result = run_demo(tmp_path / "home", "my appointments\nquit\nnever read\n")

    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert "Booked. Your reference is " in section(output, "1. Book")
    reference = section(output, "1. Book").split("Your reference is ", 1)[1][:9]
    assert "on time so far" in section(output, "2. Status")
    late = section(output, "3. Running late")
    assert "[relay] notice" in late
    assert f"Dr Mei Lee is running late. Your appointment {reference}" in late
    assert "now expected at about" in late
    assert f"{reference} is now" in section(output, "4. Move")
    assert f"{reference} is cancelled." in section(output, "5. Cancel")
    staff = section(output, "6. Reception's view")
    assert reference in staff
    assert "cancelled" in staff
    assert not any(form in staff for form in DEMO_NUMBER_FORMS)
    assert output.rstrip().endswith("bot> Goodbye.")
    assert "never read" not in output
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_demo_runs_again_in_same_home(tmp_path: Path) -> None:
    """A second demo in the same home books, moves and cancels a new booking, and the first stays cancelled."""
    home = tmp_path / "home"
    first = run_demo(home, "")
    second = run_demo(home, "my appointments\n")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout
    first_reference = section(first.stdout, "1. Book").split("Your reference is ", 1)[1][:9]
    second_reference = section(second.stdout, "1. Book").split("Your reference is ", 1)[1][:9]
    assert first_reference != second_reference
    assert f"{second_reference} is cancelled." in second.stdout
