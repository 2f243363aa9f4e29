"""SMS keywords, GSM-7 rendering and the segment count of every fixed reply."""

from __future__ import annotations

import pytest

from bot.dispatch import FAILURE_TEXT, PAUSE_TEXT, SEND_TEXT, ClinicInfo, help_text
from bot.handler import Choice, Reply
from bot.keywords import SmsKeyword, classify_sms
from bot.render import GSM7_BASIC, GSM7_EXTENSION, gsm7_segments, render_console, render_sms, to_gsm7


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", SmsKeyword.OPT_OUT),
        ("  cancel  ", SmsKeyword.OPT_OUT),
        ("Quit.", SmsKeyword.OPT_OUT),
        ("\u201cstop\u201d", SmsKeyword.OPT_OUT),
        ("optout", SmsKeyword.OPT_OUT),
        ("start", SmsKeyword.OPT_IN),
        ("Unstop!", SmsKeyword.OPT_IN),
        ("yes", SmsKeyword.OPT_IN),
        ("help?", SmsKeyword.HELP),
        ("stop please", SmsKeyword.NONE),
        ("cancel my booking", SmsKeyword.NONE),
        ("opt out", SmsKeyword.NONE),
        ("y", SmsKeyword.NONE),
        ("", SmsKeyword.NONE),
    ],
)
def test_classify_body(body: str, expected: SmsKeyword) -> None:
    """Only a whole-message keyword counts, in any case, with surrounding spaces and punctuation."""
    assert classify_sms(body, None) == expected


@pytest.mark.parametrize(
    ("opt_out_type", "expected"),
    [("STOP", SmsKeyword.OPT_OUT), ("start", SmsKeyword.OPT_IN), ("HELP", SmsKeyword.HELP)],
)
def test_opt_out_type_wins_over_body(opt_out_type: str, expected: SmsKeyword) -> None:
    """OptOutType decides even when the body is ordinary text."""
    assert classify_sms("bonjour", opt_out_type) == expected


def test_unknown_opt_out_type_falls_back_to_body() -> None:
    """An OptOutType value Twilio may add later leaves the body to decide."""
    assert classify_sms("stop", "SOMETHING_NEW") == SmsKeyword.OPT_OUT


def test_to_gsm7_replaces_typography() -> None:
    """Curly quotes, dashes and ellipses become their GSM-7 stand-ins; unknown characters become ?."""
    assert to_gsm7("Dr O\u2019Brien \u2013 9\u201310am\u2026 \U0001f600") == "Dr O'Brien - 9-10am... ?"


def test_render_sms_numbers_choices() -> None:
    """An SMS lists choices as numbered lines after the text."""
    reply = Reply("Which time?", (Choice("a", "Tue 9:00am"), Choice("b", "Wed 10:30am")))

    assert render_sms(reply) == "Which time?\n1. Tue 9:00am\n2. Wed 10:30am"


def test_render_console_lists_choices() -> None:
    """The console lists choices as an indented numbered list."""
    reply = Reply("Which time?", (Choice("a", "Tue 9:00am"),))

    assert render_console(reply) == "Which time?\n  1) Tue 9:00am"


def test_segments_count_extension_twice() -> None:
    """160 plain characters fit one segment; an extension character counts as two septets."""
    assert gsm7_segments("a" * 160) == 1
    assert gsm7_segments("a" * 159 + "{") == 2
    assert gsm7_segments("a" * 306) == 2
    assert gsm7_segments("a" * 307) == 3


@pytest.mark.parametrize(
    "text",
    [
        PAUSE_TEXT,
        SEND_TEXT,
        FAILURE_TEXT,
        help_text(ClinicInfo(name="Harbour Street Medical Centre", phone="+61 2 9999 0000")),
    ],
)
def test_fixed_replies_are_gsm7_in_two_segments(text: str) -> None:
    """Every reply the adapters write themselves is GSM-7 and fits two segments."""
    assert all(character in GSM7_BASIC or character in GSM7_EXTENSION for character in text)
    assert gsm7_segments(text) <= 2
