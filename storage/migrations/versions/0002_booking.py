"""Create the clinic set-up and bookings tables."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models.base import UTCDateTime

revision = "0002_booking"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("rule_overrides", sa.JSON(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clinics"),
    )
    op.create_table(
        "appointment_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name="fk_appointment_types_clinic_id_clinics"),
        sa.PrimaryKeyConstraint("id", name="pk_appointment_types"),
        sa.UniqueConstraint("clinic_id", "slug", name="uq_appointment_types_clinic_id_slug"),
    )
    op.create_table(
        "practitioners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name="fk_practitioners_clinic_id_clinics"),
        sa.PrimaryKeyConstraint("id", name="pk_practitioners"),
        sa.UniqueConstraint("clinic_id", "slug", name="uq_practitioners_clinic_id_slug"),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=9), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("appointment_type_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("occupied_until", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("checked_in_at", UTCDateTime(), nullable=True),
        sa.Column("consult_started_at", UTCDateTime(), nullable=True),
        sa.Column("consult_finished_at", UTCDateTime(), nullable=True),
        sa.Column("no_show_at", UTCDateTime(), nullable=True),
        sa.Column("moves", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_type_id"],
            ["appointment_types.id"],
            name="fk_bookings_appointment_type_id_appointment_types",
        ),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name="fk_bookings_contact_id_contacts"),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["practitioners.id"], name="fk_bookings_practitioner_id_practitioners"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_bookings"),
        sa.UniqueConstraint("reference", name="uq_bookings_reference"),
    )
    op.create_index("ix_bookings_contact_id", "bookings", ["contact_id"])
    op.create_index("ix_bookings_practitioner_starts", "bookings", ["practitioner_id", "starts_at"])
    op.create_index("ix_bookings_starts_at", "bookings", ["starts_at"])
    op.create_table(
        "date_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sessions", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name="fk_date_overrides_clinic_id_clinics"),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name="fk_date_overrides_practitioner_id_practitioners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_date_overrides"),
    )
    op.create_index("ix_date_overrides_day", "date_overrides", ["day"])
    op.create_table(
        "type_offers",
        sa.Column("appointment_type_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_type_id"],
            ["appointment_types.id"],
            name="fk_type_offers_appointment_type_id_appointment_types",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name="fk_type_offers_practitioner_id_practitioners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("appointment_type_id", "practitioner_id", name="pk_type_offers"),
    )
    op.create_table(
        "weekly_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name="fk_weekly_sessions_practitioner_id_practitioners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_weekly_sessions"),
    )
    op.create_index("ix_weekly_sessions_practitioner_id", "weekly_sessions", ["practitioner_id"])
    op.create_table(
        "booking_cells",
        sa.Column("practitioner_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name="fk_booking_cells_booking_id_bookings", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["practitioners.id"], name="fk_booking_cells_practitioner_id_practitioners"
        ),
        sa.PrimaryKeyConstraint("practitioner_id", "cell", name="pk_booking_cells"),
    )
    op.create_index("ix_booking_cells_booking_id", "booking_cells", ["booking_id"])


def downgrade() -> None:
    op.drop_table("booking_cells")
    op.drop_table("weekly_sessions")
    op.drop_table("type_offers")
    op.drop_table("date_overrides")
    op.drop_table("bookings")
    op.drop_table("practitioners")
    op.drop_table("appointment_types")
    op.drop_table("clinics")
