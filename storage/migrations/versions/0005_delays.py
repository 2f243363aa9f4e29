"""Create the running-late tables: declarations and notified steps."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models.base import UTCDateTime

revision = "0005_delays"
down_revision = "0004_inbound"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delay_declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("late_minutes", sa.Integer(), nullable=True),
        sa.Column("away_from_at", UTCDateTime(), nullable=True),
        sa.Column("declared_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name="fk_delay_declarations_practitioner_id_practitioners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_delay_declarations"),
    )
    op.create_index("ix_delay_declarations_day", "delay_declarations", ["practitioner_id", "local_date"])
    op.create_table(
        "late_notice_steps",
        sa.Column("booking_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("booking_moves", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("step", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.Column("expected_at", UTCDateTime(), nullable=False),
        sa.Column("notified_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name="fk_late_notice_steps_booking_id_bookings",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("booking_id", "booking_moves", "step", name="pk_late_notice_steps"),
    )


def downgrade() -> None:
    op.drop_table("late_notice_steps")
    op.drop_index("ix_delay_declarations_day", table_name="delay_declarations")
    op.drop_table("delay_declarations")
