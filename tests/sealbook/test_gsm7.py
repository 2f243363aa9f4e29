"""GSM-7 alphabet, SMS segment counting, transliteration and shortening to fit."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealbook.gsm7 import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsSize,
    fit_segments,
    is_gsm7,
    measure_sms,
    to_gsm7,
)

APOSTROPHE = "\u2019"  # the curly apostrophe phones insert, outside GSM-7


def test_alphabet_sizes() -> None:
    """The default alphabet has 127 printable characters and the extension ten."""
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert GSM7_BASIC.isdisjoint(GSM7_EXTENSION)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsSize("GSM-7", 0, 0)),
        ("a" * 160, SmsSize("GSM-7", 160, 1)),
        ("a" * 161, SmsSize("GSM-7", 161, 2)),
        ("a" * 306, SmsSize("GSM-7", 306, 2)),
        ("a" * 307, SmsSize("GSM-7", 307, 3)),
        ("€" * 80, SmsSize("GSM-7", 160, 1)),
        ("€" * 81, SmsSize("GSM-7", 162, 2)),
        ("[" + "a" * 159, SmsSize("GSM-7", 161, 2)),
        ("\u2019" + "a" * 69, SmsSize("UCS-2", 70, 1)),
        ("\u2019" + "a" * 70, SmsSize("UCS-2", 71, 2)),
        ("\u2019" + "a" * 133, SmsSize("UCS-2", 134, 2)),
        ("\u2019" + "a" * 134, SmsSize("UCS-2", 135, 3)),
        ("\U0001f600" * 35, SmsSize("UCS-2", 70, 1)),
    ],
    ids=[
        "empty",
        "gsm-160",
        "gsm-161",
        "gsm-306",
        "gsm-307",
        "euro-80",
        "euro-81",
        "bracket-plus-159",
        "ucs2-70",
        "ucs2-71",
        "ucs2-134",
        "ucs2-135",
        "emoji-35",
    ],
)
def test_measure_sms(text: str, expected: SmsSize) -> None:
    """Encoding, unit count and segment count match the GSM and UCS-2 limits."""
    assert measure_sms(text) == expected


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 158 + "€", 1),
        ("a" * 159 + "€", 2),
        ("a" * 152 + "€" + "a" * 10, 2),
        ("a" * 70 + APOSTROPHE, 2),
        (APOSTROPHE * 70, 1),
    ],
)
def test_segment_count_boundaries(text: str, segments: int) -> None:
    """Segments follow the 160/153 GSM-7 and 70/67 UCS-2 limits; extension characters weigh 2."""
    assert measure_sms(text).segments == segments


def test_extension_character_not_split() -> None:
    """An escape pair that would straddle two segments starts the next one instead."""
    text = "a" * 152 + "€" + "a" * 152

    size = measure_sms(text)

    assert size.units == 306
    assert size.segments == 3


def test_surrogate_pair_not_split() -> None:
    """An emoji that would straddle two UCS-2 segments starts the next one instead."""
    text = "a" * 66 + "\U0001f600" + "a" * 66

    size = measure_sms(text)

    assert size.units == 134
    assert size.segments == 3


def test_one_curly_apostrophe_switches_to_ucs2() -> None:
    """A single curly apostrophe halves what fits in a segment."""
    plain = "It's booked. " * 10
    curly = plain.replace("'", "\u2019")

    assert measure_sms(plain) == SmsSize("GSM-7", 130, 1)
    assert measure_sms(curly) == SmsSize("UCS-2", 130, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u201cHi\u201d \u2013 it\u2019s booked\u2026", '"Hi" - it\'s booked...'),
        ("9\u00a0am\u2014ok", "9 am-ok"),
        ("zero\u200bwidth\u00ad", "zerowidth"),
        ("caf\u00e9 \u00e0 Gen\u00e8ve", "caf\u00e9 \u00e0 Gen\u00e8ve"),
        ("N\u00fa\u00f1ez", "Nu\u00f1ez"),
        ("see you \U0001f600", "see you ?"),
        ("\u4f60\u597d", "??"),
        ("price \u20ac5 {ok}", "price \u20ac5 {ok}"),
        ("\u2022 item", "- item"),
    ],
    ids=[
        "quotes-dash-ellipsis",
        "nbsp-em-dash",
        "invisible",
        "gsm-accents",
        "accent-dropped",
        "emoji",
        "cjk",
        "extension-kept",
        "bullet",
    ],
)
def test_to_gsm7(text: str, expected: str) -> None:
    """Typographic characters fold to their GSM-7 equivalents."""
    assert to_gsm7(text) == expected


def test_transliteration() -> None:
    """Typographic characters become plain GSM-7 and accents outside the alphabet are dropped."""
    typographic = "O\u2019Brien \u2014 \u201cZo\u00eb\u201d caf\u00e9\u2026"
    assert to_gsm7(typographic) == 'O\'Brien - "Zoe" caf\u00e9...'
    assert to_gsm7("✓ 医") == "? ?"


@pytest.mark.parametrize(
    ("letter", "expected"),
    [
        ("\u0141", "L"),
        ("\u0142", "l"),
        ("\u0110", "D"),
        ("\u0111", "d"),
        ("\u00d0", "D"),
        ("\u00f0", "d"),
        ("\u0131", "i"),
        ("\u0152", "OE"),
        ("\u0153", "oe"),
        ("\u00de", "TH"),
        ("\u00fe", "th"),
        ("\u0126", "H"),
        ("\u0127", "h"),
        ("\u0166", "T"),
        ("\u0167", "t"),
    ],
)
def test_letter_without_decomposition(letter: str, expected: str) -> None:
    """Latin letters that NFKD leaves whole get their plain-Latin spelling, not `?`."""
    assert unicodedata.normalize("NFKD", letter) == letter
    assert to_gsm7(letter) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("\u0141ukasz W\u0119\u017cyk", "Lukasz Wezyk"),
        ("\u0110or\u0111e Petrovi\u0107", "Dorde Petrovic"),
        ("Mehmet Y\u0131lmaz", "Mehmet Yilmaz"),
        ("\u00deor\u00f0ur Sigur\u00f0sson", "THordur Sigurdsson"),
        ("Dr Ma\u00eblle C\u0153urdevey", "Dr Maelle Coeurdevey"),
        ("\u0126amrun", "Hamrun"),
    ],
    ids=["polish", "serbian", "turkish", "icelandic", "french", "maltese"],
)
def test_names_fold_to_plain_latin(name: str, expected: str) -> None:
    """Patient and practitioner names keep every letter instead of gaining `?`."""
    assert to_gsm7(name) == expected


def test_fit_segments_keeps_short_text() -> None:
    """Text that already fits is returned unchanged, trailing space included."""
    text = "a" * 300 + "  "

    assert fit_segments(text, 2) == text


@pytest.mark.parametrize(
    ("text", "max_segments", "expected"),
    [
        ("a" * 161, 1, "a" * 157 + "..."),
        ("a" * 307, 2, "a" * 303 + "..."),
        ("a" * 300 + " " * 10 + "b", 2, "a" * 300 + "..."),
        ("a" * 150 + "€" * 10, 1, "a" * 150 + "€" * 3 + "..."),
        ("a" * 152 + "€" + "a" * 160, 2, "a" * 152 + "€" + "a" * 148 + "..."),
    ],
    ids=["one-segment", "two-segments", "trailing-space", "extension-one-segment", "extension-at-boundary"],
)
def test_fit_segments_shortens(text: str, max_segments: int, expected: str) -> None:
    """Long text is cut to the septet budget less the ellipsis, never splitting an escape pair."""
    fitted = fit_segments(text, max_segments)

    assert fitted == expected
    assert measure_sms(fitted).segments <= max_segments


def test_fit_segments_custom_ellipsis() -> None:
    """The ellipsis passed in ends the text, its brackets counting two septets each."""
    fitted = fit_segments("a" * 200, 1, ellipsis=" [more]")

    assert fitted == "a" * 151 + " [more]"
    assert measure_sms(fitted).units == 160


def test_fit_segments_rejects_non_gsm7() -> None:
    """Text outside GSM-7 raises instead of being measured in the wrong unit."""
    with pytest.raises(ValueError, match="to_gsm7"):
        fit_segments(APOSTROPHE * 400, 2)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_sanitised_text_is_gsm7(text: str) -> None:
    """Sanitised text is always GSM-7, and sanitising twice changes nothing."""
    once = to_gsm7(text)

    assert is_gsm7(once)
    assert to_gsm7(once) == once
    assert measure_sms(once).encoding == "GSM-7"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=700))
def test_segments_at_least_plain_ratio(text: str) -> None:
    """Segment counts are never below units divided by the per-segment size."""
    size = measure_sms(text)

    single, multi = (160, 153) if size.encoding == "GSM-7" else (70, 67)
    if size.units == 0:
        assert size.segments == 0
    elif size.units <= single:
        assert size.segments == 1
    else:
        assert size.segments >= math.ceil(size.units / multi)
        assert size.segments <= math.ceil(size.units / (multi - 1))
