"""SMS opt-out, opt-in and help keywords, recognised the way Twilio and the carriers recognise them."""

from __future__ import annotations

import enum
import string

# Twilio's default whole-message keywords for long codes (Twilio's help article
# "Twilio support for opt-out keywords (SMS STOP filtering)"). Only a message
# that is the keyword alone counts: "STOP PLEASE" or "please cancel" does not.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP"})

# Twilio matches keywords case-insensitively. Leading and trailing whitespace
# and punctuation ("Stop.", " stop! ") are also stripped here, erring towards
# honouring an opt-out that a patient clearly meant.
_STRIPPED = string.whitespace + string.punctuation + "\u00a0\u2018\u2019\u201c\u201d\u2026"


class SmsKeyword(enum.Enum):
    """A whole-message keyword, or ``NONE`` for ordinary text."""

    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"
    HELP = "help"
    NONE = "none"


# Values of the OptOutType parameter that Twilio's Advanced Opt-Out adds.
_OPT_OUT_TYPES = {"STOP": SmsKeyword.OPT_OUT, "START": SmsKeyword.OPT_IN, "HELP": SmsKeyword.HELP}


def classify_sms(body: str, opt_out_type: str | None) -> SmsKeyword:
    """Return the keyword an inbound SMS is, with Twilio's ``OptOutType`` taking precedence.

    With Advanced Opt-Out a Messaging Service may define its own keywords
    (in other languages, say), which only ``OptOutType`` reveals.
    """
    if opt_out_type:
        known = _OPT_OUT_TYPES.get(opt_out_type.strip().upper())
        if known is not None:
            return known
    word = body.strip(_STRIPPED).upper()
    if word in OPT_OUT_WORDS:
        return SmsKeyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return SmsKeyword.OPT_IN
    if word in HELP_WORDS:
        return SmsKeyword.HELP
    return SmsKeyword.NONE
