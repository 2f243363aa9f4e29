"""Saving a parsed clinic into the database and loading it back as a `Clinic`.

Re-importing updates the one clinic in place: practitioners and appointment
types are matched by slug, so their row ids, and the bookings that point at
them, survive. One that the new file drops is deactivated rather than
deleted. A deactivated practitioner's future bookings stay as they are, and
the import summary lists them so that staff can move or cancel them.
Weekly sessions, offers and date overrides are replaced as a whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import NoReturn

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session as DbSession

from booking._tables import TableReader
from booking.clinic import (
    AppointmentType,
    Clinic,
    DateOverride,
    OverrideKind,
    Practitioner,
    Session,
)
from booking.errors import ClinicNotLoaded, DayHasBookings, ProfileError, UnknownPractitioner
from booking.profiles import load_profile
from booking.rules import RULE_SECTIONS, read_rule_section, rule_overrides
from booking.status import ACTIVE, BookingStatus
from booking.views import day_bookings
from storage.audit import record_audit
from storage.models.bookings import BookingRow
from storage.models.clinic import (
    OVERRIDE_FROM_FILE,
    OVERRIDE_FROM_STAFF,
    AppointmentTypeRow,
    ClinicRow,
    DateOverrideRow,
    PractitionerRow,
    TypeOfferRow,
    WeeklySessionRow,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookingsLeft:
    """Future bookings, booked or arrived, that still name a practitioner the import deactivated."""

    practitioner_id: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class ImportSummary:
    """Changes made by one import, by slug."""

    created: bool
    practitioners_added: tuple[str, ...]
    practitioners_updated: tuple[str, ...]
    practitioners_deactivated: tuple[str, ...]
    types_added: tuple[str, ...]
    types_updated: tuple[str, ...]
    types_deactivated: tuple[str, ...]
    overrides: int
    # One entry per deactivated practitioner who still has future bookings.
    bookings_left: tuple[BookingsLeft, ...] = ()


def import_clinic(
    session: DbSession, parsed: Clinic, now: datetime, *, actor: str = "system"
) -> ImportSummary:
    """Write a parsed clinic into the caller's transaction, updating any clinic already there."""
    # The same lock that leave and away take, so the revision read here is
    # the committed one and the raise below never overwrites theirs.
    row = session.scalars(
        select(ClinicRow)
        .order_by(ClinicRow.id)
        .limit(1)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).first()
    created = row is None
    if row is None:
        row = ClinicRow()
        session.add(row)
    row.name = parsed.name
    row.phone = parsed.phone
    row.time_zone = parsed.time_zone
    row.profile = parsed.profile.name
    row.rule_overrides = {
        section: rule_overrides(getattr(parsed, section), getattr(parsed.profile, section))
        for section in RULE_SECTIONS
    }
    row.imported_at = now
    row.revision = 1 if created else row.revision + 1
    session.flush()

    practitioner_ids, practitioner_changes = _sync_practitioners(session, row.id, parsed)
    type_ids, type_changes = _sync_types(session, row.id, parsed)
    _replace_offers(session, parsed, practitioner_ids, type_ids)
    _replace_weekly_sessions(session, parsed, practitioner_ids)
    _replace_overrides(session, row.id, parsed, practitioner_ids)

    bookings_left = _future_bookings(session, practitioner_changes[2], now)
    summary = ImportSummary(
        created, *practitioner_changes, *type_changes, len(parsed.overrides), bookings_left
    )
    left_detail = "".join(f" left_{left.practitioner_id}={len(left.references)}" for left in bookings_left)
    record_audit(
        session,
        at=now,
        actor=actor,
        action="import_clinic",
        reference=None,
        outcome="ok",
        detail=f"practitioners={len(parsed.practitioners)} types={len(parsed.appointment_types)} "
        f"overrides={len(parsed.overrides)}{left_detail}",
    )
    for left in bookings_left:
        logger.warning(
            "practitioner %s deactivated with %d future bookings still booked",
            left.practitioner_id,
            len(left.references),
        )
    logger.info(
        "clinic imported: %d practitioners, %d appointment types, %d overrides",
        len(parsed.practitioners),
        len(parsed.appointment_types),
        len(parsed.overrides),
    )
    return summary


