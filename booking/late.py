"""Running-late events: visit steps, staff declarations and the tick, each followed by a recompute.

Every function here takes the caller's session and works in the caller's
transaction, so the booking change, the declaration, the notified steps and
the outbox notices commit or roll back together. Each event first takes the
practitioner's running-late lock (see `booking.late_store.lock_practitioner`)
and then recomputes that practitioner's day: projection, notice policy,
notices. The tick does the same for every practitioner with bookings today,
because an overrunning consult makes everyone later with no event at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from booking import visits
from booking.clinic import Clinic
from booking.errors import BookingError, BookingNotFound
from booking.late_notices import running_late_notice
from booking.late_policy import LateNotice, NoticeRules, plan_notices
from booking.late_store import (
    PractitionerDay,
    add_declaration,
    load_practitioner_day,
    lock_practitioner,
    notified_steps,
    practitioner_by_slug,
    practitioners_with_bookings,
    step_row,
)
from booking.localtime import local_date as local_date_of
from booking.projection import DayProjection, project_day
from booking.references import parse_reference
from booking.store import load_clinic
from booking.views import BookingView
from storage import db
from storage.audit import record_audit
from storage.models.bookings import BookingRow
from storage.models.clinic import AppointmentTypeRow, PractitionerRow
from storage.outbox import enqueue_notices

logger = logging.getLogger(__name__)

# A declared delay above this is surely a typing mistake (12 hours).
MAX_DECLARED_MINUTES = 720


class DeclarationError(BookingError):
    """A running-late or away declaration is invalid; the message names the value and the reason."""


@dataclass(frozen=True)
class DayRecompute:
    """The outcome of recomputing one practitioner's day: its projection and the notices queued."""

    practitioner_id: str
    local_date: date
    projection: DayProjection
    notices: tuple[LateNotice, ...]


def notice_rules(clinic: Clinic) -> NoticeRules:
    """Return the clinic's running-late rules in the policy's terms."""
    rules = clinic.running_late
    return NoticeRules(
        threshold_minutes=rules.threshold_minutes,
        step_minutes=rules.step_minutes,
        max_notices_per_booking=rules.max_notices_per_booking,
    )


def recompute_day(
    session: DbSession, clinic: Clinic, practitioner: PractitionerRow, local_date: date, now: datetime
) -> DayRecompute:
    """Project one practitioner's day and queue the notices the policy calls for.

    The caller holds the practitioner's lock. The notices go to the outbox in
    one batch, with their steps recorded beside them, in the caller's
    transaction.
    """
    day = load_practitioner_day(session, practitioner, local_date, clinic.zone)
    projection = project_day(day.day_bookings(), now, day.declared_delay_minutes)
    plan = plan_notices(projection, notified_steps(session, day.rows), notice_rules(clinic))
    type_names = _type_names(session, day) if plan else {}

    rows = day.rows_by_id()
    outbox_notices = []
    steps = []
    for notice in plan:
        row = rows[notice.booking_id]
        outbox_notices.append(
            running_late_notice(
                clinic,
                row,
                notice,
                practitioner_name=practitioner.display_name,
                type_name=type_names[row.appointment_type_id],
                now=now,
            )
        )
        steps.append(step_row(row, notice.step, notice.delay_minutes, notice.expected_at, now))
    enqueue_notices(session, outbox_notices)
    session.add_all(steps)
    session.flush()

    if plan:
        logger.info(
            "running late: %d notices queued for practitioner %s on %s",
            len(plan),
            practitioner.slug,
            local_date.isoformat(),
        )
    return DayRecompute(practitioner.slug, local_date, projection, tuple(plan))


def _type_names(session: DbSession, day: PractitionerDay) -> dict[int, str]:
    type_ids = {row.appointment_type_id for row in day.rows}
    rows = session.execute(
        select(AppointmentTypeRow.id, AppointmentTypeRow.name).where(AppointmentTypeRow.id.in_(type_ids))
    )
    return {type_id: name for type_id, name in rows}


def _locked_practitioner_of(session: DbSession, reference: str) -> PractitionerRow:
    """Return the practitioner of a booking, holding their lock; raises as the booking core does."""
    canonical = parse_reference(reference)
    practitioner_row_id = session.scalar(
        select(BookingRow.practitioner_id).where(BookingRow.reference == canonical)
    )
    if practitioner_row_id is None:
        raise BookingNotFound(canonical)
    lock_practitioner(session, practitioner_row_id)
    return session.get_one(PractitionerRow, practitioner_row_id)


def run_visit_step(
    step: visits.VisitStep, session: DbSession, clinic: Clinic, *, reference: str, now: datetime, actor: str
) -> BookingView:
    """Run a visit step under the practitioner's lock, then recompute their day."""
    practitioner = _locked_practitioner_of(session, reference)
    view = step(session, reference=reference, now=now, actor=actor)
    recompute_day(session, clinic, practitioner, local_date_of(view.starts_at, clinic.zone), now)
    return view


