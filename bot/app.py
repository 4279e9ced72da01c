"""Composition root: settings + database + rules -> a ready engine."""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.engine import Engine
from bot.settings import Settings
from facilitation_rules import default_rules
from storage.db import create_engine, redact
from storage.digests import wire_digests
from storage.lessons import attach as attach_lessons
from storage.migrate import upgrade

logger = logging.getLogger(__name__)


async def build_engine(
    settings: Settings, clock: Clock, *, batch_size: int = 1, backfill: bool = False, migrate: bool = True
) -> Engine:
    """Migrate the database, load the working set and return an engine with the default rules."""
    if migrate:
        await upgrade(settings.database_url)
    db = create_engine(settings.database_url)
    logger.info("database %s", redact(settings.database_url))
    engine = Engine(db, settings, default_rules(settings), clock, batch_size=batch_size, backfill=backfill)
    wire_digests(engine)
    attach_lessons(engine)
    await engine.start()
    return engine
