"""Record where a date override came from, so importing a clinic file keeps leave entered by staff."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_override_source"
down_revision = "0006_relay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("date_overrides") as batch:
        batch.add_column(sa.Column("source", sa.String(length=8), nullable=False, server_default="file"))


def downgrade() -> None:
    with op.batch_alter_table("date_overrides") as batch:
        batch.drop_column("source")
