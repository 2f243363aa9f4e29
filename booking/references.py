"""Booking references: seven random Crockford base32 symbols and one check symbol.

A reference such as `K7QM-4X2P` is 35 random bits (seven symbols of
Crockford's base32 alphabet, drawn with `secrets`) followed by a check symbol
from the same alphabet, so it holds only letters and digits and reads well
aloud. A reference names a booking and grants nothing by itself: the service
lets a patient act only on bookings made from their own contact.

The check symbol makes the eight symbols a codeword of a one-symbol
Reed-Solomon-style parity check over GF(32). With symbol values
c0..c7 (c7 the check) and a primitive element a of GF(32), a valid
reference satisfies

    a^0*c0 + a^1*c1 + ... + a^7*c7 = 0      (arithmetic in GF(32))

Addition in GF(32) is XOR, and a has multiplicative order 31, so:

* one wrong symbol e at position i changes the sum by a^i*e, never 0:
  every single substitution is caught, the check symbol included;
* swapping the different symbols x and y at positions i < j changes the sum
  by a^i*(1 + a^(j-i))*(x + y), which is not 0 because a^(j-i) != 1 for
  0 < j-i < 31: every transposition is caught, adjacent or not.

A plain weighted sum modulo 32 cannot do both, because weights must be odd
to catch substitutions, and the difference of two odd weights is even.
Crockford's own check symbol needs five extra symbols (`*~$=U`), which we
avoid so that a reference stays alphanumeric.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from booking.errors import InvalidReference

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32 alphabet: digits and letters without I, L, O and U."""

DATA_SYMBOLS = 7
RANDOM_BITS = 5 * DATA_SYMBOLS

# GF(32) is built as polynomials over GF(2) modulo x^5 + x^2 + 1, a primitive
# polynomial, so the element x (the value 2) generates all 31 non-zero elements.
_FIELD_POLYNOMIAL = 0b100101
_EXP: list[int] = []
_LOG: dict[int, int] = {}


def _build_tables() -> None:
    value = 1
    for power in range(31):
        _EXP.append(value)
        _LOG[value] = power
        value <<= 1
        if value & 0b100000:
            value ^= _FIELD_POLYNOMIAL


_build_tables()

_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
# Crockford decoding: O reads as zero, and I and L read as one.
_VALUE.update({"O": 0, "I": 1, "L": 1})
# Separators a patient may type or paste are white space (including a
# trailing newline and the non-breaking space) and the hyphen-minus. Phones
# and word processors may replace the hyphen-minus with the hyphen,
# non-breaking hyphen, figure dash, en dash, em dash or minus sign.
_DASHES = str.maketrans("", "", "-\u2010\u2011\u2012\u2013\u2014\u2212")

_FORMAT_HINT = "a reference is 8 letters and digits, such as K7QM-4X2P"


def _multiply(left: int, right: int) -> int:
    if left == 0 or right == 0:
        return 0
    return _EXP[(_LOG[left] + _LOG[right]) % 31]


def _syndrome(values: list[int]) -> int:
    total = 0
    for position, value in enumerate(values):
        total ^= _multiply(_EXP[position % 31], value)
    return total


def check_symbol(data: str) -> str:
    """Return the check symbol for seven canonical data symbols."""
    if len(data) != DATA_SYMBOLS or any(symbol not in ALPHABET for symbol in data):
        raise InvalidReference(f"check_symbol needs {DATA_SYMBOLS} base32 symbols")
    partial = _syndrome([_VALUE[symbol] for symbol in data])
    # The check value c7 must cancel the partial sum: a^7 * c7 = partial.
    inverse_weight = _EXP[(31 - DATA_SYMBOLS) % 31]
    return ALPHABET[_multiply(partial, inverse_weight)]


def format_reference(symbols: str) -> str:
    """Return eight canonical symbols in display form, `XXXX-XXXX`."""
    return f"{symbols[:4]}-{symbols[4:]}"


def new_reference(randbits: Callable[[int], int] = secrets.randbits) -> str:
    """Return a fresh random reference in display form, such as `K7QM-4X2P`."""
    number = randbits(RANDOM_BITS)
    data = "".join(ALPHABET[(number >> (5 * shift)) & 31] for shift in reversed(range(7)))
    return format_reference(data + check_symbol(data))


def parse_reference(text: str) -> str:
    """Return the display form of a typed reference, or raise `InvalidReference`.

    Case, dashes and white space are ignored, O is read as 0, and I and L as 1.
    The check symbol is verified here, so a mistyped reference is rejected
    before any database lookup. The message never repeats the input, which
    might be something else the patient typed by mistake.
    """
    compact = "".join(text.translate(_DASHES).split()).upper()
    if len(compact) != DATA_SYMBOLS + 1:
        raise InvalidReference(f"invalid booking reference: {_FORMAT_HINT}")
    if any(symbol not in _VALUE for symbol in compact):
        raise InvalidReference(
            f"invalid booking reference: it contains a character that is not used; {_FORMAT_HINT}"
        )

    values = [_VALUE[symbol] for symbol in compact]
    if _syndrome(values) != 0:
        raise InvalidReference(
            "invalid booking reference: a character is mistyped; check the reference and try again"
        )
    return format_reference("".join(ALPHABET[value] for value in values))
