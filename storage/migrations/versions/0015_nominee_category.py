"""an individual nominee's category (entrepreneur, manager, worker) and gender, both optional,
for the statistics form and the priority to women; a collective's headcount, optional; what a
proposal that needs one rests on (căn cứ đề nghị)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nominee", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("gender", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("members", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("basis", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nominee", schema=None) as batch_op:
        batch_op.drop_column("basis")
        batch_op.drop_column("members")
        batch_op.drop_column("gender")
        batch_op.drop_column("category")
