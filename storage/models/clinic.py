"""Clinic set-up: the clinic, practitioners, appointment types, working sessions and date overrides.

One clinic per deployment. `booking.store` writes these tables from a
parsed clinic file and reads them back into a `booking.clinic.Clinic`.
Practitioners and appointment types are matched by their slug on
re-import and only deactivated when a file drops them, because bookings
keep pointing at them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime

# Column sizes that the clinic-file parser checks before an import, so a
# long value is reported with its line instead of failing in the database.
NAME_LENGTH = 200
PHONE_LENGTH = 32
TIME_ZONE_LENGTH = 64


class ClinicRow(Base):
    """The clinic's name, public phone number, IANA zone, profile and rule overrides."""

    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # The clinic's own number, shown to patients; not a patient contact detail.
    phone: Mapped[str] = mapped_column(String(PHONE_LENGTH))
    time_zone: Mapped[str] = mapped_column(String(TIME_ZONE_LENGTH))
    profile: Mapped[str] = mapped_column(String(64))
    # Only the keys that differ from the profile, by section:
    # {"rules": {...}, "running_late": {...}, "reminders": {...}, "dialogue": {...}}.
    rule_overrides: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Goes up with every import and every leave recorded by staff, so a
    # long-running front can tell that its copy of the set-up is out of date.
    revision: Mapped[int] = mapped_column(Integer, server_default="0")


class PractitionerRow(Base):
    """A practitioner, known to files and callers by `slug`."""

    __tablename__ = "practitioners"
    __table_args__ = (UniqueConstraint("clinic_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    slug: Mapped[str] = mapped_column(String(40))
    display_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)


class AppointmentTypeRow(Base):
    """An appointment type with its length in minutes."""

    __tablename__ = "appointment_types"
    __table_args__ = (UniqueConstraint("clinic_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    slug: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)


class TypeOfferRow(Base):
    """That one practitioner offers one appointment type."""

    __tablename__ = "type_offers"

    appointment_type_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_types.id", ondelete="CASCADE"), primary_key=True
    )
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), primary_key=True
    )


class WeeklySessionRow(Base):
    """One weekly working session, in local minutes since midnight."""

    __tablename__ = "weekly_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    # Monday is 0, as in `date.weekday()`.
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


OVERRIDE_FROM_FILE = "file"
OVERRIDE_FROM_STAFF = "staff"


class DateOverrideRow(Base):
    """A change to one local date's hours; no practitioner means the whole clinic."""

    __tablename__ = "date_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date, index=True)
    # "closed", "replace" or "extra", as in `booking.clinic.OverrideKind`.
    kind: Mapped[str] = mapped_column(String(16))
    # Sessions as "HH:MM-HH:MM" strings in local time; empty for "closed".
    sessions: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(NAME_LENGTH))
    position: Mapped[int] = mapped_column(Integer)
    # "file" for an override from the clinic file, which an import replaces;
    # "staff" for leave recorded with `sealbook-admin leave`, which it keeps.
    source: Mapped[str] = mapped_column(String(8), server_default=OVERRIDE_FROM_FILE)
