"""Normalisation of phone numbers, Telegram chat ids and e-mail addresses before they are keyed."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal, get_args

import idna
import phonenumbers

from crypto.errors import InvalidIdentifier

Channel = Literal["sms", "telegram", "email"]
CHANNELS: Final[tuple[Channel, ...]] = get_args(Channel)

# Spelling characters a person types around the digits of a phone number.
# Anything else (letters, full-width or other non-ASCII digits, "ext", ";")
# is rejected before phonenumbers sees it, because phonenumbers silently
# converts vanity letters and non-ASCII digits, and drops extensions.
_PHONE_SPELLING = re.compile(r"\+?[0-9 ()./-]+", re.ASCII)
_PHONE_MAX_CHARS: Final = 40
# Unicode spaces and dashes that phone keyboards, contact cards and copied
# web pages put between digit groups. Each becomes its ASCII form before the
# check above, so they never let a non-ASCII digit or letter through.
_PHONE_SEPARATORS: Final = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u2007": " ",  # figure space
        "\u2009": " ",  # thin space
        "\u202f": " ",  # narrow no-break space
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2212": "-",  # minus sign
    }
)

_MOBILE_TYPES: Final = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)

_CHAT_ID = re.compile(r"-?[1-9][0-9]*", re.ASCII)
_CHAT_ID_LIMIT: Final = 2**63  # Telegram chat ids fit a signed 64-bit integer.

# RFC 5321 limits a forward path to 256 octets including the angle brackets.
_EMAIL_MAX_OCTETS: Final = 254
_LOCAL_PART_MAX_OCTETS: Final = 64
_LOCAL_PART_FORBIDDEN = frozenset('"(),:;<>[]\\@')
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
# Every top-level domain in the DNS root zone is either two or more ASCII
# letters or an A-label (`xn--p1ai`). A final label of digits is an IPv4
# address (`1.2.3.4`, `127.1`), and a one-letter or digit-bearing one is a typo.
# RFC 1035 limits a domain name to 253 characters in dotted text. Longer
# input is rejected before `idna.encode` runs, which bounds its work on
# hostile input (CVE-2024-3651 and CVE-2026-45409 were slow paths there).
# This also rejects a long domain padded with characters that UTS #46
# mapping drops, such as soft hyphens, which no one types on purpose.
_DOMAIN_MAX_CHARS: Final = 253
_TOP_LEVEL_LABEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}", re.ASCII)


@dataclass(frozen=True)
class Identifier:
    """A normalised contact identifier with its channel, as produced by `normalise`.

    The value is a contact detail, so `repr` hides it: an Identifier that
    reaches a log line or a traceback shows only its channel.
    """

    channel: Channel
    value: str

    def __repr__(self) -> str:
        return f"Identifier(channel={self.channel!r}, value=<hidden>)"

    def keyed_bytes(self) -> bytes:
        """Return the bytes that are pseudonymised and sealed: `channel:value` in UTF-8."""
        return f"{self.channel}:{self.value}".encode()


def _phone_error(default_region: str, *, mobile_only: bool) -> InvalidIdentifier:
    kind = "mobile number" if mobile_only else "phone number"
    if default_region == "AU":
        return InvalidIdentifier(
            f"Not a valid Australian {kind}. Write it as 04xx xxx xxx or +61 4xx xxx xxx."
            if mobile_only
            else f"Not a valid Australian {kind}. Write it as 0x xxxx xxxx or +61 x xxxx xxxx."
        )
    return InvalidIdentifier(f"Not a valid {kind}. Write it with its country code, starting with +.")


def normalise_phone(raw: str, default_region: str = "AU", *, mobile_only: bool) -> str:
    """Return the E.164 form (`+61412345678`) of a phone number typed in any usual spelling.

    Spaces, dashes, dots and brackets are ignored, including the Unicode
    no-break and thin spaces and en dashes that pasted numbers carry, but
    every digit must be ASCII. A leading `+CC`, `00CC` or
    the region's own international prefix gives the country. Without one,
    `default_region` (ISO 3166 alpha-2) does. The number must pass
    `phonenumbers.is_valid_number`, and with `mobile_only` it must be a
    mobile. Raises InvalidIdentifier, whose message never repeats `raw`.
    """
    if not isinstance(raw, str):
        raise TypeError(f"a phone number must be given as str, not {type(raw).__name__}")
    spelled = raw.strip().translate(_PHONE_SEPARATORS)
    if len(spelled) > _PHONE_MAX_CHARS or _PHONE_SPELLING.fullmatch(spelled) is None:
        raise _phone_error(default_region, mobile_only=mobile_only)

    number = _parse_valid(spelled, default_region)
    if number is None and spelled.startswith("00"):
        # "00" is the international prefix of most countries, and people write
        # Australian numbers as 0061 ... even though Australia's own prefix is
        # 0011. No national number of a supported region starts with 00.
        number = _parse_valid("+" + spelled[2:], default_region)
    if number is None:
        raise _phone_error(default_region, mobile_only=mobile_only)

    if mobile_only and phonenumbers.number_type(number) not in _MOBILE_TYPES:
        example = " such as 04xx xxx xxx" if default_region == "AU" else ""
        raise InvalidIdentifier(
            f"This is a landline or service number, and text messages need a mobile number{example}."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_valid(spelled: str, default_region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(spelled, default_region)
    except phonenumbers.NumberParseException:
        return None
    if number.extension or not phonenumbers.is_valid_number(number):
        return None
    return number


def normalise_telegram_chat_id(raw: str | int) -> str:
    """Return a Telegram chat id as a canonical decimal string (no sign for positive ids, no leading zeros).

    Accepts an int or a string of ASCII digits with an optional leading `-`
    (group chats have negative ids). Raises InvalidIdentifier otherwise.
    """
    if isinstance(raw, bool):
        raise TypeError("a Telegram chat id must be an int or str, not bool")
    if isinstance(raw, int):
        chat_id = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if _CHAT_ID.fullmatch(text) is None or len(text) > 20:
            raise InvalidIdentifier(
                "Not a valid Telegram chat id. A chat id is a whole number without leading zeros."
            )
        chat_id = int(text)
    else:
        raise TypeError(f"a Telegram chat id must be an int or str, not {type(raw).__name__}")

    if chat_id == 0 or not -_CHAT_ID_LIMIT <= chat_id < _CHAT_ID_LIMIT:
        raise InvalidIdentifier("Not a valid Telegram chat id. A chat id is a non-zero 64-bit whole number.")
    return str(chat_id)


def normalise_email(raw: str) -> str:
    """Return an e-mail address trimmed, NFC-normalised, lower-cased, with its domain IDNA-encoded.

    The local part may hold UTF-8 letters but no spaces, control characters,
    quotes or brackets. The domain is encoded with IDNA 2008 after UTS #46
    mapping, which keeps `straße.de` apart from `strasse.de`; Python's own
    `idna` codec implements IDNA 2003, which folds the two together. The
    domain needs at least two labels and a top-level label of two or more
    letters or an A-label, so IP addresses and IP literals are rejected.
    Raises InvalidIdentifier.
    """
    if not isinstance(raw, str):
        raise TypeError(f"an e-mail address must be given as str, not {type(raw).__name__}")
    error = InvalidIdentifier(
        "Not a valid e-mail address. Write it as name@example.org, without spaces or brackets."
    )
    text = unicodedata.normalize("NFC", unicodedata.normalize("NFC", raw.strip()).lower())
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise error

    if (
        len(local.encode()) > _LOCAL_PART_MAX_OCTETS
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or any(_is_forbidden_in_local_part(char) for char in local)
    ):
        raise error

    ascii_domain = _encode_domain(domain)
    if ascii_domain is None:
        raise error

    address = f"{local}@{ascii_domain}"
    if len(address.encode()) > _EMAIL_MAX_OCTETS:
        raise error
    return address


def _encode_domain(domain: str) -> str | None:
    """Return the domain as A-labels, or None if it is not a valid internet mail domain."""
    if len(domain) > _DOMAIN_MAX_CHARS:
        return None
    try:
        # Non-transitional UTS #46 processing maps full-width letters and the
        # ideographic full stop, and keeps ß, ς and the joiners as IDNA 2008
        # does. It also decodes and checks every `xn--` label it is given.
        ascii_domain = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return None
    if _TOP_LEVEL_LABEL.fullmatch(labels[-1]) is None:
        return None
    return ascii_domain


def _is_forbidden_in_local_part(char: str) -> bool:
    return (
        char in _LOCAL_PART_FORBIDDEN
        or char.isspace()
        or unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}
    )


def normalise(channel: str, raw: str | int, default_region: str = "AU") -> Identifier:
    """Normalise `raw` for `channel` (`sms` needs a mobile number) and return it as an Identifier.

    Raises InvalidIdentifier for a bad identifier and ValueError for an unknown channel.
    """
    if channel == "sms":
        if not isinstance(raw, str):
            raise TypeError(f"a phone number must be given as str, not {type(raw).__name__}")
        return Identifier("sms", normalise_phone(raw, default_region, mobile_only=True))
    if channel == "telegram":
        return Identifier("telegram", normalise_telegram_chat_id(raw))
    if channel == "email":
        if not isinstance(raw, str):
            raise TypeError(f"an e-mail address must be given as str, not {type(raw).__name__}")
        return Identifier("email", normalise_email(raw))
    raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")


def check_channel(channel: str) -> Channel:
    """Return `channel` typed as a Channel, or raise ValueError if it is not one."""
    for known in CHANNELS:
        if channel == known:
            return known
    raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
