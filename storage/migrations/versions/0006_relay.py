"""Extend the outbox for the relay: the booking reference on each delivery record, and a claim index."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_relay"
down_revision = "0005_delays"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.add_column(sa.Column("reference", sa.String(length=16), nullable=True))
    op.create_index("ix_delivery_attempts_reference", "delivery_attempts", ["reference"])
    op.create_index("ix_outbox_notices_status_priority", "outbox_notices", ["status", "priority_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_notices_status_priority", table_name="outbox_notices")
    op.drop_index("ix_delivery_attempts_reference", table_name="delivery_attempts")
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.drop_column("reference")
