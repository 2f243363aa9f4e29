"""Whether a queued notice still applies to its booking at the moment of sending, and quiet hours.

A notice is queued when its booking changes, and sent seconds or days later. In
between the booking may have been cancelled, moved or checked in, so the relay reads
the booking again just before sending and skips a notice that no longer fits:

- a reminder goes only to a booking that is still booked, at the time the reminder
  was made for, before the appointment starts (a moved booking has its own reminder);
- a running-late notice goes only to a booking that is still booked, not checked in
  and not moved, by the rule in `booking.late_notices.running_late_skip_reason`, and
  only while no later running-late notice of the same booking and move count exists
  (`booking.late_notices.running_late_superseded`), so a backlog sends the newest
  expected time alone. NOTE: a notice whose expected time has passed is still sent,
  because a tick during an overrunning consult gives the next patient the tick's own
  time, so that rule would drop the newest notice too;
- a confirmation or move notice is skipped once the booking is cancelled;
- a staff message is skipped once its booking is cancelled after the message was
  queued. One queued at or after the cancellation goes, because staff wrote it to a
  cancelled booking on purpose. A move does not stop a staff message, because the
  relay fills its placeholders from the booking as it is at delivery;
- cancellations and session cancellations always go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from booking.late_notices import running_late_skip_reason
from booking.localtime import local_to_utc
from booking.rules import ReminderRules
from booking.status import BookingStatus
from relay.templates import NoticeKind
from storage.models.bookings import BookingRow


def skip_reason(
    kind: NoticeKind,
    booking: BookingRow | None,
    *,
    has_booking_id: bool,
    params: Mapping[str, Any],
    queued_starts_at: dt.datetime | None,
    queued_at: dt.datetime,
    superseded: bool,
    now: dt.datetime,
) -> str | None:
    """Return the error class of the reason to skip this notice, or None to send it.

    `queued_starts_at` is the appointment's start as the notice was queued with it,
    and `queued_at` is when the notice was queued. `superseded` is True when a later
    running-late notice replaces this one.
    """
    if kind is NoticeKind.RUNNING_LATE:
        late_reason = running_late_skip_reason(booking, params)
        if late_reason is not None:
            return f"relay.booking_{late_reason}"
        return "relay.superseded" if superseded else None
    if booking is None:
        return "relay.booking_missing" if has_booking_id else None
    status = booking.status
    moved = queued_starts_at is not None and booking.starts_at != queued_starts_at

    if kind is NoticeKind.REMINDER:
        if status != BookingStatus.BOOKED:
            return f"relay.booking_{status}"
        if moved:
            return "relay.booking_moved"
        if booking.starts_at <= now:
            return "relay.appointment_started"
        return None
    if kind in (NoticeKind.BOOKING_CONFIRMED, NoticeKind.BOOKING_MOVED) and status == BookingStatus.CANCELLED:
        return "relay.booking_cancelled"
    if kind is NoticeKind.STAFF_MESSAGE and status == BookingStatus.CANCELLED:
        return None if _cancelled_before(booking, queued_at) else "relay.booking_cancelled"
    return None


def _cancelled_before(booking: BookingRow, queued_at: dt.datetime) -> bool:
    """Tell whether the booking was cancelled at or before `queued_at`, where no recorded time counts as after."""
    return booking.cancelled_at is not None and booking.cancelled_at <= queued_at


def quiet_hours_end(rules: ReminderRules, zone: ZoneInfo, now: dt.datetime) -> dt.datetime | None:
    """Return when the quiet hours around `now` end (UTC), or None if `now` is not in quiet hours."""
    local_now = now.astimezone(zone)
    if not rules.is_quiet(local_now.time().replace(tzinfo=None)):
        return None
    end_today = local_to_utc(zone, local_now.date(), rules.quiet_end)
    if end_today > now:
        return end_today
    return local_to_utc(zone, local_now.date() + dt.timedelta(days=1), rules.quiet_end)
