"""The portal's skills page: search by topic, only consenting members, only public-channel evidence."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.testclient import TestClient

from bot.settings import Settings
from storage.db import create_engine
from storage.repository import T_RESPONSE
from storage.skills import set_visible
from tests.web.community import FACILITATOR, MEMBER, SECRET, WORKSPACE
from tests.web.test_access import _private_lesson_id, everything_an_outsider_can_reach

Portal = Callable[[str | None], TestClient]
PRIYA = "U01PRIYA"  # answered the sample's OneDrive questions in public channels


def consent_and_a_private_answer(settings: Settings, *members: str) -> None:
    """The members agree to be listed; Priya also answered the private channel's question (with its secret)."""

    async def change() -> None:
        db = create_engine(settings.database_url)
        at = datetime(2026, 3, 20, tzinfo=UTC)
        try:
            for member in members:
                await set_visible(db, WORKSPACE, member, True, at=at)
            async with db.begin() as conn:
                await conn.execute(T_RESPONSE.insert().values(
                    workspace_id=WORKSPACE, question_id="p1", message_id="p1-answer", responder_id=PRIYA, at=at,
                    recorded_at=at, first=True, accepted=False,
                ))
        finally:
            await db.dispose()

    asyncio.run(change())


def test_the_skills_page_lists_only_consenting_members(portal: Portal, portal_settings: Settings) -> None:
    client = portal(MEMBER)
    page = client.get("/skills?topic=OneDrive")
    assert page.status_code == 200 and "Nobody listed can help with this topic yet." in page.text
    assert "Priya" not in page.text, "nobody is listed before they agree"

    consent_and_a_private_answer(portal_settings, PRIYA)
    page = client.get("/skills?topic=OneDrive").text
    assert "Priya Nair" in page and "Answered one question on it:" in page
    assert "sync" in page.lower(), "what she answered is quoted"
    assert 'href="/skills"' in client.get("/").text, "the navigation leads there"


def test_a_private_channel_is_never_evidence_on_the_skills_page(portal: Portal, portal_settings: Settings) -> None:
    consent_and_a_private_answer(portal_settings, PRIYA, MEMBER, FACILITATOR)
    lesson_id = _private_lesson_id(portal_settings)
    for outsider in (MEMBER, FACILITATOR):
        client = portal(outsider)
        budget = client.get("/skills?topic=budget").text
        assert "Priya" not in budget, "her only budget answer is in a private channel"
        seen = everything_an_outsider_can_reach(client, lesson_id)
        assert SECRET not in seen and SECRET.lower() not in seen


def test_the_skills_page_in_german(portal: Portal, portal_settings: Settings) -> None:
    consent_and_a_private_answer(portal_settings, PRIYA)
    client = portal(MEMBER)
    client.post("/language", data={"lang": "de"})
    page = client.get("/skills?topic=OneDrive", headers={"accept-language": "de"}).text
    assert "<h1>Kompetenzen</h1>" in page and "Hat eine Frage dazu beantwortet:" in page
