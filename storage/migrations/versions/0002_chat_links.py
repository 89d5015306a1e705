"""chat links and conversation state

A contact may now act through several chats (Telegram and Zalo); existing links move from
contact.channel/chat_id to chat_link rows, and back on downgrade (one per contact).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 05:47:04.743482
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_update_id", sa.BigInteger(), nullable=True),
        sa.Column("failed_codes", sa.Integer(), nullable=False),
        sa.Column("failed_since", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation")),
        sa.UniqueConstraint("channel", "chat_id", name=op.f("uq_conversation_channel_chat_id")),
    )
    op.create_table(
        "chat_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("reachable", sa.Boolean(), nullable=False),
        sa.Column("linked_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_chat_link_contact_id_contact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_link")),
        sa.UniqueConstraint("channel", "chat_id", name=op.f("uq_chat_link_channel_chat_id")),
    )
    with op.batch_alter_table("chat_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_link_contact_id"), ["contact_id"], unique=False)

    op.execute(
        "INSERT INTO chat_link (contact_id, channel, chat_id, reachable, linked_at) "
        "SELECT id, channel, chat_id, reachable, COALESCE(linked_at, created_at) FROM contact "
        "WHERE channel IS NOT NULL AND chat_id IS NOT NULL"
    )
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_contact_channel_chat_id"), type_="unique")
        batch_op.drop_column("reachable")
        batch_op.drop_column("chat_id")
        batch_op.drop_column("linked_at")
        batch_op.drop_column("channel")
        batch_op.drop_column("locale")


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.VARCHAR(length=8), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.VARCHAR(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("linked_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("chat_id", sa.VARCHAR(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("reachable", sa.BOOLEAN(), nullable=False, server_default=sa.true())
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_contact_channel_chat_id"), ["channel", "chat_id"]
        )
    op.execute(
        "UPDATE contact SET channel = l.channel, chat_id = l.chat_id, reachable = l.reachable, "
        "linked_at = l.linked_at FROM chat_link AS l WHERE l.contact_id = contact.id "
        "AND l.id = (SELECT MIN(id) FROM chat_link WHERE contact_id = contact.id)"
    )

    with op.batch_alter_table("chat_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_link_contact_id"))

    op.drop_table("chat_link")
    op.drop_table("conversation")
