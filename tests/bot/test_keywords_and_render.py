"""SMS keywords, GSM-7 rendering and the segment count of every fixed reply."""

from __future__ import annotations

import pytest

from bot.dispatch import FAILURE_TEXT, PAUSE_TEXT, SEND_TEXT, ClinicInfo, help_text
from bot.handler import Choice, Reply
from bot.keywords import SmsKeyword, classify_sms
from bot.render import render_sms
from sealbook.gsm7 import is_gsm7, measure_sms
from tests.sms_words import RESERVED_SMS_WORDS, invited_words, opening_word, shouted_words

LONG_CLINIC = ClinicInfo(name="Harbour Street Medical Centre", phone="+61 2 9999 0000")


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


def test_render_sms_lists_choice_keys() -> None:
    """An SMS lists choices as ``key) label`` lines after the text."""
    reply = Reply("Which time?", (Choice("a", "1", "Tue 9:00am"), Choice("b", "2", "Wed 10:30am")))

    assert render_sms(reply) == "Which time?\n1) Tue 9:00am\n2) Wed 10:30am"


def test_render_sms_folds_to_gsm7() -> None:
    """Typography outside GSM-7 is folded, so one curly apostrophe cannot turn the SMS into UCS-2."""
    rendered = render_sms(Reply("Dr O\u2019Brien \u2013 see you soon\u2026"))

    assert is_gsm7(rendered)
    assert "O'Brien" in rendered


@pytest.mark.parametrize(
    "text",
    [
        PAUSE_TEXT,
        SEND_TEXT,
        FAILURE_TEXT,
        help_text(LONG_CLINIC),
    ],
)
def test_fixed_replies_are_gsm7_in_two_segments(text: str) -> None:
    """Every reply the adapters write themselves is GSM-7 and fits two segments."""
    assert is_gsm7(text)
    assert measure_sms(text).segments <= 2


@pytest.mark.parametrize("text", [PAUSE_TEXT, SEND_TEXT, FAILURE_TEXT])
def test_fixed_replies_invite_no_reserved_word(text: str) -> None:
    """The adapters' own replies ask for no word that carriers or Twilio act on."""
    assert invited_words(text) & RESERVED_SMS_WORDS == set()
    assert shouted_words(text) & RESERVED_SMS_WORDS == set()
    assert opening_word(text) not in RESERVED_SMS_WORDS


def test_help_invites_stop_start_only() -> None:
    """HELP names STOP and START only to stop and restart texts, and LIST for moving or cancelling."""
    text = help_text(LONG_CLINIC)

    assert invited_words(text) & RESERVED_SMS_WORDS <= {"STOP", "START"}
    assert shouted_words(text) & RESERVED_SMS_WORDS == {"STOP", "START"}
    assert "Text STOP to stop all our texts (your bookings stay), START to get them again." in text
    assert "LIST to move or cancel a booking" in text
