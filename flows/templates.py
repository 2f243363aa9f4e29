"""Dialogue texts from the domain profile's `[templates]` table, checked when loaded.

Each profile writes its texts in its own words (appointment, consultation or
meeting), so templates take no vocabulary placeholders. Every template may
use `{clinic}` and `{phone}`; the others are listed per key below. A missing
key, or a placeholder the key does not provide, is rejected when the
templates are loaded rather than when a patient first meets it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from sealbook.errors import ConfigError

COMMON_PARAMS = frozenset({"clinic", "phone"})

TEMPLATE_PARAMS: Mapping[str, frozenset[str]] = {
    # Whole-conversation texts.
    "common.greeting": frozenset(),
    "common.menu": frozenset(),
    "common.help": frozenset(),
    "common.handoff": frozenset(),
    "common.not_understood": frozenset(),
    "common.stale_choice": frozenset(),
    "common.expired": frozenset(),
    "common.already_done": frozenset({"reference"}),
    "common.no_back": frozenset(),
    "common.error": frozenset(),
    "common.send_text": frozenset(),
    # Choice labels.
    "labels.book": frozenset(),
    "labels.my_bookings": frozenset(),
    "labels.status": frozenset(),
    "labels.email": frozenset(),
    "labels.help": frozenset(),
    "labels.first_available": frozenset(),
    "labels.soonest": frozenset(),
    "labels.later": frozenset(),
    "labels.another_day": frozenset(),
    "labels.yes_book": frozenset(),
    "labels.yes_move": frozenset(),
    "labels.yes_cancel": frozenset(),
    "labels.no": frozenset(),
    "labels.keep": frozenset(),
    "labels.move": frozenset(),
    "labels.cancel": frozenset(),
    "labels.back": frozenset(),
    "labels.slot": frozenset({"when"}),
    "labels.slot_with": frozenset({"when", "practitioner"}),
    "labels.booking": frozenset({"reference", "when"}),
    # Booking a new appointment.
    "book.ask_type": frozenset(),
    "book.ask_practitioner": frozenset({"type"}),
    "book.ask_when": frozenset({"type", "practitioner"}),
    "book.offer": frozenset({"type", "practitioner"}),
    "book.offer_any": frozenset({"type"}),
    "book.offer_next": frozenset({"asked"}),
    "book.none": frozenset({"type", "days"}),
    "book.readback": frozenset({"type", "practitioner", "when"}),
    "book.booked": frozenset({"reference", "type", "practitioner", "when"}),
    "book.taken": frozenset(),
    # The patient's bookings.
    "bookings.list": frozenset(),
    "bookings.none": frozenset(),
    "bookings.actions": frozenset({"reference", "type", "practitioner", "when"}),
    "bookings.gone": frozenset({"reference"}),
    "bookings.unknown_reference": frozenset(),
    # Moving and cancelling.
    "move.ask_when": frozenset({"reference"}),
    "move.readback": frozenset({"reference", "old", "new", "practitioner"}),
    "move.moved": frozenset({"reference", "when", "practitioner"}),
    "move.too_late": frozenset({"reference"}),
    "cancel.readback": frozenset({"reference", "type", "when"}),
    "cancel.cancelled": frozenset({"reference"}),
    "cancel.kept": frozenset({"reference"}),
    "cancel.too_late": frozenset({"reference"}),
    # Status of a booking.
    "status.on_time": frozenset({"reference", "practitioner", "when"}),
    "status.late": frozenset({"reference", "practitioner", "when", "expected"}),
    "status.none": frozenset(),
    # E-mail for calendar invites.
    "email.ask": frozenset(),
    "email.invalid": frozenset(),
    "email.saved": frozenset(),
    "email.unavailable": frozenset(),
    # Clarifying questions about dates and times (keys of `flows.when.Question`).
    "when.am_or_pm": frozenset({"morning", "afternoon"}),
    "when.bare_number": frozenset({"clock", "ordinal", "month"}),
    "when.bare_day": frozenset({"ordinal", "month"}),
    "when.menu_range": frozenset({"count"}),
    "when.menu_one": frozenset(),
    "when.date_past": frozenset({"date"}),
    "when.no_such_date": frozenset({"date"}),
    "when.day_month_order": frozenset({"date"}),
    "when.weekday_mismatch": frozenset({"date", "weekday"}),
    "when.time_past": frozenset({"time"}),
    "when.part_past": frozenset({"part"}),
    "when.one_day": frozenset(),
    "when.one_time": frozenset(),
    "when.unclear": frozenset(),
}
"""Every template key, with the placeholders it may use besides `clinic` and `phone`."""


class TemplateError(ConfigError):
    """A profile's `[templates]` table is missing a key or uses an unknown placeholder."""


def placeholders(text: str) -> set[str]:
    """Return the placeholder names in a `str.format` template, or raise ValueError."""
    names: set[str] = set()
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must be a plain name")
        names.add(name)
    return names


class Templates:
    """The checked dialogue texts of one clinic, ready to fill in."""

    def __init__(self, texts: Mapping[str, str], *, clinic: str, phone: str) -> None:
        missing = sorted(set(TEMPLATE_PARAMS) - set(texts))
        if missing:
            raise TemplateError(f"the profile's [templates] table lacks {', '.join(missing)}; add them")
        for key, allowed in TEMPLATE_PARAMS.items():
            try:
                used = placeholders(texts[key])
            except ValueError as exc:
                raise TemplateError(f"template {key} is invalid: {exc}") from None
            unknown = used - allowed - COMMON_PARAMS
            if unknown:
                raise TemplateError(
                    f"template {key} uses unknown placeholders {', '.join(sorted(unknown))}; "
                    f"it may use {', '.join(sorted(allowed | COMMON_PARAMS))}"
                )
        self._texts = {key: texts[key] for key in TEMPLATE_PARAMS}
        self._common = {"clinic": clinic, "phone": phone}

    def render(self, key: str, **params: str) -> str:
        """Fill in template `key`; raises KeyError for a key not in `TEMPLATE_PARAMS`."""
        return self._texts[key].format(**self._common, **params)
