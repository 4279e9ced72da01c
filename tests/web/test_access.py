"""Sign-in links, sessions and the private-channel rule, tried through every page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from bot.settings import Settings
from storage.db import create_engine
from storage.portal import issue_sign_in
from tests.web.cocreation import add_cocreation
from tests.web.community import FACILITATOR, INSIDER, MEMBER, PRIVATE_CHANNEL, SECRET, WORKSPACE
from tests.web.conftest import form_token, sign_in_token
from tests.web.learning_paths import PATH, add_path

Portal = Callable[[str | None], TestClient]


def _private_lesson_id(settings: Settings) -> int:
    async def find() -> int:
        from storage.lessons import LessonStore

        db = create_engine(settings.database_url)
        try:
            lesson = await LessonStore(db).by_source(WORKSPACE, "p1")
        finally:
            await db.dispose()
        assert lesson is not None and lesson.id is not None
        return lesson.id

    return asyncio.run(find())


def everything_an_outsider_can_reach(client: TestClient, lesson_id: int, *more: str) -> str:
    """Every page and every query an outsider could try to reach the private channel's words with (`more`: pages
    of private items a test made)."""
    paths = [
        "/", "/lessons", "/questions", "/digests", "/me", "/health",
        f"/lessons?q={SECRET}", "/lessons?q=budget", "/lessons?q=budget approvals steering",
        f"/lessons?tag={SECRET.lower()}", "/lessons?tag=budget",
        f"/lessons/{lesson_id}", f"/health?channel={PRIVATE_CHANNEL}",
        f"/health?channel={PRIVATE_CHANNEL}&from=2026-03-01&to=2026-03-31",
        "/lessons/export.json", f"/lessons/{lesson_id}/export.md",
        "/paths", f"/paths/{PATH}",
        "/skills", f"/skills?topic={SECRET}", "/skills?topic=budget", "/skills?topic=reorganisation",
        "/decisions", f"/decisions?q={SECRET}", "/decisions?q=vault files", "/decisions/export.json",
        "/ideas", "/ideas?status=all", "/ideas?status=proposed", "/initiatives",
        *more,
    ]
    pages = "\n".join(client.get(path).text for path in paths)
    return re.sub(r'(value|href)="[^"]*"', "", pages)  # the search box and links echo what was asked for


def test_no_page_shows_a_private_channel_to_outsiders(portal: Portal, portal_settings: Settings) -> None:
    lesson_id = _private_lesson_id(portal_settings)
    add_path(portal_settings, follower=MEMBER)  # a learning path holding the private lesson too
    made = add_cocreation(portal_settings)  # a private decision (superseding a public one), idea and initiative
    private_pages = (f"/decisions/{made.private_decision}", f"/decisions/{made.private_decision}/export.md",
                     f"/decisions/{made.sharepoint}", f"/decisions/{made.sharepoint}/export.md")
    for outsider in (MEMBER, FACILITATOR):  # being a facilitator does not open a private channel
        client = portal(outsider)
        assert client.get(f"/paths/{PATH}").status_code == 200, "the path is there, without the private lesson"
        assert client.get(f"/decisions/{made.private_decision}").status_code == 404
        seen = everything_an_outsider_can_reach(client, lesson_id, *private_pages)
        assert SECRET not in seen, f"{outsider} saw private text"
        assert SECRET.lower() not in seen
        assert f"#{PRIVATE_CHANNEL}" not in seen
        assert client.get(f"/lessons/{lesson_id}").status_code == 404, "a private lesson is not there for them"
        assert client.get(f"/lessons/{lesson_id}/export.md").status_code == 404


def test_a_member_of_the_private_channel_sees_its_question_and_lesson(
    portal: Portal, portal_settings: Settings
) -> None:
    client = portal(INSIDER)
    lesson_id = _private_lesson_id(portal_settings)
    assert SECRET in client.get("/questions").text
    page = client.get(f"/lessons/{lesson_id}")
    assert page.status_code == 200 and SECRET in page.text
    assert SECRET in client.get("/me").text, "their own question and lesson"
    assert SECRET in client.get("/lessons/export.json").text
    add_path(portal_settings)
    assert SECRET in client.get(f"/paths/{PATH}").text, "the private lesson on a path, for who may see it"


def test_a_sign_in_link_works_once(portal: Portal, portal_settings: Settings) -> None:
    token = sign_in_token(portal_settings, MEMBER)
    client = portal(None)
    confirm = client.get(f"/signin/{token}")
    assert "Sign in to the portal as Elif Yılmaz?" in confirm.text
    assert client.get(f"/signin/{token}").status_code == 200, "looking at the link (a preview) does not spend it"
    csrf = form_token(confirm.text)
    assert client.post(f"/signin/{token}", data={"csrf": csrf}).status_code == 200
    again = portal(None)
    page = again.get(f"/signin/{token}")
    assert page.status_code == 410 and "used already or is too old" in page.text
    assert again.post(f"/signin/{token}", data={"csrf": form_token(page.text)}).status_code == 410
    assert again.get("/").status_code == 401


def test_expired_unknown_and_forged_sign_ins_fail(portal: Portal, portal_settings: Settings) -> None:
    async def expired() -> str:
        db = create_engine(portal_settings.database_url)
        try:
            return await issue_sign_in(db, WORKSPACE, MEMBER, now=datetime.now(UTC) - timedelta(hours=2))
        finally:
            await db.dispose()

    client = portal(None)
    for token in (asyncio.run(expired()), "not-a-token", "x" * 400):
        page = client.get(f"/signin/{token}")
        assert page.status_code == 410
        assert client.post(f"/signin/{token}", data={"csrf": form_token(page.text)}).status_code == 410
    fresh = sign_in_token(portal_settings, MEMBER)
    assert client.post(f"/signin/{fresh}", data={"csrf": "forged"}).status_code == 403, "CSRF checked on sign-in"
    assert client.get("/").status_code == 401


def test_signing_out_ends_the_session(portal: Portal) -> None:
    client = portal(MEMBER)
    token = form_token(client.get("/").text)
    assert client.post("/signout", data={"csrf": token}).status_code == 200
    assert client.get("/").status_code == 401


def test_a_tampered_session_cookie_is_not_a_session(portal: Portal) -> None:
    client = portal(MEMBER)
    cookie = client.cookies.get("steward_portal")
    assert cookie
    stranger = portal(None)
    assert stranger.get("/", headers={"cookie": f"steward_portal={cookie}"}).status_code == 200, "the real one works"
    tampered = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
    assert portal(None).get("/", headers={"cookie": f"steward_portal={tampered}"}).status_code == 401
