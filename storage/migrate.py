"""Alembic migrations, applied at start and by `steward db upgrade`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from storage.db import create_engine

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at `url` to `revision` (idempotent)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync_conn: command.upgrade(alembic_config(sync_conn), revision))
    finally:
        await engine.dispose()


def upgrade_blocking(url: str, revision: str = "heads") -> None:
    asyncio.run(upgrade(url, revision))
