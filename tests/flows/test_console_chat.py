"""The console channel runs the dialogue for a phone number without storing the number."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from booking.errors import ClinicNotLoaded
from bot.console import DEMO_SCRIPT, InvalidPhone, run_console_chat
from sealbook.clock import FixedClock
from sealbook.home import initialise_home
from sealbook.settings import DATABASE_FILE, FrontSettings, load_settings
from tests.flows.conftest import NOW


@pytest.fixture
def demo_home(home: Path) -> Path:
    """Return a fresh home with the demo clinic loaded, as `sealbook init --demo-clinic` leaves it."""
    initialise_home(home, clock=FixedClock(NOW), demo_clinic=True)
    return home


def test_console_books_without_storing_number(demo_home: Path) -> None:
    """A scripted console chat books an appointment, and the number is in no stored file."""
    settings = load_settings(FrontSettings, demo_home)
    output = io.StringIO()

    run_console_chat(
        settings,
        "0412 345 678",
        io.StringIO("my bookings\nquit\n"),
        output,
        script=DEMO_SCRIPT,
        clock=FixedClock(NOW),
    )

    transcript = output.getvalue()
    assert "bot> Booked. Your reference is " in transcript
    assert "you> my bookings" in transcript
    assert transcript.rstrip().endswith("bot> Goodbye.")
    stored = b"".join(path.read_bytes() for path in demo_home.rglob("*") if path.is_file())
    for spelling in (b"412345678", b"412 345 678", b"0412", b"+61412"):
        assert spelling not in stored


def test_console_same_number_same_contact(demo_home: Path) -> None:
    """Two spellings of one number reach the same bookings."""
    settings = load_settings(FrontSettings, demo_home)
    run_console_chat(
        settings,
        "0412 345 678",
        io.StringIO(""),
        io.StringIO(),
        script=DEMO_SCRIPT,
        clock=FixedClock(NOW),
    )
    output = io.StringIO()

    run_console_chat(settings, "+61 412 345 678", io.StringIO("list\n"), output, clock=FixedClock(NOW))

    assert "bot> Your appointments:" in output.getvalue()


def test_console_rejects_invalid_number(demo_home: Path) -> None:
    """A number that is not a valid mobile stops the chat with a plain error."""
    settings = load_settings(FrontSettings, demo_home)

    with pytest.raises(InvalidPhone, match="--phone"):
        run_console_chat(settings, "12345", io.StringIO(""), io.StringIO())


def test_console_without_clinic_rejected(home: Path) -> None:
    """A home with no clinic stops the chat instead of loading the demo clinic."""
    settings = load_settings(FrontSettings, home)

    with pytest.raises(ClinicNotLoaded):
        run_console_chat(settings, "0412 345 678", io.StringIO("hi\n"), io.StringIO(), clock=FixedClock(NOW))


def test_demo_command_books(tmp_path: Path) -> None:
    """`sealbook demo` with piped input plays the scripted booking and answers the piped line."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SEALBOOK_")}
    environment["SEALBOOK_NOW"] = NOW.isoformat()
    script = "import sys; from sealbook.cli import main; sys.argv[0] = 'sealbook'; main()"
    command = [sys.executable, "-c", script, "demo", "--home", str(tmp_path / "home")]

    result = subprocess.run(
        command, input="hi\n", capture_output=True, text=True, env=environment, timeout=120
    )

    assert result.returncode == 0
    assert "bot> Booked. Your reference is " in result.stdout
    assert result.stdout.rstrip().endswith("5) Help")
    assert DATABASE_FILE in os.listdir(tmp_path / "home")
