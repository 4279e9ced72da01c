"""The database-backed installation and OAuth state stores, on SQLite and PostgreSQL, and token rotation
through them against the local fake Slack."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.installations import (
    DatabaseInstallationStore,
    DatabaseStateStore,
    InstalledTokens,
    SharedTokenRotator,
)
from storage.db import create_engine
from storage.migrate import upgrade
from storage.slack_installations import T_OUTBOX, fail_unsent
from tests.e2e.slack.fake_slack import CLIENT_ID, CLIENT_SECRET, FakeSlack


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def installation(team: str, token: str, **more: object) -> Installation:
    return Installation(
        app_id="A1", team_id=team, team_name=f"Team {team}", bot_token=token, bot_id=f"B{team}",
        bot_user_id=f"U{team}", bot_scopes="chat:write,users:read", user_id="UADMIN", **more,  # type: ignore[arg-type]
    )


async def test_an_installation_is_stored_as_it_came_replaced_on_reinstall_and_deleted(db: AsyncEngine) -> None:
    store = DatabaseInstallationStore(db)
    await store.async_save(installation("T1", "xoxb-T1-a", bot_refresh_token="xoxe-1", bot_token_expires_in=3600))
    await store.async_save(installation("T2", "xoxb-T2-a"))

    found = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None
    assert (found.team_id, found.team_name, found.bot_token, found.bot_user_id, found.bot_id) == (
        "T1", "Team T1", "xoxb-T1-a", "UT1", "BT1")
    assert found.bot_scopes == ["chat:write", "users:read"] and found.user_id == "UADMIN"
    assert found.bot_refresh_token == "xoxe-1"
    assert found.bot_token_expires_at is not None and abs(found.bot_token_expires_at - (time.time() + 3600)) < 60
    assert await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="USOMEONE") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T9") is None

    await store.async_save(installation("T1", "xoxb-T1-b"))  # installed again
    bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-T1-b" and bot.bot_refresh_token is None

    await store.async_delete_installation(enterprise_id=None, team_id="T1", user_id="USOMEONE")
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is not None, "a member's revoke keeps it"
    await store.async_delete_all(enterprise_id=None, team_id="T1")
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None
    assert await store.async_find_bot(enterprise_id=None, team_id="T2") is not None


async def test_a_state_is_accepted_once_and_never_when_forged_or_expired(db: AsyncEngine) -> None:
    states = DatabaseStateStore(db)
    state = await states.async_issue()
    assert len(state) >= 40 and state != await states.async_issue()
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False, "a replayed state is refused"
    assert await states.async_consume("forged-" + state) is False
    assert await states.async_consume("") is False
    expired = DatabaseStateStore(db, expiration_seconds=0)
    assert await expired.async_consume(await expired.async_issue()) is False


async def test_unsent_rows_of_an_uninstalled_workspace_fail_and_others_stay(db: AsyncEngine) -> None:
    now = datetime.now(UTC)
    rows = [
        {"workspace_id": ws, "key": key, "action": {}, "status": status, "created_at": now, "due_at": now}
        for ws, key, status in [("slack:T1", "a", "pending"), ("slack:T1", "b", "sent"), ("slack:T1", "c", "sending"),
                                ("slack:T2", "d", "pending")]
    ]
    async with db.begin() as conn:
        await conn.execute(T_OUTBOX.insert(), rows)
    assert await fail_unsent(db, "slack:T1", "uninstalled") == 2
    async with db.connect() as conn:
        found = {r.key: (r.status, r.last_error) for r in await conn.execute(select(T_OUTBOX))}
    assert found == {"a": ("failed", "uninstalled"), "b": ("sent", None), "c": ("failed", "uninstalled"),
                     "d": ("pending", None)}


async def test_an_expiring_token_is_refreshed_once_and_stored(db: AsyncEngine) -> None:
    fake = FakeSlack()
    await fake.start()
    try:
        fake.token_lifetime = 3600  # expires within bolt's two hours: refreshed before use
        issued = fake._issue("T1")
        store = DatabaseInstallationStore(db)
        await store.async_save(installation("T1", issued["access_token"], bot_refresh_token=issued["refresh_token"],
                                            bot_token_expires_in=issued["expires_in"]))
        fake.token_lifetime = 12 * 3600
        client = AsyncWebClient(base_url=fake.api_url)
        rotator = SharedTokenRotator(store=store, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, client=client)
        tokens = InstalledTokens(store, rotator)

        first, second = await asyncio.gather(tokens.token("T1"), tokens.token("T1"))
        assert first == second and first is not None and first != issued["access_token"]
        assert len(fake.calls_to("oauth.v2.access")) == 1, "one refresh, however many ask at once"
        assert await tokens.token("T1") == first and len(fake.calls_to("oauth.v2.access")) == 1
        bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
        assert bot is not None and bot.bot_token == first and bot.bot_refresh_token != issued["refresh_token"]
        assert bot.bot_token_expires_at is not None and bot.bot_token_expires_at > time.time() + 11 * 3600
        assert await tokens.token("T2") is None
    finally:
        await fake.close()