Changes = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _sync_practitioners(session: DbSession, clinic_id: int, parsed: Clinic) -> tuple[dict[str, int], Changes]:
    existing = {
        row.slug: row
        for row in session.scalars(select(PractitionerRow).where(PractitionerRow.clinic_id == clinic_id))
    }
    added: list[str] = []
    updated: list[str] = []
    for position, practitioner in enumerate(parsed.practitioners):
        row = existing.get(practitioner.id)
        if row is None:
            row = PractitionerRow(clinic_id=clinic_id, slug=practitioner.id)
            session.add(row)
            existing[practitioner.id] = row
            added.append(practitioner.id)
        else:
            updated.append(practitioner.id)
        row.display_name = practitioner.display_name
        row.position = position
        row.active = True
    kept = {p.id for p in parsed.practitioners}
    deactivated = [slug for slug, row in existing.items() if slug not in kept and row.active]
    for slug in deactivated:
        existing[slug].active = False
    session.flush()
    ids = {slug: row.id for slug, row in existing.items() if slug in kept}
    return ids, (tuple(added), tuple(updated), tuple(deactivated))


def _future_bookings(session: DbSession, slugs: tuple[str, ...], now: datetime) -> tuple[BookingsLeft, ...]:
    """Return the booked or arrived bookings not yet ended of each practitioner in `slugs`."""
    if not slugs:
        return ()
    found: dict[str, list[str]] = {}
    query = (
        select(PractitionerRow.slug, BookingRow.reference)
        .join(PractitionerRow, PractitionerRow.id == BookingRow.practitioner_id)
        .where(
            PractitionerRow.slug.in_(slugs),
            BookingRow.status.in_([status.value for status in ACTIVE]),
            BookingRow.ends_at > now,
        )
        .order_by(BookingRow.starts_at, BookingRow.id)
    )
    for slug, reference in session.execute(query):
        found.setdefault(slug, []).append(reference)
    return tuple(BookingsLeft(slug, tuple(found[slug])) for slug in slugs if slug in found)


def _sync_types(session: DbSession, clinic_id: int, parsed: Clinic) -> tuple[dict[str, int], Changes]:
    existing = {
        row.slug: row
        for row in session.scalars(
            select(AppointmentTypeRow).where(AppointmentTypeRow.clinic_id == clinic_id)
        )
    }
    added: list[str] = []
    updated: list[str] = []
    for position, appointment_type in enumerate(parsed.appointment_types):
        row = existing.get(appointment_type.id)
        if row is None:
            row = AppointmentTypeRow(clinic_id=clinic_id, slug=appointment_type.id)
            session.add(row)
            existing[appointment_type.id] = row
            added.append(appointment_type.id)
        else:
            updated.append(appointment_type.id)
        row.name = appointment_type.name
        row.duration_minutes = appointment_type.duration_minutes
        row.position = position
        row.active = True
    kept = {t.id for t in parsed.appointment_types}
    deactivated = [slug for slug, row in existing.items() if slug not in kept and row.active]
    for slug in deactivated:
        existing[slug].active = False
    session.flush()
    ids = {slug: row.id for slug, row in existing.items() if slug in kept}
    return ids, (tuple(added), tuple(updated), tuple(deactivated))


def _replace_offers(
    session: DbSession, parsed: Clinic, practitioner_ids: dict[str, int], type_ids: dict[str, int]
) -> None:
    session.execute(delete(TypeOfferRow).where(TypeOfferRow.appointment_type_id.in_(type_ids.values())))
    for appointment_type in parsed.appointment_types:
        for slug in appointment_type.practitioner_ids:
            session.add(
                TypeOfferRow(
                    appointment_type_id=type_ids[appointment_type.id],
                    practitioner_id=practitioner_ids[slug],
                )
            )


def _replace_weekly_sessions(session: DbSession, parsed: Clinic, practitioner_ids: dict[str, int]) -> None:
    session.execute(
        delete(WeeklySessionRow).where(WeeklySessionRow.practitioner_id.in_(practitioner_ids.values()))
    )
    for practitioner in parsed.practitioners:
        for weekday, sessions in enumerate(practitioner.weekly_sessions):
            for working in sessions:
                session.add(
                    WeeklySessionRow(
                        practitioner_id=practitioner_ids[practitioner.id],
                        weekday=weekday,
                        start_minute=_minutes(working.start),
                        end_minute=_minutes(working.end),
                    )
                )


