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
        assert "/steward settings quiet 20-7" in me.text and "/steward settings timezone Europe/Berlin" in me.text
        assert "20:00–08:00 (the community&#39;s)" in me.text, "her settings, read-only"
        assert 'name="action" value="quiet"' not in me.text and 'name="timezone"' not in me.text
        assert (await client.post("/me", data={"csrf": csrf(me.text), "action": "unmute"})).status_code == 400
        refused = await client.post("/me", data={"csrf": csrf(me.text), "action": "timezone", "timezone": "UTC"})
        assert refused.status_code == 400


async def own_settings_row(engine: object, member: str = MEMBER) -> tuple[object, ...]:
    async with engine.db.connect() as conn:  # type: ignore[attr-defined]
        row = (await conn.execute(select(T_MEMBER.c.quiet_start, T_MEMBER.c.quiet_end, T_MEMBER.c.chosen_timezone)
                                  .where(T_MEMBER.c.workspace_id == WORKSPACE, T_MEMBER.c.id == member))).one()
    return tuple(row)


async def test_quiet_hours_and_time_zone_from_the_portal(signed_in: tuple[httpx.AsyncClient, object]) -> None:
    client, engine = signed_in
    page = await client.get("/me")
    assert "20:00–08:00 (the community&#39;s)" in page.text and "Europe/Berlin (the community&#39;s)" in page.text
    assert 'name="action" value="quiet"' in page.text and 'name="action" value="timezone"' in page.text
    assert 'value="quiet_off"' not in page.text, "nothing of her own to go back from yet"

    saved = await client.post("/me", data={"csrf": csrf(page.text), "action": "quiet", "start": "21", "end": "6"})
    assert saved.status_code == 200
    assert "Saved: your quiet hours are 21:00–06:00 in your time zone (Europe/Berlin)" in saved.text, "the engine's"
    assert "21:00–06:00 (your own choice)" in saved.text and 'value="quiet_off"' in saved.text
    assert await own_settings_row(engine) == (21, 6, None)

    zoned = await client.post("/me", data={"csrf": csrf(saved.text), "action": "timezone", "timezone": "asia/tokyo"})
    assert "Saved: your time zone is Asia/Tokyo" in zoned.text and "Asia/Tokyo (your own choice)" in zoned.text
    assert await own_settings_row(engine) == (21, 6, "Asia/Tokyo")

    # What the chat refuses, the page refuses with the chat's line, and nothing changes.
    wrong = await client.post("/me", data={"csrf": csrf(zoned.text), "action": "timezone", "timezone": "Europe/Berln"})
    assert wrong.status_code == 400 and 'role="alert"' in wrong.text
    assert "`Europe/Berln` is not a time zone I know. Did you mean `Europe/Berlin`" in wrong.text
    german = await client.post("/me", headers={"accept-language": "de"},
                               data={"csrf": csrf(zoned.text), "action": "quiet", "start": "25", "end": "3"})
    assert german.status_code == 400 and "`25-3` verstehe ich nicht als Spanne ganzer Stunden" in german.text
    empty = await client.post("/me", data={"csrf": csrf(zoned.text), "action": "timezone", "timezone": " "})
    assert empty.status_code == 400 and "Which time zone?" in empty.text
    assert await own_settings_row(engine) == (21, 6, "Asia/Tokyo")
    forged = await client.post("/me", data={"action": "quiet", "start": "1", "end": "2"})
    assert forged.status_code == 403 and await own_settings_row(engine) == (21, 6, "Asia/Tokyo")

    back = await client.post("/me", data={"csrf": csrf(zoned.text), "action": "quiet_off"})
    assert "the community&#39;s quiet hours apply to you again" in back.text
    auto = await client.post("/me", data={"csrf": csrf(back.text), "action": "timezone_auto"})
    assert "your time zone is Europe/Berlin again" in auto.text
    assert await own_settings_row(engine) == (None, None, None)
