"""Exit codes of ``sealbook-admin`` and the errors that choose them."""

from __future__ import annotations

from sealbook.errors import SealbookError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_REFUSED = 4
EXIT_AUDIT_BROKEN = 5

EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 error (settings, database); 2 invalid input (unknown option, "
    "unreadable date, bad message text); 3 not found (booking reference, practitioner); "
    "4 refused (the booking's state or a rule forbids the change, or it was not confirmed), "
    "and nothing changed; 5 the audit log failed verification."
)

# Errors of other packages, by class name, that mean "no such thing" or
# "the change is not allowed". Matching by name keeps this module free of
# imports from the booking core.
_NOT_FOUND_ERRORS = frozenset(
    {"InvalidReference", "BookingNotFound", "NotYourBooking", "UnknownPractitioner", "UnknownAppointmentType"}
)
# A running-late or away declaration that names a minute count, a date or
# a time the booking core cannot accept is invalid input.
_INVALID_ERRORS = frozenset({"DeclarationError"})
_REFUSED_ERRORS = frozenset(
    {
        "NotBookable",
        "OutsideWorkingHours",
        "InThePast",
        "TooSoon",
        "BeyondHorizon",
        "PastCutOff",
        "SlotTaken",
        "InvalidTransition",
        "DayHasBookings",
    }
)


class AdminError(SealbookError):
    """An error of the staff tool; ``exit_code`` is what the process exits with."""

    exit_code = EXIT_ERROR


class InvalidInput(AdminError):
    """A value on the command line cannot be read or is not allowed."""

    exit_code = EXIT_USAGE


class NotFound(AdminError):
    """The booking, practitioner or other record named on the command line does not exist."""

    exit_code = EXIT_NOT_FOUND


class Refused(AdminError):
    """The change was not made: a rule forbids it or the operator did not confirm it."""

    exit_code = EXIT_REFUSED


class AuditChainBroken(AdminError):
    """``audit verify`` found an entry that was altered, removed or reordered."""

    exit_code = EXIT_AUDIT_BROKEN


def exit_code_for(error: SealbookError) -> int:
    """Return the exit code for an error raised by the staff tool or by a package it calls."""
    if isinstance(error, AdminError):
        return error.exit_code
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & _NOT_FOUND_ERRORS:
        return EXIT_NOT_FOUND
    if names & _INVALID_ERRORS:
        return EXIT_USAGE
    if names & _REFUSED_ERRORS:
        return EXIT_REFUSED
    return EXIT_ERROR
