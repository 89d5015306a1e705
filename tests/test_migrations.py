"""Migrations on both databases: empty to head, one step down and up, models in step."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from storage.engine import make_engine
from storage.migrate import current_revision, downgrade, head_revision, upgrade

BACKENDS = pytest.mark.parametrize("empty_db_url", ["sqlite", "postgresql"], indirect=True)


@BACKENDS
def test_empty_to_head_creates_every_table_and_matches_the_models(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == [], f"models and migrations disagree: {diff}"
    engine.dispose()


@BACKENDS
def test_one_step_down_and_up_again(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    upgrade(engine)
    head = current_revision(engine)
    downgrade(engine, "-1")
    assert current_revision(engine) != head
    upgrade(engine)
    assert current_revision(engine) == head
    engine.dispose()


@BACKENDS
def test_upgrade_twice_is_harmless_and_base_drops_everything(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    upgrade(engine)
    upgrade(engine)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


@BACKENDS
def test_0002_moves_chat_links_out_of_contact_and_back(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO contact (full_name, role, channel, chat_id, reachable, linked_at,"
                " created_at) VALUES ('An', 'board', 'telegram', '42', :f, :t, :t),"
                " ('Bình', 'board', NULL, NULL, :tr, NULL, :t)"
            ),
            {"t": datetime(2026, 1, 5, tzinfo=UTC).replace(tzinfo=None), "f": False, "tr": True},
        )
    upgrade(engine, "0002")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT channel, chat_id, reachable FROM chat_link")).all()
    assert [tuple(r) for r in rows] == [("telegram", "42", False)]
    downgrade(engine, "0001")
    with engine.connect() as conn:
        back = conn.execute(
            text("SELECT full_name, channel, chat_id, reachable FROM contact ORDER BY id")
        ).all()
    assert [tuple(r) for r in back] == [("An", "telegram", "42", False), ("Bình", None, None, True)]
    engine.dispose()


def test_0007_keeps_the_last_update_id_as_a_recent_key_and_back(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    upgrade(engine, "0006")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO conversation (channel, chat_id, step, data, version, last_update_id,"
                " failed_codes, updated_at) VALUES ('telegram', '1', '', '{}', 0, 850000000, 0,"
                " :t), ('telegram', '2', '', '{}', 0, NULL, 0, :t)"
            ),
            {"t": datetime(2026, 1, 5, tzinfo=UTC).replace(tzinfo=None)},
        )
    upgrade(engine, "0007")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT chat_id, recent_keys FROM conversation ORDER BY id"))
        keys = {
            chat: json.loads(value) if isinstance(value, str) else value for chat, value in rows
        }
    assert keys == {"1": ["850000000"], "2": None}
    with engine.begin() as conn:
        conn.execute(
            text(
                """UPDATE conversation SET recent_keys = '["7", "a1", "12"]' WHERE chat_id = '2'"""
            )
        )
    downgrade(engine, "0006")
    with engine.connect() as conn:
        back = conn.execute(text("SELECT chat_id, last_update_id FROM conversation ORDER BY id"))
        assert [tuple(r) for r in back] == [("1", 850000000), ("2", 12)]
    engine.dispose()
