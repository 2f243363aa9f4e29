"""Profile templates: complete, GSM-7 only, within two SMS segments, and free of opt-out words."""

from __future__ import annotations

import re

import pytest

from booking.profiles import load_profile, profile_names
from flows.templates import TEMPLATE_PARAMS, TemplateError, Templates, placeholders
from sealbook.gsm7 import is_gsm7, measure_sms

# Longest realistic values for every placeholder.
LONG_VALUES = {
    "clinic": "Northern Beaches Family Medical Practice",
    "phone": "+61 2 9000 0000 ext 12",
    "practitioner": "Dr Alexandra Papadopoulos",
    "type": "Long consultation (30 minutes)",
    "reference": "K7QM-4X2P",
    "when": "Wed 29 Sep 12:45pm",
    "old": "Wed 29 Sep 12:45pm",
    "new": "Thu 30 Sep 12:45pm",
    "expected": "Wed 29 Sep 12:45pm",
    "asked": "Wed 29 Sep",
    "date": "Wed 29 Sep 2027",
    "weekday": "Wednesday",
    "time": "12:45pm",
    "morning": "11:45am",
    "afternoon": "11:45pm",
    "clock": "12:45pm",
    "ordinal": "23rd",
    "month": "Sep",
    "count": "10",
    "part": "afternoon",
    "days": "365",
}
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "START", "YES", "UNSTOP"}
)
RESERVED_WORDS = frozenset({"HELP", "INFO"})
"""Words Twilio may answer itself on long codes, so no text depends on a patient sending them."""
PROFILES = profile_names()


def test_long_values_cover_every_placeholder() -> None:
    """Every placeholder a template may use has a long value to test with."""
    used = set().union(*TEMPLATE_PARAMS.values()) | {"clinic", "phone"}

    assert used - set(LONG_VALUES) == set()


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_templates_load(profile: str) -> None:
    """Each shipped profile has every template, each using only its own placeholders."""
    texts = load_profile(profile).templates

    Templates(texts, clinic="x", phone="y")

    assert set(TEMPLATE_PARAMS) <= set(texts)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("key", sorted(TEMPLATE_PARAMS))
def test_template_fits_two_segments(profile: str, key: str) -> None:
    """Filled with the longest realistic values, each template is GSM-7 within two segments."""
    text = load_profile(profile).templates[key]

    filled = text.format(**LONG_VALUES)

    assert is_gsm7(text)
    assert measure_sms(filled).segments <= 2


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("key", sorted(TEMPLATE_PARAMS))
def test_template_asks_no_opt_out_word(profile: str, key: str) -> None:
    """No template asks for a reply that SMS carriers treat as an opt-out or opt-in word."""
    text = load_profile(profile).templates[key]

    shouted = set(re.findall(r"\b[A-Z]{2,}\b", text))
    requested = {w.upper() for w in re.findall(r"\b(?:reply|send|text|type)\s+(\w+)", text, re.IGNORECASE)}

    assert shouted & (OPT_OUT_WORDS | RESERVED_WORDS) == set()
    assert requested & (OPT_OUT_WORDS | RESERVED_WORDS) == set()
    # A question that opens with an opt-out word ("Cancel K7QM-4X2P?") invites it as the reply.
    # Labels are chosen by their key letter, so only texts are checked for this.
    if not key.startswith("labels."):
        assert text.split(maxsplit=1)[0].strip(",.?!").upper() not in OPT_OUT_WORDS


def test_missing_template_rejected() -> None:
    """A profile that lacks a template fails when loaded, naming the key."""
    texts = dict(load_profile("medical").templates)
    del texts["book.booked"]

    with pytest.raises(TemplateError, match=r"book\.booked"):
        Templates(texts, clinic="x", phone="y")


def test_unknown_placeholder_rejected() -> None:
    """A template using a placeholder its key does not provide fails when loaded."""
    texts = dict(load_profile("medical").templates)
    texts["book.taken"] = "Sorry, {practitioner} is busy."

    with pytest.raises(TemplateError, match="practitioner"):
        Templates(texts, clinic="x", phone="y")


def test_placeholder_with_format_spec_rejected() -> None:
    """Placeholders are plain names: attribute access and format specs are refused."""
    with pytest.raises(ValueError, match="plain name"):
        placeholders("{when.year}")
    with pytest.raises(ValueError, match="plain name"):
        placeholders("{when:>10}")


def test_profiles_word_texts_differently() -> None:
    """The law profile speaks of meetings where the medical one speaks of appointments."""
    medical = load_profile("medical").templates["bookings.list"]
    law = load_profile("law-practice").templates["bookings.list"]

    assert medical == "Your appointments:"
    assert law == "Your meetings:"
