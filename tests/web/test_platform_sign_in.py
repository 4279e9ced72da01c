"""Sign in with Slack (OpenID Connect) and with Discord (OAuth2), against local fakes of both identity services."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from adapters.web.app import create_app
from bot.settings import Settings
from storage.db import create_engine
from storage.repository import T_MEMBER, T_WORKSPACE
from tests.web.community import MEMBER, WORKSPACE
from tests.web.fake_identity import CLIENT_ID, CLIENT_SECRET, DISCORD_APP, DISCORD_SECRET, FakeIdentity

PORTAL = "http://127.0.0.1:8080"


@pytest.fixture
async def identity() -> AsyncIterator[FakeIdentity]:
    fake = FakeIdentity()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
def settings(portal_settings: Settings, identity: FakeIdentity) -> Settings:
    return portal_settings.model_copy(update={
        "web_base_url": PORTAL, "slack_api_url": identity.url("/api/"),
        "web_slack_client_id": CLIENT_ID, "web_slack_client_secret": SecretStr(CLIENT_SECRET),
        "web_slack_authorize_url": identity.url("/slack/authorize"),
        "discord_application_id": DISCORD_APP, "web_discord_client_secret": SecretStr(DISCORD_SECRET),
        "discord_api_url": identity.url("/discord/api"),
        "web_discord_authorize_url": identity.url("/discord/authorize"),
    })


@pytest.fixture
async def portal(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=PORTAL, headers={"accept-language": "en"}
    ) as client:
        yield client


async def through_the_platform(portal: httpx.AsyncClient, start: str) -> httpx.Response:
    """Start the flow at the portal, let the fake platform consent, and return the portal's callback answer."""
    begun = await portal.get(start)
    assert begun.status_code == 303
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(begun.headers["location"])
    assert consent.status_code == 302
    back = consent.headers["location"]
    assert back.startswith(f"{PORTAL}/signin/")
    return await portal.get(back.removeprefix(PORTAL))


async def add_discord_member(settings: Settings, guild: str, member: str) -> None:
    db = create_engine(settings.database_url)
    try:
        async with db.begin() as conn:
            await conn.execute(T_WORKSPACE.insert().values(id=f"discord:{guild}", platform="discord",
                                                          name=f"Server {guild}", settings={}))
            await conn.execute(T_MEMBER.insert().values(workspace_id=f"discord:{guild}", id=member, name="Dee",
                                                       first_seen_at=datetime.now(UTC)))
    finally:
        await db.dispose()


async def test_sign_in_with_slack(portal: httpx.AsyncClient, identity: FakeIdentity) -> None:
    identity.slack_user = (WORKSPACE.removeprefix("slack:"), MEMBER)
    options = await portal.get("/signin")
    assert "Sign in with Slack" in options.text and "Sign in with Discord" in options.text
    done = await through_the_platform(portal, "/signin/slack")
    assert done.status_code == 303 and done.headers["location"] == "/"
    overview = await portal.get("/")
    assert overview.status_code == 200 and "Hello Elif Yılmaz" in overview.text
    sent = identity.token_requests[-1]
    assert sent["client_id"] == CLIENT_ID and sent["redirect_uri"] == f"{PORTAL}/signin/slack/callback"


async def test_a_callback_the_portal_did_not_start_is_refused(portal: httpx.AsyncClient) -> None:
    assert (await portal.get("/signin/slack/callback?code=x&state=y")).status_code == 403
    begun = await portal.get("/signin/slack")
    state = re.search(r"state=([^&]+)", begun.headers["location"])
    assert state
    forged = await portal.get("/signin/slack/callback", params={"code": "x", "state": "not-" + state.group(1)})
    assert forged.status_code == 403
    assert (await portal.get("/")).status_code == 401


async def test_a_slack_member_steward_never_saw_is_not_signed_in(
    portal: httpx.AsyncClient, identity: FakeIdentity
) -> None:
    identity.slack_user = (WORKSPACE.removeprefix("slack:"), "U0STRANGER")
    answer = await through_the_platform(portal, "/signin/slack")
    assert answer.status_code == 403 and "Steward has not seen you" in answer.text
    assert (await portal.get("/")).status_code == 401


async def test_a_refused_code_is_one_clear_page(portal: httpx.AsyncClient, identity: FakeIdentity) -> None:
    begun = await portal.get("/signin/slack")
    state = re.search(r"state=([^&]+)", begun.headers["location"])
    assert state
    answer = await portal.get("/signin/slack/callback", params={"code": "never-issued", "state": state.group(1)})
    assert answer.status_code == 400 and "did not confirm who you are" in answer.text


async def test_sign_in_with_discord_and_choose_the_server(
    portal: httpx.AsyncClient, identity: FakeIdentity, settings: Settings
) -> None:
    await add_discord_member(settings, "111", "222")
    await add_discord_member(settings, "333", "222")
    identity.discord_user, identity.discord_guilds = "222", ["111", "333", "999"]
    choice = await through_the_platform(portal, "/signin/discord")
    assert choice.status_code == 200 and "Which community?" in choice.text
    assert "Server 111" in choice.text and "Server 333" in choice.text and "999" not in choice.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', choice.text)
    assert csrf
    assert (await portal.post("/signin/choose", data={"csrf": csrf.group(1), "workspace": "discord:999"})
            ).status_code == 400, "only a server the member was offered"
    chosen = await portal.post("/signin/choose", data={"csrf": csrf.group(1), "workspace": "discord:333"})
    assert chosen.status_code == 303
    overview = await portal.get("/")
    assert overview.status_code == 200 and "Server 333" in overview.text
