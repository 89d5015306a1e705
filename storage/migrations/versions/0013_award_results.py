"""each proposal's result: recognised or not, what was conferred, by whom, by which decision

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "award_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("name_search", sa.String(length=200), nullable=False),
        sa.Column("position", sa.String(length=300), nullable=True),
        sa.Column("person_key", sa.String(length=520), nullable=False),
        sa.Column("proposed_code", sa.String(length=16), nullable=False),
        sa.Column("recognised", sa.Boolean(), nullable=False),
        sa.Column("conferred_code", sa.String(length=16), nullable=True),
        sa.Column("decision_number", sa.String(length=60), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("conferred_by", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_award_result_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_award_result_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_result")),
        sa.UniqueConstraint(
            "campaign_id",
            "enterprise_id",
            "kind",
            "person_key",
            "proposed_code",
            name=op.f("uq_award_result_campaign_id_enterprise_id_kind_person_key_proposed_code"),
        ),
    )
    with op.batch_alter_table("award_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_award_result_campaign_id"), ["campaign_id"])
        batch_op.create_index(batch_op.f("ix_award_result_enterprise_id"), ["enterprise_id"])
        batch_op.create_index(batch_op.f("ix_award_result_name_key"), ["name_key"])
        batch_op.create_index(batch_op.f("ix_award_result_name_search"), ["name_search"])


def downgrade() -> None:
    with op.batch_alter_table("award_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_award_result_name_search"))
        batch_op.drop_index(batch_op.f("ix_award_result_name_key"))
        batch_op.drop_index(batch_op.f("ix_award_result_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_award_result_campaign_id"))
    op.drop_table("award_result")
