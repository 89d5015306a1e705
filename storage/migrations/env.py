"""Alembic environment: takes the engine from the caller, batch mode on SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from storage.models import METADATA

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds tables with DROP TABLE; with foreign keys on, that would cascade
        # deletes into child tables. Switch them off (outside any transaction) and check after.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    with connection.begin():
        context.configure(
            connection=connection,
            target_metadata=METADATA,
            render_as_batch=sqlite,
            compare_type=True,
        )
        context.run_migrations()
    if sqlite:
        broken = connection.execute(text("PRAGMA foreign_key_check")).all()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
        if broken:
            raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
