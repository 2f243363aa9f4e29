"""The base exception of every sealbook error, and the configuration error."""


class SealbookError(Exception):
    """Base of every error that sealbook raises on purpose.

    Messages are shown to staff or operators as they are, so they say what
    failed and what to do next, and never contain a secret, a contact detail,
    a pseudonym or message text.
    """


class ConfigError(SealbookError):
    """A setting is missing or invalid; the message names it and the fix."""
