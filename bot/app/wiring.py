"""Composition root: settings + database + rules -> a ready engine, with every rule's ports plugged in."""

from __future__ import annotations

import logging

from bot.app.engine import Engine
from bot.app.llm import make_distiller
from bot.app.narrator import make_narrator
from bot.app.ownership import Ownership
from bot.core.clock import Clock
from bot.settings import Settings
from facilitation_rules import default_rules
from facilitation_rules.digest import WeeklyDigest
from facilitation_rules.lessons import LessonCapture
from storage.db import create_engine, redact
from storage.digests import StoredDigests
from storage.lessons import LessonStore, MessageThreadReader
from storage.migrate import upgrade

logger = logging.getLogger(__name__)


async def build_engine(
    settings: Settings,
    clock: Clock,
    *,
    batch_size: int = 1,
    backfill: bool = False,
    migrate: bool = True,
    shared: bool = False,
    ownership: Ownership | None = None,
) -> Engine:
    """Migrate the database, load the working set and return an engine with the default rules.

    `shared`: other processes may use the same database, so workspaces are decided under leases (`ownership`,
    or a new one for this process).
    """
    if migrate:
        await upgrade(settings.database_url)
    db = create_engine(settings.database_url)
    logger.info("database %s", redact(settings.database_url))
    engine = Engine(db, settings, default_rules(settings), clock, batch_size=batch_size, backfill=backfill)
    if shared or ownership is not None:
        engine.ownership = ownership or Ownership(db)
        engine.ownership.bind(db)
    wire_digests(engine)
    attach_lessons(engine)
    await engine.start()
    return engine


def wire_digests(engine: Engine) -> None:
    """Give the engine's digest rules their storage port, and their narrator when an LLM is configured."""
    narrator = make_narrator(engine.settings)
    for rule in engine.rules:
        if isinstance(rule, WeeklyDigest):
            rule.source = StoredDigests(engine.db, flush=engine.flush)
            rule.narrator = narrator


def attach_lessons(engine: Engine) -> LessonStore:
    """Give the engine its knowledge store and the lesson rule its ports; the replay report lists captures."""
    store = LessonStore(engine.db)
    engine.knowledge = store
    engine.on_forget.append(store.forget_member)
    reader = MessageThreadReader(engine.db, before=engine.flush)
    for rule in engine.rules:
        if isinstance(rule, LessonCapture):
            rule.attach(book=store, reader=reader, distiller=make_distiller(engine.settings))
            engine.extras["report_lessons"] = rule.captured_report
    return store
