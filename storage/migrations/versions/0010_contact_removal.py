"""a contact who redeemed an invitation can be removed: the invitation keeps "used", not who

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
FK = "fk_invitation_used_by_contact_id_contact"


def upgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(FK), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f(FK), "contact", ["used_by_contact_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(FK), type_="foreignkey")
        batch_op.create_foreign_key(batch_op.f(FK), "contact", ["used_by_contact_id"], ["id"])
