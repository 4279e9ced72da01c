"""`/steward portal` in the console: a one-time link by direct message, which signs the member in once."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.wiring import build_engine
from bot.core.actions import PostEphemeral
from bot.core.clock import SimulatedClock
from bot.core.events import CommandInvoked
from bot.settings import Settings
from storage.portal import redeem_sign_in
from storage.repository import T_OUTBOX

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def outbox_dms(db: AsyncEngine) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        rows = await conn.execute(select(T_OUTBOX.c.action).where(T_OUTBOX.c.key.like("portal-link:%")))
        return [dict(action) for action in rows.scalars()]


def command(workspace: str, args: str = "portal") -> CommandInvoked:
    return CommandInvoked(workspace=workspace, channel="general", user="U1", args=args, at=NOW)


async def test_the_link_signs_in_once(settings: Settings) -> None:
    engine = await build_engine(settings.model_copy(update={"web_port": 8099}), SimulatedClock(NOW))
    try:
        replies = await engine.handle(command("console:local"))
        assert any(isinstance(a, PostEphemeral) and "direct message" in a.text for a in replies)
        dms = await outbox_dms(engine.db)
        assert len(dms) == 1 and dms[0]["user"] == "U1"
        link = re.search(r"http://127\.0\.0\.1:8099/signin/([\w-]+)", dms[0]["text"])
        assert link, dms[0]["text"]
        assert "30 minutes" in dms[0]["text"]
        first = await redeem_sign_in(engine.db, link.group(1), now=NOW)
        assert first is not None and (first.workspace, first.member) == ("console:local", "U1")
        assert await redeem_sign_in(engine.db, link.group(1), now=NOW) is None, "the link works once"
    finally:
        await engine.close()


async def test_a_platform_without_a_portal_address_says_so(settings: Settings) -> None:
    engine = await build_engine(settings, SimulatedClock(NOW))
    try:
        replies = await engine.handle(command("slack:T1"))
        assert await outbox_dms(engine.db) == []
        assert any(isinstance(a, PostEphemeral) and "WEB_BASE_URL" in a.text for a in replies)
    finally:
        await engine.close()