def _replace_overrides(
    session: DbSession, clinic_id: int, parsed: Clinic, practitioner_ids: dict[str, int]
) -> None:
    # Leave recorded by staff stays: the file describes the clinic's own
    # calendar, and staff may have closed days since it was written.
    session.execute(
        delete(DateOverrideRow).where(
            DateOverrideRow.clinic_id == clinic_id, DateOverrideRow.source == OVERRIDE_FROM_FILE
        )
    )
    for position, override in enumerate(parsed.overrides):
        session.add(
            DateOverrideRow(
                clinic_id=clinic_id,
                practitioner_id=(
                    None if override.practitioner_id is None else practitioner_ids[override.practitioner_id]
                ),
                day=override.day,
                kind=override.kind.value,
                sessions=[str(working) for working in override.sessions],
                reason=override.reason,
                position=position,
                source=OVERRIDE_FROM_FILE,
            )
        )
    session.flush()


def add_staff_override(
    session: DbSession, *, practitioner_id: str, day: date, sessions: tuple[Session, ...], reason: str
) -> None:
    """Record a practitioner's hours for one day as changed by staff, and raise the clinic's revision.

    No sessions close the day. Closing a day raises `DayHasBookings`, and
    writes nothing, while a booking of that practitioner on that day is
    still booked. Arrived patients do not count, because reception speaks
    to them in person. The override applies after every earlier one for
    that day, and an import of the clinic file keeps it.
    """
    clinic_id = lock_clinic_for_change(session)
    practitioner_row_id = session.scalar(
        select(PractitionerRow.id).where(
            PractitionerRow.clinic_id == clinic_id, PractitionerRow.slug == practitioner_id
        )
    )
    if practitioner_row_id is None:
        raise UnknownPractitioner(practitioner_id)
    if not sessions:
        # Callers check for bookings before this, but on PostgreSQL that check
        # cannot see a booking still open then. The lock above waits for every
        # such booking (`committed_clinic`), so this check finds it committed.
        booked = [
            view.reference
            for view in day_bookings(session, day, practitioner_id)
            if view.status is BookingStatus.BOOKED
        ]
        if booked:
            raise DayHasBookings(practitioner_id, day, booked)
    position = session.scalar(select(func.max(DateOverrideRow.position))) or 0
    session.add(
        DateOverrideRow(
            clinic_id=clinic_id,
            practitioner_id=practitioner_row_id,
            day=day,
            kind=(OverrideKind.REPLACE if sessions else OverrideKind.CLOSED).value,
            sessions=[str(working) for working in sessions],
            reason=reason,
            position=position + 1,
            source=OVERRIDE_FROM_STAFF,
        )
    )
    raise_clinic_revision(session)
    session.flush()


def lock_clinic_for_change(session: DbSession) -> int:
    """Lock the clinic row until the transaction ends, before a change to the set-up, and return its id.

    On PostgreSQL this is `SELECT ... FOR NO KEY UPDATE`, the lock that
    raising the revision takes anyway. It waits for every open booking
    write, which holds a share lock from `committed_clinic`, and makes later
    ones wait for this transaction. Take it before locking any booking row
    or the audit log, because a booking write takes the share lock first
    and those locks after it, so the other order could deadlock. On SQLite
    the clause is left out, because `BEGIN IMMEDIATE` already runs writers
    one at a time.
    Raises `ClinicNotLoaded` without a clinic.
    """
    clinic_id = session.scalar(
        select(ClinicRow.id).order_by(ClinicRow.id).limit(1).with_for_update(key_share=True)
    )
    if clinic_id is None:
        raise ClinicNotLoaded()
    return clinic_id


def committed_clinic(session: DbSession, clinic: Clinic) -> Clinic:
    """Return `clinic`, or the stored set-up loaded again when the stored revision differs from its own.

    Booking writes call this first, so that they check working hours
    against the committed set-up and not against a copy that the caller
    loaded before staff changed it. It costs one query when the revision
    matches. On PostgreSQL that query takes a share lock on the clinic row
    until the transaction ends. A change to the set-up
    (`lock_clinic_for_change`) then waits for this booking, and this booking
    waits for a change already under way and then reads its result.
    """
    stored = session.scalar(
        select(ClinicRow.revision).order_by(ClinicRow.id).limit(1).with_for_update(read=True)
    )
    if stored is None:
        raise ClinicNotLoaded()
    if stored == clinic.revision:
        return clinic
    logger.info("clinic set-up changed from revision %d to %d; loading it again", clinic.revision, stored)
    return load_clinic(session)


