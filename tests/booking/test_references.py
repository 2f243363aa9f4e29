"""Tests of booking references: format, parsing and the check symbol."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.errors import InvalidReference
from booking.references import ALPHABET, check_symbol, new_reference, parse_reference

DISPLAY = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")

data_symbols = st.text(alphabet=ALPHABET, min_size=7, max_size=7)


def _reference(data: str) -> str:
    return f"{data[:4]}-{data[4:]}{check_symbol(data)}"


def test_new_reference_has_display_form() -> None:
    """A new reference is eight alphabet symbols shown as two groups of four."""
    for _ in range(200):
        reference = new_reference()
        assert DISPLAY.match(reference) is not None
        assert parse_reference(reference) == reference


def test_new_reference_uses_35_random_bits() -> None:
    """A reference draws exactly 35 bits and spells them in its first seven symbols."""
    requested: list[int] = []

    def all_ones(bits: int) -> int:
        requested.append(bits)
        return (1 << bits) - 1

    assert new_reference(all_ones)[:8] == "ZZZZ-ZZZ"
    assert requested == [35]
    assert new_reference(lambda bits: 0)[:8] == "0000-000"


def test_new_references_differ() -> None:
    """Ten thousand fresh references are all distinct."""
    references = {new_reference() for _ in range(10_000)}
    assert len(references) == 10_000


def test_check_symbol_of_zeros() -> None:
    """All-zero data has check symbol 0, because the weighted sum is zero."""
    assert check_symbol("0000000") == "0"


@pytest.mark.parametrize(
    "spell",
    [
        str.lower,
        lambda reference: reference.replace("-", ""),
        lambda reference: reference.replace("-", " ").lower(),
        lambda reference: f"  {reference[:4]} - {reference[5:]} ",
        lambda reference: reference,
    ],
)
def test_parse_accepts_case_and_separators(spell: Callable[[str], str]) -> None:
    """Case, dashes and spaces do not matter when typing a reference."""
    reference = _reference("K7QM4X2")
    assert parse_reference(spell(reference)) == reference


@pytest.mark.parametrize(
    "separator",
    ["\n", "\r\n", "\u00a0", "\u2013", "\u2014", "\u2011", "\u2212", " \u2013 "],
    ids=["newline", "crlf", "no-break space", "en dash", "em dash", "no-break hyphen", "minus", "spaced"],
)
def test_parse_accepts_pasted_separators(separator: str) -> None:
    """Dashes and spaces that phones and editors substitute separate the groups like a hyphen."""
    reference = _reference("K7QM4X2")
    assert parse_reference(reference.replace("-", separator)) == reference


def test_parse_accepts_trailing_newline() -> None:
    """A reference pasted with its line ending still parses."""
    reference = _reference("K7QM4X2")
    assert parse_reference(reference + "\n") == reference
    assert parse_reference(reference.replace("-", "\u00a0") + "\r\n") == reference


def test_parse_reads_confusable_letters() -> None:
    """O reads as zero, and I and L read as one, in either case."""
    reference = _reference("10A01B0")
    typed = reference.replace("0", "O").replace("1", "l")
    assert typed != reference
    assert parse_reference(typed) == reference
    assert parse_reference(reference.replace("1", "I").replace("0", "o")) == reference


@pytest.mark.parametrize("typed", ["", "K7QM-4X2", "K7QM-4X2PP", "K7QM-4X2*", "UUUU-UUUU"])
def test_parse_rejects_malformed_input(typed: str) -> None:
    """Wrong length or a symbol outside the alphabet raises InvalidReference."""
    with pytest.raises(InvalidReference):
        parse_reference(typed)


def test_error_does_not_repeat_input() -> None:
    """The error message never contains what was typed."""
    typed = "0412 345 678"
    with pytest.raises(InvalidReference) as caught:
        parse_reference(typed)
    assert "0412" not in str(caught.value)
    assert "345" not in str(caught.value)


@settings(max_examples=200)
@given(data_symbols)
def test_every_single_substitution_is_caught(data: str) -> None:
    """Changing any one symbol, the check symbol included, is always rejected."""
    compact = data + check_symbol(data)
    for position in range(8):
        for symbol in ALPHABET:
            if symbol == compact[position]:
                continue
            typed = compact[:position] + symbol + compact[position + 1 :]
            with pytest.raises(InvalidReference):
                parse_reference(typed)


@settings(max_examples=300)
@given(data_symbols)
def test_every_transposition_is_caught(data: str) -> None:
    """Swapping any two different symbols, adjacent or not, is always rejected."""
    compact = data + check_symbol(data)
    for first in range(8):
        for second in range(first + 1, 8):
            if compact[first] == compact[second]:
                continue
            swapped = list(compact)
            swapped[first], swapped[second] = swapped[second], swapped[first]
            with pytest.raises(InvalidReference):
                parse_reference("".join(swapped))
