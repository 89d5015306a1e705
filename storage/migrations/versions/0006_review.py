"""review states

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 07:30:48.125975
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "review_state", sa.String(length=16), nullable=False, server_default="received"
            )
        )
        batch_op.add_column(sa.Column("review_comment", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reviewed_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_registration_reviewed_by_contact"),
            "contact",
            ["reviewed_by"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "review_state", sa.String(length=16), nullable=False, server_default="received"
            )
        )
        batch_op.add_column(sa.Column("review_comment", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reviewed_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_report_reviewed_by_contact"),
            "contact",
            ["reviewed_by"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_report_reviewed_by_contact"), type_="foreignkey")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("review_comment")
        batch_op.drop_column("review_state")

    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_registration_reviewed_by_contact"), type_="foreignkey"
        )
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("review_comment")
        batch_op.drop_column("review_state")