def clinic_revision(session: DbSession) -> int | None:
    """Return the stored clinic's revision, which every import, leave and absence raises; None without a clinic."""
    return session.scalar(select(ClinicRow.revision).order_by(ClinicRow.id).limit(1))


def raise_clinic_revision(session: DbSession) -> None:
    """Raise the clinic's revision in the caller's transaction, after a change to its set-up."""
    session.execute(update(ClinicRow).values(revision=ClinicRow.revision + 1))


def load_clinic(session: DbSession) -> Clinic:
    """Load the clinic and its active practitioners and types, or raise `ClinicNotLoaded`."""
    # A clinic row already in the session would otherwise keep the revision it was first read at.
    row = session.scalars(
        select(ClinicRow).order_by(ClinicRow.id).limit(1).execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise ClinicNotLoaded()
    profile = load_profile(row.profile)

    def fail(path: str, message: str) -> NoReturn:
        raise ProfileError(
            f"stored clinic rules do not fit profile {row.profile!r} ({path}: {message}); "
            "import the clinic file again"
        )

    rule_sets = {
        section: read_rule_section(
            TableReader(row.rule_overrides.get(section, {}), section, fail),
            kind,
            getattr(profile, section),
        )
        for section, kind in RULE_SECTIONS.items()
    }

    practitioner_rows = session.scalars(
        select(PractitionerRow)
        .where(PractitionerRow.clinic_id == row.id, PractitionerRow.active.is_(True))
        .order_by(PractitionerRow.position)
    ).all()
    slug_of = {p.id: p.slug for p in practitioner_rows}
    weekly: dict[int, list[list[Session]]] = {p.id: [[] for _ in range(7)] for p in practitioner_rows}
    for working in session.scalars(
        select(WeeklySessionRow)
        .where(WeeklySessionRow.practitioner_id.in_(slug_of))
        .order_by(WeeklySessionRow.start_minute)
    ):
        weekly[working.practitioner_id][working.weekday].append(
            Session(_clock(working.start_minute), _clock(working.end_minute))
        )
    practitioners = tuple(
        Practitioner(p.slug, p.display_name, tuple(tuple(day) for day in weekly[p.id]))
        for p in practitioner_rows
    )

    return Clinic(
        name=row.name,
        phone=row.phone,
        time_zone=row.time_zone,
        profile=profile,
        rules=rule_sets["rules"],
        running_late=rule_sets["running_late"],
        reminders=rule_sets["reminders"],
        dialogue=rule_sets["dialogue"],
        practitioners=practitioners,
        appointment_types=_load_types(session, row.id, slug_of),
        overrides=_load_overrides(session, row.id, slug_of),
        revision=row.revision,
    )


def _load_types(session: DbSession, clinic_id: int, slug_of: dict[int, str]) -> tuple[AppointmentType, ...]:
    type_rows = session.scalars(
        select(AppointmentTypeRow)
        .where(AppointmentTypeRow.clinic_id == clinic_id, AppointmentTypeRow.active.is_(True))
        .order_by(AppointmentTypeRow.position)
    ).all()
    offers: dict[int, set[str]] = {t.id: set() for t in type_rows}
    for offer in session.scalars(select(TypeOfferRow).where(TypeOfferRow.appointment_type_id.in_(offers))):
        if offer.practitioner_id in slug_of:
            offers[offer.appointment_type_id].add(slug_of[offer.practitioner_id])
    order = list(slug_of.values())
    return tuple(
        AppointmentType(t.slug, t.name, t.duration_minutes, tuple(s for s in order if s in offers[t.id]))
        for t in type_rows
    )


def _load_overrides(session: DbSession, clinic_id: int, slug_of: dict[int, str]) -> tuple[DateOverride, ...]:
    overrides: list[DateOverride] = []
    for o in session.scalars(
        select(DateOverrideRow)
        .where(DateOverrideRow.clinic_id == clinic_id)
        .order_by(DateOverrideRow.position)
    ):
        if o.practitioner_id is not None and o.practitioner_id not in slug_of:
            continue
        sessions = tuple(_parse_session(text) for text in o.sessions)
        practitioner = None if o.practitioner_id is None else slug_of[o.practitioner_id]
        overrides.append(DateOverride(o.day, OverrideKind(o.kind), sessions, practitioner, o.reason))
    return tuple(overrides)


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _parse_session(text: str) -> Session:
    start, _, end = text.partition("-")
    return Session(time.fromisoformat(start), time.fromisoformat(end))
