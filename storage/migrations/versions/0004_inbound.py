"""Create the table of inbound messages seen by channel id, and the per-contact rate-limit windows."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models.base import UTCDateTime

revision = "0004_inbound"
down_revision = "0003_dialogue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_messages"),
        sa.UniqueConstraint("channel", "message_digest", name="uq_inbound_messages_channel_message_digest"),
    )
    op.create_index("ix_inbound_messages_received_at", "inbound_messages", ["received_at"])
    op.create_table(
        "contact_message_windows",
        sa.Column("contact_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("window_started_at", UTCDateTime(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_contact_message_windows_contact_id_contacts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", name="pk_contact_message_windows"),
    )


def downgrade() -> None:
    op.drop_table("contact_message_windows")
    op.drop_index("ix_inbound_messages_received_at", table_name="inbound_messages")
    op.drop_table("inbound_messages")
