"""the inbox counts failed attempts at a delivery, and finds undone ones by index

A delivery whose chat cannot even be opened was apologised for at every look-back and held its
chat forever; after a few attempts it is now let go (answered with the apology).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_inbox_done_at"), ["done_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_done_at"))
        batch_op.drop_column("attempts")
