"""Create the dialogue state table."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models.base import UTCDateTime

revision = "0003_dialogue"
down_revision = "0002_booking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dialogue_states",
        sa.Column("contact_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_dialogue_states_contact_id_contacts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", name="pk_dialogue_states"),
    )
    op.create_index("ix_dialogue_states_expires_at", "dialogue_states", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_dialogue_states_expires_at", table_name="dialogue_states")
    op.drop_table("dialogue_states")
