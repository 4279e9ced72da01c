"""A member mutes, unmutes and has Steward forget them from their page, through the engine, as in chat."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from adapters.web.app import create_app
from bot.app.wiring import build_engine
from bot.core.clock import SystemClock
from bot.settings import Settings
from storage.repository import T_MEMBER, T_MESSAGE
from tests.web.community import MEMBER, WORKSPACE
from tests.web.conftest import issue_token


@pytest.fixture
async def signed_in(portal_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    engine = await build_engine(portal_settings, SystemClock())
    app = create_app(portal_settings, events=engine.handle)
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://portal", follow_redirects=True,
            headers={"accept-language": "en"},
        ) as client:
            token = await issue_token(portal_settings, MEMBER)
            page = await client.get(f"/signin/{token}")
            await client.post(f"/signin/{token}", data={"csrf": csrf(page.text)})
            yield client, engine
    finally:
        await engine.close()


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def muted_until(engine: object, member: str = MEMBER) -> datetime | None:
    async with engine.db.connect() as conn:  # type: ignore[attr-defined]
        return (await conn.execute(select(T_MEMBER.c.muted_until).where(
            T_MEMBER.c.workspace_id == WORKSPACE, T_MEMBER.c.id == member))).scalar()


async def test_mute_and_unmute_from_the_portal(signed_in: tuple[httpx.AsyncClient, object]) -> None:
    client, engine = signed_in
    page = await client.get("/me")
    assert "nudges for" in page.text and 'value="mute"' in page.text
    muted = await client.post("/me", data={"csrf": csrf(page.text), "action": "mute", "days": "3"})
    assert muted.status_code == 200 and "Done: I won&#39;t nudge you until" in muted.text, "the engine's reply shown"
    until = await muted_until(engine)
    assert until is not None and 2.9 < (until - datetime.now(UTC)).total_seconds() / 86400 < 3.1
    unmuted = await client.post("/me", data={"csrf": csrf(muted.text), "action": "unmute"})
    assert unmuted.status_code == 200 and "Welcome back: I may nudge you again" in unmuted.text
    assert await muted_until(engine) is None
    for bad in ({"action": "mute", "days": "0"}, {"action": "mute", "days": "x"}, {"action": "explode"},
                {"action": "forget"}):  # forgetting needs the box ticked
        assert (await client.post("/me", data={"csrf": csrf(unmuted.text), **bad})).status_code == 400


async def test_forget_me_from_the_portal(signed_in: tuple[httpx.AsyncClient, object]) -> None:
    client, engine = signed_in
    page = await client.get("/me")
    done = await client.post("/me", data={"csrf": csrf(page.text), "action": "forget", "confirm": "yes"})
    assert done.status_code == 200 and "Steward has forgotten you" in done.text
    async with engine.db.connect() as conn:  # type: ignore[attr-defined]
        texts = (await conn.execute(select(T_MESSAGE.c.text).where(
            T_MESSAGE.c.workspace_id == WORKSPACE, T_MESSAGE.c.user_id == MEMBER))).scalars().all()
    assert texts and all(t is None for t in texts), "the member's texts are gone"
    assert (await client.get("/me")).status_code == 401, "and so is their session"


async def test_without_the_engine_the_page_says_to_use_chat(portal_settings: Settings) -> None:
    app = create_app(portal_settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://portal", follow_redirects=True
    ) as client:
        token = await issue_token(portal_settings, MEMBER)
        page = await client.get(f"/signin/{token}")
        await client.post(f"/signin/{token}", data={"csrf": csrf(page.text)})
        me = await client.get("/me")
        assert "Change them in chat" in me.text and 'name="action" value="mute"' not in me.text
        assert (await client.post("/me", data={"csrf": csrf(me.text), "action": "unmute"})).status_code == 400
