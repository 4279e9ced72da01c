"""Alembic migrations, applied at start and by `steward db upgrade`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at `url` to `revision` (idempotent). All of it, or nothing: a process killed mid-way
    leaves the database as it was, and the next start migrates it again."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        _transactional_ddl(engine)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync_conn: command.upgrade(alembic_config(sync_conn), revision))
    finally:
        await engine.dispose()


def upgrade_blocking(url: str, revision: str = "heads") -> None:
    asyncio.run(upgrade(url, revision))


def _transactional_ddl(engine: AsyncEngine) -> None:
    """SQLite's Python driver runs CREATE and ALTER outside any transaction until the first INSERT opens one, so
    a kill during the first migration left tables without the version row, and every later start failed on
    "table already exists". With the driver's own transaction handling off and an explicit BEGIN, the whole
    upgrade is one transaction (SQLite's DDL is transactional)."""

    def no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    def begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock at once: no other writer can slip in between

    event.listen(engine.sync_engine, "connect", no_driver_transactions)
    event.listen(engine.sync_engine, "begin", begin)
