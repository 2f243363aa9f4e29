"""Exceptions raised by the crypto package, none of which carries a secret or a contact detail."""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every error raised on purpose by the crypto package."""


class InvalidIdentifier(CryptoError, ValueError):
    """A phone number, chat id or e-mail address that cannot be normalised.

    The message names the expected form and never repeats the rejected
    value, so it can be shown to the person who typed it and logged safely.
    """


class CannotOpen(CryptoError):
    """A sealed payload that could not be opened, for whatever reason.

    Wrong key, unknown key id, another row's payload, a flipped bit and a
    truncated blob all raise this one type with one message, so neither the
    caller nor an attacker learns which check failed.
    """

    MESSAGE = (
        "sealed contact could not be opened. "
        "Check that the relay keyring holds the key that sealed it "
        "and that the payload belongs to this contact row."
    )

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class KeyringError(CryptoError):
    """A keyring file or folder that is missing, unreadable, too widely readable or malformed."""