def check_in(session: DbSession, clinic: Clinic, *, reference: str, now: datetime, actor: str) -> BookingView:
    """Check a patient in through the booking core, then recompute their practitioner's day."""
    return run_visit_step(visits.check_in, session, clinic, reference=reference, now=now, actor=actor)


def start_consult(
    session: DbSession, clinic: Clinic, *, reference: str, now: datetime, actor: str
) -> BookingView:
    """Record a consult's start through the booking core, then recompute the practitioner's day."""
    return run_visit_step(visits.start_consult, session, clinic, reference=reference, now=now, actor=actor)


def finish_consult(
    session: DbSession, clinic: Clinic, *, reference: str, now: datetime, actor: str
) -> BookingView:
    """Record a consult's finish through the booking core, then recompute the practitioner's day."""
    return run_visit_step(visits.finish_consult, session, clinic, reference=reference, now=now, actor=actor)


def mark_no_show(
    session: DbSession, clinic: Clinic, *, reference: str, now: datetime, actor: str
) -> BookingView:
    """Mark a no-show through the booking core, then recompute: the booking no longer takes time."""
    return run_visit_step(visits.mark_no_show, session, clinic, reference=reference, now=now, actor=actor)


def check_declaration_date(clinic: Clinic, local_date: date, now: datetime) -> None:
    """Raise `DeclarationError` for a local date that has already ended in the clinic's zone."""
    today = local_date_of(now, clinic.zone)
    if local_date < today:
        raise DeclarationError(
            f"{local_date.isoformat()} has already passed; declare for today ({today.isoformat()}) or later"
        )


def declare_late(
    session: DbSession,
    clinic: Clinic,
    *,
    practitioner_id: str,
    minutes: int,
    local_date: date,
    now: datetime,
    actor: str,
) -> DayRecompute:
    """Declare a practitioner ``minutes`` late for a local day (0: back on time) and recompute it.

    The declared delay is a floor under every remaining booking's projected
    delay until the next declaration for that day replaces it.
    """
    if not 0 <= minutes <= MAX_DECLARED_MINUTES:
        raise DeclarationError(
            f"a declared delay must be 0 to {MAX_DECLARED_MINUTES} minutes, not {minutes}; 0 means back on time"
        )
    check_declaration_date(clinic, local_date, now)
    practitioner = practitioner_by_slug(session, practitioner_id)
    lock_practitioner(session, practitioner.id)

    add_declaration(
        session,
        practitioner_row_id=practitioner.id,
        local_date=local_date,
        kind="late",
        late_minutes=minutes,
        now=now,
        actor=actor,
    )
    outcome = recompute_day(session, clinic, practitioner, local_date, now)
    record_audit(
        session,
        at=now,
        actor=actor,
        action="declare_late",
        reference=None,
        outcome="ok",
        detail=f"practitioner={practitioner.slug} date={local_date.isoformat()} minutes={minutes} "
        f"remaining={len(outcome.projection.bookings)} notices={len(outcome.notices)}",
    )
    logger.info(
        "practitioner %s declared %d minutes late on %s", practitioner.slug, minutes, local_date.isoformat()
    )
    return outcome


@dataclass(frozen=True)
class LatePreview:
    """Preview of a declaration before anything is written: the projected day and the notices it would queue."""

    projection: DayProjection
    notices: tuple[LateNotice, ...]


def preview_late(
    session: DbSession,
    clinic: Clinic,
    *,
    practitioner_id: str,
    minutes: int,
    local_date: date,
    now: datetime,
) -> LatePreview:
    """Project a practitioner's day as if ``minutes`` were declared, writing nothing, for confirmation."""
    check_declaration_date(clinic, local_date, now)
    practitioner = practitioner_by_slug(session, practitioner_id)
    day = load_practitioner_day(session, practitioner, local_date, clinic.zone)
    projection = project_day(day.day_bookings(), now, minutes or None)
    plan = plan_notices(projection, notified_steps(session, day.rows), notice_rules(clinic))
    return LatePreview(projection, tuple(plan))


@dataclass(frozen=True)
class TickReport:
    """Summary of one tick: the practitioner days recomputed and the notices queued."""

    days: int
    notices: int


def tick(factory: sessionmaker[DbSession], now: datetime, clinic: Clinic | None = None) -> TickReport:
    """Recompute today for every practitioner with bookings today, one transaction each.

    ``clinic`` saves loading the clinic again when the caller has it. A
    failure for one practitioner is logged and the others still run.
    """
    with factory() as session:
        if clinic is None:
            clinic = load_clinic(session)
        today = local_date_of(now, clinic.zone)
        practitioner_ids = [row.id for row in practitioners_with_bookings(session, today, clinic.zone)]

    days = 0
    notices = 0
    for practitioner_row_id in practitioner_ids:
        try:
            with db.session_scope(factory) as session:
                lock_practitioner(session, practitioner_row_id)
                practitioner = session.get_one(PractitionerRow, practitioner_row_id)
                outcome = recompute_day(session, clinic, practitioner, today, now)
        except Exception:
            logger.exception("running-late tick failed for practitioner row %d", practitioner_row_id)
            continue
        days += 1
        notices += len(outcome.notices)
    return TickReport(days=days, notices=notices)
