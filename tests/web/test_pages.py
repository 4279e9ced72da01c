"""Every page, as a member and as a facilitator, over the sample community."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from bot.settings import Settings
from tests.web.community import FACILITATOR, MEMBER
from tests.web.conftest import form_token
from tests.web.learning_paths import GOAL, add_path

Portal = Callable[[str | None], TestClient]
PAGES = ("/", "/lessons", "/questions", "/digests", "/me")


def first_lesson(html: str) -> str:
    """The id of the first lesson a page links to."""
    found = re.search(r'href="/lessons/(\d+)"', html)
    assert found, "the page links to a lesson"
    return found.group(1)


def test_every_page_needs_sign_in_except_healthz(portal: Portal) -> None:
    client = portal(None)
    for path in (*PAGES, "/health", "/lessons/1"):
        page = client.get(path)
        assert page.status_code == 401, path
        assert "/steward portal" in page.text, "the page says how to get a sign-in link"
    health = client.get("/healthz")
    assert health.status_code == 200 and health.text == "ok"


def test_a_member_reads_every_page(portal: Portal) -> None:
    client = portal(MEMBER)
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert "Elif" in page.text or path != "/", "the overview greets the member by name"
    overview = client.get("/").text
    assert "Questions still waiting for an answer" in overview
    assert "Does anyone know if Jira Service Management" in overview
    assert "Half of the finance team gets OneDrive sync errors" in overview
    digests = client.get("/digests").text
    assert "Weekly digest for #help" in digests and "<#help>" not in digests, "chat markup shown as names"
    assert "@Lukas Hoffmann" in digests


def test_health_is_for_facilitators(portal: Portal) -> None:
    assert portal(MEMBER).get("/health").status_code == 403
    page = portal(FACILITATOR).get("/health")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3, "three charts"
    assert "Time to first response" in page.text and "14 minutes" in page.text
    assert "Answerer concentration" in page.text


def test_health_for_one_channel_and_a_date_range(portal: Portal) -> None:
    client = portal(FACILITATOR)
    page = client.get("/health", params={"from": "2026-03-02", "to": "2026-03-08", "channel": "wandel-de"})
    assert page.status_code == 200
    assert 'value="wandel-de" selected' in page.text
    assert page.text.count("<tr>") == 2, "the header and one week"
    bad = client.get("/health", params={"from": "yesterday", "to": "2026-13-45", "channel": "nope"})
    assert bad.status_code == 200, "a malformed range falls back to the default"


def test_small_groups_are_not_shown(portal_settings: object, portal: Portal) -> None:
    client = portal(FACILITATOR)
    client.app.state.settings = client.app.state.settings.model_copy(update={"web_min_group": 50})
    page = client.get("/health").text
    assert "Too few to show" in page or "No week in this range" in page
    assert "<svg" not in page
    assert "Too few to show" in client.get("/").text


def test_lesson_search_tags_and_page(portal: Portal) -> None:
    client = portal(MEMBER)
    found = client.get("/lessons", params={"q": "OneDrive sync"})
    assert "Half of the finance team gets OneDrive sync errors" in found.text
    lesson_id = first_lesson(found.text)
    page = client.get(f"/lessons/{lesson_id}")
    assert page.status_code == 200 and "What worked" in page.text
    assert "Curate this lesson" not in page.text, "members do not see the curation forms"
    nothing = client.get("/lessons", params={"q": "xylophone quartz"})
    assert "No lesson matches" in nothing.text
    tag = found.text.split('href="/lessons?tag=', 1)[1].split('"', 1)[0].split("&amp;")[0]
    tagged = client.get(f"/lessons?tag={tag}")
    assert "Half of the finance team" in tagged.text
    assert client.get("/lessons/999999").status_code == 404
    assert client.get("/lessons/not-a-number").status_code == 404


def test_a_facilitator_curates_a_lesson(portal: Portal) -> None:
    client = portal(FACILITATOR)
    listing = client.get("/lessons", params={"q": "OneDrive"}).text
    lesson_id = first_lesson(listing)
    page = client.get(f"/lessons/{lesson_id}")
    token = form_token(page.text)
    edited = client.post(f"/lessons/{lesson_id}", data={"csrf": token, "action": "edit",
                                                         "value": "OneDrive sync errors after the move"})
    assert edited.status_code == 200 and "The title is saved." in edited.text
    assert "<h1>OneDrive sync errors after the move</h1>" in edited.text
    retagged = client.post(f"/lessons/{lesson_id}", data={"csrf": token, "action": "retag",
                                                           "value": "OneDrive, sync client"})
    assert 'href="/lessons?tag=sync%20client"' in retagged.text
    verified = client.post(f"/lessons/{lesson_id}", data={"csrf": token, "action": "verify"})
    assert "verified on" in verified.text
    history = verified.text.split("<h2>History</h2>", 1)[1].split("</section>", 1)[0]
    assert "Steward saved it from the thread" in history
    assert "Anna Becker renamed it “OneDrive sync errors after the move”." in history
    assert "Anna Becker set the tags: OneDrive, sync client." in history
    assert "Anna Becker verified it." in history
    assert client.post(f"/lessons/{lesson_id}", data={"csrf": token, "action": "edit", "value": ""}).status_code == 400
    assert client.post(f"/lessons/{lesson_id}", data={"csrf": token, "action": "explode"}).status_code == 400
    deleted = client.post(f"/lessons/{lesson_id}", data={"csrf": token, "action": "delete"})
    assert deleted.status_code == 200 and client.get(f"/lessons/{lesson_id}").status_code == 404


def test_members_cannot_curate_and_forms_need_their_token(portal: Portal) -> None:
    member = portal(MEMBER)
    listing = member.get("/lessons").text
    lesson_id = first_lesson(listing)
    token = form_token(member.get(f"/lessons/{lesson_id}").text)
    for action in ("edit", "retag", "verify", "merge", "delete"):
        refused = member.post(f"/lessons/{lesson_id}", data={"csrf": token, "action": action, "value": "x", "into": 1})
        assert refused.status_code == 403, action
    facilitator = portal(FACILITATOR)
    forged = facilitator.post(f"/lessons/{lesson_id}", data={"csrf": token, "action": "delete"})
    assert forged.status_code == 403, "another session's token is refused"
    assert facilitator.post(f"/lessons/{lesson_id}", data={"action": "delete"}).status_code == 403
    assert facilitator.get(f"/lessons/{lesson_id}").status_code == 200, "still there"


def test_german(portal: Portal) -> None:
    client = portal(MEMBER)
    token = form_token(client.get("/").text)
    page = client.post("/language", data={"csrf": token, "lang": "de", "back": "/lessons"})
    assert page.status_code == 200 and str(page.url).endswith("/lessons")
    assert "Lektionen durchsuchen" in page.text and '<html lang="de">' in page.text
    overview = client.get("/").text
    assert "Fragen, die noch auf eine Antwort warten" in overview
    assert "3. März 2026" in overview, "dates as German writes them"
    off_site = client.post("/language", data={"csrf": token, "lang": "en", "back": "//evil.example/"},
                           follow_redirects=False)
    assert off_site.headers["location"] == "/", "never redirected off the site"


def test_security_headers(portal: Portal) -> None:
    page = portal(MEMBER).get("/")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    cookie = page.request.headers.get("cookie", "")
    assert "steward_portal=" in cookie


def test_exports_as_the_export_command_writes_them(portal: Portal) -> None:
    client = portal(MEMBER)
    exported = client.get("/lessons/export.json")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/json")
    records = exported.json()
    assert [r["title"] for r in records] == ["Half of the finance team gets OneDrive sync errors"]
    assert "Elif Yılmaz" in records[0]["contributors"], "contributors by name"
    page = client.get(f"/lessons/{records[0]['id']}/export.md")
    assert page.status_code == 200 and page.text.startswith("---\n")
    assert "## What worked" in page.text
    assert client.get("/lessons/999999/export.md").status_code == 404


def test_learning_paths_list_their_lessons_in_order_and_the_members_progress(
    portal: Portal, portal_settings: Settings
) -> None:
    client = portal(MEMBER)
    assert "No learning paths yet" in client.get("/paths").text
    public_id, _ = add_path(portal_settings, follower=MEMBER)
    listing = client.get("/paths")
    assert listing.status_code == 200 and 'href="/paths/starters"' in listing.text
    assert GOAL in listing.text and "You follow this path: 1 of 1 done." in listing.text, "of the lessons they see"
    page = client.get("/paths/starters")
    assert page.status_code == 200 and GOAL in page.text
    assert re.findall(r'href="/lessons/(\d+)" class="title"', page.text) == [str(public_id)]
    assert "✓" in page.text, "the lesson they marked done"
    other = portal(FACILITATOR).get("/paths/starters")
    assert "/steward path start starters" in other.text and "✓" not in other.text, "not following it"
    assert client.get("/paths/nowhere").status_code == 404
    assert portal(None).get("/paths").status_code == 401
    german = client.get("/paths", headers={"accept-language": "de"})
    assert "Lernpfade" in german.text
