"""a chat's recently seen delivery keys replace its last update id

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:00:00

Telegram delivers an update again after a crash, out of order over several webhook connections,
and restarts its ids from a new random value after a week without updates: "skip ids up to the
last one seen" dropped the last two kinds. A bounded list of recent keys (strings: Zalo's ids are
hex) answers each delivery once and nothing else.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONV = sa.table(
    "conversation",
    sa.column("id", sa.Integer),
    sa.column("last_update_id", sa.BigInteger),
    sa.column("recent_keys", sa.JSON),
)


def upgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recent_keys", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_CONV.c.id, _CONV.c.last_update_id).where(_CONV.c.last_update_id.is_not(None))
    ).all()
    for row_id, last in rows:
        connection.execute(
            _CONV.update().where(_CONV.c.id == row_id).values(recent_keys=[str(last)])
        )
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_column("last_update_id")


def downgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_update_id", sa.BigInteger(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_CONV.c.id, _CONV.c.recent_keys).where(_CONV.c.recent_keys.is_not(None))
    ).all()
    for row_id, keys in rows:
        numbers = [int(key) for key in keys or [] if str(key).isdigit()]
        if numbers:
            connection.execute(
                _CONV.update().where(_CONV.c.id == row_id).values(last_update_id=max(numbers))
            )
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_column("recent_keys")
