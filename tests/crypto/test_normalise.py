"""Tests for normalising phone numbers, Telegram chat ids and e-mail addresses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    InvalidIdentifier,
    normalise,
    normalise_email,
    normalise_phone,
    normalise_telegram_chat_id,
)
from tests.crypto.helpers import MOBILE_E164, SPELLINGS

REJECTED_PHONES = {
    "full-width digits": "\uff10\uff14\uff11\uff12 \uff13\uff14\uff15 \uff16\uff17\uff18",
    "arabic-indic digits": "\u0660\u0664\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",
    "extra digit": "0412 345 6789",
    "missing digit": "0412 345 67",
    "vanity letters": "0412 FLOWER",
    "extension": "+61 412 345 678 ext 5",
    "tel uri": "tel:+61412345678",
    "plus in the middle": "04+12 345 678",
    "empty": "",
    "too long": "0" * 41,
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_mobile_spellings_give_one_e164(spelling: str) -> None:
    """Every usual spelling of one Australian mobile normalises to the same E.164 string."""
    assert normalise_phone(spelling, mobile_only=True) == MOBILE_E164


def test_seven_spellings_give_one_identifier() -> None:
    """At least seven distinct spellings collapse to one SMS identifier."""
    identifiers = {normalise("sms", spelling) for spelling in SPELLINGS}
    assert len(SPELLINGS) >= 7
    assert len(identifiers) == 1


@pytest.mark.parametrize("raw", REJECTED_PHONES.values(), ids=REJECTED_PHONES.keys())
def test_wrong_phone_forms_are_rejected(raw: str) -> None:
    """Forms that phonenumbers would accept or that are not numbers raise InvalidIdentifier."""
    with pytest.raises(InvalidIdentifier):
        normalise("sms", raw)


# Separators that phone keyboards and copy-paste put between digit groups.
PASTED_SEPARATORS = {
    "en dash": "0412\u2013345\u2013678",
    "non-breaking hyphen": "0412\u2011345\u2011678",
    "minus sign": "0412\u2212345\u2212678",
    "no-break space": "0412\u00a0345\u00a0678",
    "thin space": "+61\u2009412\u2009345\u2009678",
    "narrow no-break space": "+61\u202f412\u202f345\u202f678",
    "figure space": "0412\u2007345\u2007678",
    "mixed": "(04)\u00a01234\u20135678",
}


@pytest.mark.parametrize("spelling", PASTED_SEPARATORS.values(), ids=PASTED_SEPARATORS.keys())
def test_pasted_separators_accepted(spelling: str) -> None:
    """Unicode dashes and spaces pasted from a phone separate digit groups like their ASCII forms."""
    assert normalise_phone(spelling, mobile_only=True) == MOBILE_E164


@pytest.mark.parametrize(
    "raw",
    [
        "0412\u2013345\u2013\uff16\uff17\uff18",
        "\u0660\u0664\u00a0\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",
        "0412\u00a0345\u00a0\u0e56\u0e57\u0e58",
        "0412\u200b345\u200b678",
    ],
    ids=["full-width after en dash", "arabic-indic with nbsp", "thai digits", "zero-width space"],
)
def test_pasted_separators_keep_digits_ascii(raw: str) -> None:
    """Accepting Unicode separators lets no non-ASCII digit or invisible character through."""
    with pytest.raises(InvalidIdentifier):
        normalise("sms", raw)


@pytest.mark.parametrize("landline", ["02 9876 5432", "+61 3 9123 4567", "1800 123 456"])
def test_landline_rejected_for_sms(landline: str) -> None:
    """A valid landline or service number is refused for SMS but accepted when any phone will do."""
    with pytest.raises(InvalidIdentifier, match="mobile"):
        normalise("sms", landline)
    assert normalise_phone(landline, mobile_only=False).startswith("+61")


def test_phone_error_never_echoes_value() -> None:
    """The rejection message names the expected form and not the digits that were typed."""
    with pytest.raises(InvalidIdentifier) as caught:
        normalise("sms", "0412 345 6789")
    message = str(caught.value)
    assert "6789" not in message
    assert "04xx xxx xxx" in message


def test_landline_error_never_echoes_value() -> None:
    """The landline message does not repeat the number either."""
    with pytest.raises(InvalidIdentifier) as caught:
        normalise("sms", "02 9876 5432")
    assert "9876" not in str(caught.value)


def test_foreign_mobile_with_country_code() -> None:
    """A foreign mobile written with its country code is kept in E.164."""
    assert normalise_phone("+44 7911 123456", mobile_only=True) == "+447911123456"


def test_other_default_region() -> None:
    """The default region decides how a national spelling is read."""
    assert normalise_phone("07911 123456", "GB", mobile_only=True) == "+447911123456"


def test_invalid_identifier_is_value_error() -> None:
    """Callers that catch ValueError also catch InvalidIdentifier."""
    with pytest.raises(ValueError, match="Not a valid Australian mobile number"):
        normalise("sms", "hello")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (123456789, "123456789"),
        ("123456789", "123456789"),
        (" 42 ", "42"),
        (-1001234567890, "-1001234567890"),
    ],
)
def test_telegram_chat_ids(raw: int | str, expected: str) -> None:
    """Chat ids are canonical decimal strings whether given as int or str."""
    assert normalise_telegram_chat_id(raw) == expected


@pytest.mark.parametrize("raw", ["0", "007", "+42", "12a", "\uff11\uff12", "1.5", "", str(2**63), 0])
def test_telegram_bad_chat_ids(raw: int | str) -> None:
    """Zero, leading zeros, signs other than minus, non-ASCII digits and overflow are rejected."""
    with pytest.raises(InvalidIdentifier):
        normalise("telegram", raw)


def test_telegram_bool_is_type_error() -> None:
    """A bool is a programming error, not a chat id."""
    with pytest.raises(TypeError):
        normalise_telegram_chat_id(True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane.Doe@Example.ORG ", "jane.doe@example.org"),
        ("jane@BÜCHER.example", "jane@xn--bcher-kva.example"),
        ("E\u0301lodie@example.org", "\u00e9lodie@example.org"),
        ("a+tag@sub.example.com.au", "a+tag@sub.example.com.au"),
        ("jane@stra\u00dfe.de", "jane@xn--strae-oqa.de"),
        ("jane@STRASSE.de", "jane@strasse.de"),
        ("jane@\u03c2.gr", "jane@xn--3xa.gr"),
        ("jane@\u03c3.gr", "jane@xn--4xa.gr"),
        ("jane@XN--BCHER-KVA.example", "jane@xn--bcher-kva.example"),
        ("jane@\uff45xample.org", "jane@example.org"),
        ("jane@example\u3002org", "jane@example.org"),
        ("jane@example.xn--p1ai", "jane@example.xn--p1ai"),
    ],
)
def test_email_normalised(raw: str, expected: str) -> None:
    """Addresses are trimmed, NFC-normalised, lower-cased, with an IDNA-encoded domain."""
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "jane",
        "@example.org",
        "jane@",
        "jane doe@example.org",
        "jane@localhost",
        "jane@exa mple.org",
        "jane@-example.org",
        "jane@example..org",
        ".jane@example.org",
        "ja..ne@example.org",
        '"jane"@example.org',
        "jane\u200b@example.org",
        "x" * 65 + "@example.org",
        "jane@" + "a" * 250 + ".org",
        "jane@1.2.3.4",
        "jane@[1.2.3.4]",
        "jane@[ipv6:2001:db8::1]",
        "jane@127.1",
        "jane@example.c",
        "jane@example.123",
        "jane@example.c0m",
        "jane@example.org.",
        "jane@xn--zz.org",
        "jane@example.xn--zz",
        "jane@ex--ample.org",
        "jane@exa_mple.org",
        "jane@a\u200db.org",
    ],
)
def test_bad_email_rejected(raw: str) -> None:
    """Malformed addresses raise InvalidIdentifier without echoing the address."""
    with pytest.raises(InvalidIdentifier) as caught:
        normalise("email", raw)
    assert "jane" not in str(caught.value)


def test_idna_2008_keeps_domains_apart() -> None:
    """Domains that IDNA 2003 folds together (sharp s and ss, final and medial sigma) stay distinct."""
    assert normalise_email("jane@stra\u00dfe.de") != normalise_email("jane@strasse.de")
    assert normalise_email("jane@\u03c2.gr") != normalise_email("jane@\u03c3.gr")


def test_unknown_channel() -> None:
    """An unknown channel is a ValueError naming the known channels."""
    with pytest.raises(ValueError, match="sms, telegram, email"):
        normalise("fax", "0412 345 678")


def test_identifier_repr_hides_value() -> None:
    """An Identifier in a log line or traceback shows its channel only."""
    identifier = normalise("sms", "0412 345 678")
    assert "412" not in repr(identifier)
    assert "412" not in f"{identifier}"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_phone_never_crashes(raw: str) -> None:
    """Any text either normalises to E.164 or raises InvalidIdentifier, and the result is stable."""
    try:
        result = normalise_phone(raw, mobile_only=True)
    except InvalidIdentifier:
        return
    assert result.startswith("+")
    assert normalise_phone(result, mobile_only=True) == result


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_email_normalisation_is_idempotent(raw: str) -> None:
    """Normalising a normalised address returns it unchanged."""
    try:
        result = normalise_email(raw)
    except InvalidIdentifier:
        return
    assert normalise_email(result) == result
