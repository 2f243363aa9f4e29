"""Profile templates: complete, GSM-7 only, within two SMS segments, and free of opt-out words."""

from __future__ import annotations

import pytest

from booking.profiles import load_profile, profile_names
from flows.templates import COMMON_PARAMS, TEMPLATE_PARAMS, TemplateError, Templates, placeholders
from sealbook.gsm7 import is_gsm7, measure_sms
from tests.sms_words import RESERVED_SMS_WORDS, invited_words, opening_word, questioned_verbs, shouted_words

# Longest realistic values for every placeholder.
LONG_VALUES = {
    "clinic": "Northern Beaches Family Medical Practice",
    "phone": "+61 2 9000 0000 ext 12",
    "practitioner": "Dr Alexandra Papadopoulos",
    "old_practitioner": "Dr Alexandra Papadopoulos",
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
PROFILES = profile_names()
PROFILE_KEYS = [(profile, key) for profile in PROFILES for key in sorted(load_profile(profile).templates)]
"""Every template of every profile, SMS wording (`sms.*`) included."""


def sms_text(profile: str, key: str) -> str:
    """Return template `key` of `profile` as an SMS patient reads it, filled with the longest values."""
    templates = Templates(
        load_profile(profile).templates, clinic=LONG_VALUES["clinic"], phone=LONG_VALUES["phone"]
    )
    params = {name: value for name, value in LONG_VALUES.items() if name not in COMMON_PARAMS}
    return templates.render(key, "sms", **params)


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


@pytest.mark.parametrize(("profile", "key"), PROFILE_KEYS)
def test_template_fits_two_segments(profile: str, key: str) -> None:
    """Filled with the longest realistic values, each template is GSM-7 within two segments."""
    text = load_profile(profile).templates[key]

    filled = text.format(**LONG_VALUES)

    assert is_gsm7(text)
    assert measure_sms(filled).segments <= 2


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("key", sorted(TEMPLATE_PARAMS))
def test_sms_text_invites_no_reserved_word(profile: str, key: str) -> None:
    """No SMS text or option label invites a reply that carriers or Twilio act on by themselves.

    A patient often sends an option's first word alone ("Cancel" for
    "C) Cancel it"), or answers a yes/no question with its verb ("Cancel"
    for "Do you want us to cancel K7QM-4X2P?"), so both are checked too.
    """
    text = sms_text(profile, key)

    assert invited_words(text) & RESERVED_SMS_WORDS == set()
    assert shouted_words(text) & RESERVED_SMS_WORDS == set()
    assert opening_word(text) not in RESERVED_SMS_WORDS
    assert questioned_verbs(text) & RESERVED_SMS_WORDS == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cancel K7QM-4X2P?", {"CANCEL"}),
        ("Do you want us to cancel K7QM-4X2P, Standard consultation? Reply Y or N.", {"CANCEL"}),
        ("Would you like to stop these texts?", {"STOP"}),
        ("OK to end it there?", {"END"}),
        ("Standard consultation, Fri 9am. Book it? Reply Y or N.", {"BOOK"}),
        ("Do you mean 3pm or the 3rd?", {"MEAN"}),
        ("Hi, this is the clinic. How can we help?", set()),
        ("Which day suits?", set()),
        ("Reply with a letter.", set()),
    ],
)
def test_questioned_verbs(text: str, expected: set[str]) -> None:
    """The verb of each yes/no question is read, past "Do you want us to" and the like."""
    assert questioned_verbs(text) == expected


def test_sms_wording_used_on_sms_only() -> None:
    """An `sms.` template is used on SMS; Telegram and the console keep the default wording."""
    templates = Templates(load_profile("medical").templates, clinic="x", phone="y")

    assert templates.render("labels.cancel", "sms") == "Call it off"
    assert templates.render("labels.cancel", "telegram") == "Cancel it"
    assert templates.render("labels.cancel", "console") == "Cancel it"
    assert templates.render("labels.keep", "sms") == "No, keep it"


def test_sms_template_unknown_key_rejected() -> None:
    """An `sms.` template that replaces no known key fails when loaded, naming it."""
    texts = dict(load_profile("medical").templates)
    texts["sms.labels.cancle"] = "Call it off"

    with pytest.raises(TemplateError, match=r"sms\.labels\.cancle"):
        Templates(texts, clinic="x", phone="y")


def test_sms_template_placeholders_checked() -> None:
    """An `sms.` template may use only the placeholders of the key it replaces."""
    texts = dict(load_profile("medical").templates)
    texts["sms.labels.cancel"] = "Call off {reference}"

    with pytest.raises(TemplateError, match=r"sms\.labels\.cancel uses unknown placeholders reference"):
        Templates(texts, clinic="x", phone="y")


def test_missing_template_rejected() -> None:
    """A profile that lacks a template fails when loaded, naming the key."""
    texts = dict(load_profile("medical").templates)
    del texts["book.booked"]

    with pytest.raises(TemplateError, match=r"book\.booked"):
        Templates(texts, clinic="x", phone="y")


def test_unknown_placeholder_rejected() -> None:
    """A template using a placeholder its key does not provide fails when loaded."""
    texts = dict(load_profile("medical").templates)
    texts["book.unavailable"] = "Sorry, {practitioner} is busy."

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
