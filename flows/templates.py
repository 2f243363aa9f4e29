"""Dialogue texts from the domain profile's `[templates]` table, checked when loaded.

Each profile writes its texts in its own words (appointment, consultation or
meeting), so templates take no vocabulary placeholders. Every template may
use `{clinic}` and `{phone}`; the others are listed per key below. A missing
key, or a placeholder the key does not provide, is rejected when the
templates are loaded rather than when a patient first meets it.

A profile may word a text differently for SMS under `sms.KEY` (the TOML
table `[templates.sms.labels]` holds `sms.labels.*`, for example). Carriers
and Twilio act on a whole-message STOP, CANCEL, END, QUIT, YES, HELP and
similar words before the dialogue receives them, so an SMS label must not
invite one of those words as the reply. Telegram buttons send a choice id,
and the console has no carrier, so both keep the default wording.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from flows.replies import Channel
from sealbook.errors import ConfigError

SMS_PREFIX = "sms."
"""Prefix of a text used on SMS in place of the text of the same key without it."""
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
    "book.offer_others": frozenset({"type"}),
    "book.offer_next": frozenset({"asked"}),
    "book.none": frozenset({"type", "days"}),
    "book.readback": frozenset({"type", "practitioner", "when"}),
    "book.booked": frozenset({"reference", "type", "practitioner", "when"}),
    "book.unavailable": frozenset(),
    "book.practitioner_none": frozenset({"practitioner"}),
    # The patient's bookings.
    "bookings.list": frozenset(),
    "bookings.none": frozenset(),
    "bookings.actions": frozenset({"reference", "type", "practitioner", "when"}),
    "bookings.gone": frozenset({"reference"}),
    "bookings.unknown_reference": frozenset(),
    # Moving and cancelling.
    "move.ask_when": frozenset({"reference"}),
    "move.readback": frozenset({"reference", "old", "new", "practitioner"}),
    "move.readback_new_practitioner": frozenset(
        {"reference", "old", "new", "old_practitioner", "practitioner"}
    ),
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
        sms_keys = sorted(key for key in texts if key.startswith(SMS_PREFIX))
        unknown_sms = [key for key in sms_keys if key.removeprefix(SMS_PREFIX) not in TEMPLATE_PARAMS]
        if unknown_sms:
            raise TemplateError(
                f"templates {', '.join(unknown_sms)} replace no known template on SMS; "
                f"name a key of flows/templates.py after {SMS_PREFIX!r}"
            )
        for key, allowed in TEMPLATE_PARAMS.items():
            _check_placeholders(key, texts[key], allowed)
        for key in sms_keys:
            _check_placeholders(key, texts[key], TEMPLATE_PARAMS[key.removeprefix(SMS_PREFIX)])
        self._texts = {key: texts[key] for key in TEMPLATE_PARAMS}
        self._sms_texts = {key.removeprefix(SMS_PREFIX): texts[key] for key in sms_keys}
        self._common = {"clinic": clinic, "phone": phone}

    def source(self, key: str, channel: Channel) -> str:
        """Return the unfilled text of `key` on `channel`; raises KeyError for a key not in `TEMPLATE_PARAMS`."""
        if channel == "sms" and key in self._sms_texts:
            return self._sms_texts[key]
        return self._texts[key]

    def render(self, key: str, channel: Channel, /, **params: str) -> str:
        """Fill in template `key` as worded for `channel`; raises KeyError for a key not in `TEMPLATE_PARAMS`."""
        return self.source(key, channel).format(**self._common, **params)


def _check_placeholders(key: str, text: str, allowed: frozenset[str]) -> None:
    """Raise `TemplateError` when `text` is not a valid template or uses a placeholder `key` does not provide."""
    try:
        used = placeholders(text)
    except ValueError as exc:
        raise TemplateError(f"template {key} is invalid: {exc}") from None
    unknown = used - allowed - COMMON_PARAMS
    if unknown:
        raise TemplateError(
            f"template {key} uses unknown placeholders {', '.join(sorted(unknown))}; "
            f"it may use {', '.join(sorted(allowed | COMMON_PARAMS))}"
        )
