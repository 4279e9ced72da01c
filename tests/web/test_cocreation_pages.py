"""The portal's decisions, ideas and initiatives pages: search, the supersede chain, support without voters' names,
progress over what the reader may see, German, and a private channel's items only for its members."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from bot.settings import Settings
from tests.web.cocreation import (
    GOAL,
    INITIATIVE,
    PRIVATE_INITIATIVE,
    VOTER_NAMES,
    CoCreation,
    add_cocreation,
    source,
)
from tests.web.community import FACILITATOR, INSIDER, MEMBER, SECRET

Portal = Callable[[str | None], TestClient]
PAGES = ("/decisions", "/ideas", "/initiatives", "/decisions/1", "/decisions/export.json", "/decisions/1/export.md")


@pytest.fixture
def made(portal_settings: Settings) -> CoCreation:
    return add_cocreation(portal_settings)


def _ids(html: str, prefix: str) -> list[int]:
    """The items a list page links, in its order."""
    return [int(n) for n in re.findall(rf'<a href="/{prefix}/(\d+)" class="title">', html)]


def test_signed_out_visitors_get_no_page(portal: Portal) -> None:
    client = portal(None)
    for page in PAGES:
        assert client.get(page).status_code == 401, page


def test_decisions_newest_first_with_their_outcome_reasons_people_and_status(portal: Portal, made: CoCreation) -> None:
    public = [made.sharepoint, made.teams, made.agreed]  # newest first, all newer than the sample's
    for reader in (FACILITATOR, INSIDER):
        listed = _ids(portal(reader).get("/decisions").text, "decisions")
        expected = ([made.private_decision] if reader == INSIDER else []) + public
        assert listed[:len(expected)] == expected
    page = portal(MEMBER).get("/decisions")
    assert page.status_code == 200
    assert _ids(page.text, "decisions")[:3] == public and made.private_decision not in _ids(page.text, "decisions")
    assert "One SharePoint library per programme." in page.text
    assert "Permissions are easier to manage" in page.text
    assert "Anna Becker and Priya Nair" in page.text, "the people involved, by name"
    assert "superseded" in page.text and "agreed" in page.text
    assert '<a href="/decisions/export.json">' in page.text
    assert 'aria-current="page">Decisions</a>' in page.text


def test_searching_decisions_uses_the_chats_full_text_search(portal: Portal, made: CoCreation) -> None:
    client = portal(MEMBER)
    assert _ids(client.get("/decisions?q=permissions managed").text, "decisions")[0] == made.sharepoint, "stemmed"
    assert made.agreed in _ids(client.get("/decisions?q=Schulung Schichtleiter").text, "decisions"), "German stems"
    assert _ids(client.get("/decisions?q=folder tab").text, "decisions")[0] == made.teams, "best match first"
    nothing = client.get("/decisions?q=xylophone")
    assert _ids(nothing.text, "decisions") == [] and "No decision matches" in nothing.text
    assert _ids(client.get(f"/decisions?q={SECRET}").text, "decisions") == [], "a private decision is not found"
    assert _ids(portal(INSIDER).get(f"/decisions?q={SECRET}").text, "decisions") == [made.private_decision]


def test_a_decision_page_links_its_source_and_its_supersede_chain_both_ways(portal: Portal, made: CoCreation) -> None:
    client = portal(FACILITATOR)
    older = client.get(f"/decisions/{made.teams}")
    assert older.status_code == 200
    assert "Superseded by" in older.text and f'<a href="/decisions/{made.sharepoint}">' in older.text
    assert f'href="{source("general", 2)}"' in older.text, "the source thread"
    newer = client.get(f"/decisions/{made.sharepoint}")
    assert f'<a href="/decisions/{made.teams}">' in newer.text, "back to what it replaced"
    assert "Where do session files live?" in newer.text and "SharePoint library" in newer.text
    assert "Versioning works across teams" in newer.text and "Priya Nair" in newer.text
    assert f"/decisions/{made.private_decision}" not in newer.text, "replaced by a private decision: no link"
    assert "superseded" in newer.text and SECRET not in newer.text
    inside = portal(INSIDER).get(f"/decisions/{made.teams}").text
    chain = re.findall(r'<a href="/decisions/(\d+)">', inside.split('class="chain"')[1])
    assert [int(n) for n in chain] == [made.sharepoint, made.private_decision], "the whole chain, in order"
    assert client.get("/decisions/999999").status_code == 404
    assert client.get("/decisions/not-a-number").status_code == 404


def test_decision_exports_hold_only_what_the_reader_may_see(portal: Portal, made: CoCreation) -> None:
    client = portal(MEMBER)
    exported = client.get("/decisions/export.json")
    assert exported.headers["content-type"].startswith("application/json")
    records = {r["id"]: r for r in json.loads(exported.text)}
    assert {made.agreed, made.teams, made.sharepoint} <= set(records) and made.private_decision not in records
    assert records[made.teams]["superseded_by"] == made.sharepoint
    assert records[made.sharepoint]["supersedes"] == made.teams
    assert records[made.sharepoint]["superseded_by"] is None, "the private successor is not named"
    assert records[made.sharepoint]["people"] == ["Anna Becker", "Priya Nair"]
    md = client.get(f"/decisions/{made.sharepoint}/export.md")
    assert md.headers["content-type"].startswith("text/markdown")
    assert "# Session files move to SharePoint libraries" in md.text and "superseded_by: null" in md.text
    assert client.get(f"/decisions/{made.private_decision}/export.md").status_code == 404
    inside = json.loads(portal(INSIDER).get("/decisions/export.json").text)
    assert made.private_decision in [r["id"] for r in inside]


def _ideas(html: str) -> list[tuple[int, int]]:
    """(idea, votes) as the ideas page lists them, in its order."""
    listed = re.findall(r'<li id="idea-(\d+)">.*?· (one|\d+) votes?', html, flags=re.S)
    return [(int(idea), 1 if votes == "one" else int(votes)) for idea, votes in listed]


def test_open_ideas_most_supported_first_without_who_voted(portal: Portal, made: CoCreation) -> None:
    for reader in (MEMBER, FACILITATOR):
        page = portal(reader).get("/ideas")
        assert page.status_code == 200
        listed = _ideas(page.text)
        assert [votes for _, votes in listed] == sorted((votes for _, votes in listed), reverse=True)
        ours = [idea for idea, _ in listed if idea in (made.lunch, made.wiki, made.declined, made.private_idea)]
        assert ours == [made.lunch, made.wiki], "open ideas only, the better supported first, no private one"
        assert (made.lunch, 3) in listed and (made.wiki, 1) in listed
        assert "3 votes" in page.text and "one vote" in page.text
        assert not any(name in page.text for name in VOTER_NAMES), "the card shows how many, never who"
        assert "Priya Nair" in page.text, "who proposed it, as on the card"
    inside = portal(INSIDER).get("/ideas").text
    assert _ideas(inside)[0] == (made.private_idea, 6) and SECRET in inside


def test_the_status_filter_shows_declined_ideas_with_their_reason(portal: Portal, made: CoCreation) -> None:
    client = portal(MEMBER)
    declined = client.get("/ideas?status=declined").text
    assert [idea for idea, _ in _ideas(declined)] == [made.declined]
    assert "declined: Nobody reads paper any more" in declined
    every = {idea for idea, _ in _ideas(client.get("/ideas?status=all").text)}
    assert {made.lunch, made.wiki, made.declined} <= every and made.private_idea not in every
    assert "No ideas here" in client.get("/ideas?status=done").text
    odd = client.get("/ideas?status=<script>")
    assert odd.status_code == 200 and "<script>" not in odd.text, "an unknown filter shows the open ideas"
    assert _ideas(odd.text) == _ideas(client.get("/ideas").text)


def test_initiatives_show_their_goal_and_progress_over_what_the_reader_may_see(
    portal: Portal, made: CoCreation
) -> None:
    for reader in (MEMBER, FACILITATOR):
        page = portal(reader).get("/initiatives")
        assert page.status_code == 200
        assert INITIATIVE in page.text and GOAL in page.text
        assert "1 of 3 taken" in page.text, "the private decision is not counted"
        assert "1 proposed and 1 declined" in page.text
        assert "1 done, 1 open, 1 overdue" in page.text
        for linked in (made.agreed, made.teams, made.sharepoint):
            assert f'<a href="/decisions/{linked}">' in page.text
        assert f"#idea-{made.lunch}" in page.text and f"#idea-{made.declined}" in page.text
        assert SECRET not in page.text and f"#idea-{made.private_idea}" not in page.text
    inside = portal(INSIDER).get("/initiatives").text
    assert "1 of 4 taken" in inside and "2 proposed and 1 declined" in inside
    assert PRIVATE_INITIATIVE in inside


def test_the_pages_speak_german(portal: Portal, made: CoCreation) -> None:
    client = portal(MEMBER)
    german = {"accept-language": "de"}
    decisions = client.get("/decisions", headers=german).text
    assert 'lang="de"' in decisions and "Entscheidungen durchsuchen" in decisions and "gilt" in decisions
    assert "Ersetzt durch" in client.get(f"/decisions/{made.teams}", headers=german).text
    ideas = client.get("/ideas", headers=german).text
    assert "offene Ideen" in ideas and "3 Stimmen" in ideas
    initiatives = client.get("/initiatives", headers=german).text
    assert "Initiativen" in initiatives and "1 erledigt" in initiatives
