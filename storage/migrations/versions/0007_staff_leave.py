"""Keep leave recorded by staff across imports, and count changes to the clinic's set-up.

Each date override records where it came from, so importing a clinic file
replaces only the file's own. The clinic's revision goes up with every
import and every leave, so a running front knows to reload the clinic.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_staff_leave"
down_revision = "0006_relay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("date_overrides") as batch:
        batch.add_column(sa.Column("source", sa.String(length=8), nullable=False, server_default="file"))
    with op.batch_alter_table("clinics") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("clinics") as batch:
        batch.drop_column("revision")
    with op.batch_alter_table("date_overrides") as batch:
        batch.drop_column("source")
