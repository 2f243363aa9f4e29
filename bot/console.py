"""The console channel: a patient's conversation in a terminal, or scripted on standard input."""

from __future__ import annotations

from typing import TextIO

from sealbook.settings import FrontSettings, read_settings_file

QUIT_WORDS = frozenset({"quit", "exit", "bye"})


def run_console_chat(settings: FrontSettings, phone: str, lines: TextIO, output: TextIO) -> None:
    """Greet the patient, then answer each line until end of input or a quit word.

    ``phone`` is the patient's own number; it is used for this conversation
    only and never written anywhere.
    """
    interactive = lines.isatty()
    clinic_name = _clinic_name(settings)
    _say(
        output,
        f"Hello from {clinic_name}. Soon you will be able to book, move and cancel "
        "appointments here, and hear when your doctor is running late.",
    )

    while True:
        if interactive:
            output.write("you> ")
            output.flush()
        line = lines.readline()
        if not line:
            break
        text = line.strip()
        if not interactive:
            output.write(f"you> {text}\n")
        if text.lower() in QUIT_WORDS:
            _say(output, "Goodbye.")
            break
        if not text:
            continue
        _say(output, "Thanks. Booking by chat is not open yet; please call the clinic to book for now.")


def _clinic_name(settings: FrontSettings) -> str:
    clinic = read_settings_file(settings.home).get("clinic", {})
    name = clinic.get("name") if isinstance(clinic, dict) else None
    return name if isinstance(name, str) and name.strip() else "the clinic"


def _say(output: TextIO, text: str) -> None:
    output.write(f"bot> {text}\n")
    output.flush()
