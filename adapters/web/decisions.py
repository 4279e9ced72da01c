"""The portal's decisions log: every decision the reader may see, newest first or found by words, a page for each,
and the same JSON and Markdown files `steward decisions export` writes.

Search is the chat's (`/steward decisions WORDS`: `DecisionStore.search`), limited to the reader's visible channels.
A decision from a private channel shows only to members who may see that channel; for anyone else it is not there,
not even as a link in another decision's supersede chain.
"""

from __future__ import annotations

import json
from dataclasses import replace

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from adapters.web.access import Viewer
from adapters.web.pages import render, signed_in, texts_for
from bot.app.decision_files import markdown, record
from bot.app.lesson_files import slug
from bot.core.cocreation import DecisionRecord
from storage import boards
from storage.decisions import DecisionStore

LISTED = 50  # decisions on the page, newest first or best matches first
QUERY_CHARS = 200
LINKS = ("supersedes", "superseded_by")  # how decisions name the ones they replace and that replace them
CHAIN_LIMIT = 50  # a supersede chain longer than this is cut (it is a list of ids, and ids could loop)


def may_see(decision: DecisionRecord | None, viewer: Viewer) -> bool:
    return decision is not None and decision.channel_id in viewer.visible


async def decisions_page(request: Request) -> Response:
    viewer = await signed_in(request)
    query = " ".join(request.query_params.get("q", "").split())[:QUERY_CHARS]
    store = DecisionStore(request.app.state.db)
    if query:
        found = await store.search(viewer.community.id, query, LISTED, channels=viewer.visible)
    else:
        found = await store.recent(viewer.community.id, LISTED, channels=viewer.visible)
    async with request.app.state.db.connect() as conn:
        names = await boards.member_names(conn, viewer.community.id)
    return render(request, "decisions.html.j2", viewer, decisions=found, query=query,
                  people_of=lambda d: [names.get(p, p) for p in d.participants])


async def decision_page(request: Request) -> Response:
    viewer = await signed_in(request)
    store = DecisionStore(request.app.state.db)
    decision = await _decision_for(request, viewer, store)
    async with request.app.state.db.connect() as conn:
        names = await boards.member_names(conn, viewer.community.id)
    return render(
        request, "decision.html.j2", viewer, decision=decision,
        people=[names.get(p, p) for p in decision.participants],
        earlier=await _chain(store, viewer, decision, "supersedes"),
        later=await _chain(store, viewer, decision, "superseded_by"),
        objected_by=names.get(decision.objected_by, decision.objected_by) if decision.objected_by else "",
    )


async def decisions_json(request: Request) -> Response:
    """The decisions the reader may see, as the records `steward decisions export --format json` writes."""
    viewer = await signed_in(request)
    store = DecisionStore(request.app.state.db)
    decisions = [d for d in await store.all(viewer.community.id) if may_see(d, viewer)]
    async with request.app.state.db.connect() as conn:
        names = await boards.member_names(conn, viewer.community.id)
    shown = {d.id for d in decisions}
    records = [
        record(_without_links(d, {link for link in LINKS if getattr(d, link) not in (None, *shown)}), names)
        for d in decisions
    ]
    body = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    return Response(body, media_type="application/json",
                    headers={"content-disposition": 'attachment; filename="decisions.json"'})


async def decision_markdown(request: Request) -> Response:
    """One decision as the Markdown file `steward decisions export` writes."""
    viewer = await signed_in(request)
    store = DecisionStore(request.app.state.db)
    decision = await _decision_for(request, viewer, store)
    async with request.app.state.db.connect() as conn:
        names = await boards.member_names(conn, viewer.community.id)
    hidden = await _hidden_links(store, viewer, decision)
    text = markdown(_without_links(decision, hidden), names, texts_for(request, viewer).language)
    name = f"{decision.id:05d}-{slug(decision.title)}.md"
    return PlainTextResponse(text, media_type="text/markdown",
                             headers={"content-disposition": f'attachment; filename="{name}"'})


async def _decision_for(request: Request, viewer: Viewer, store: DecisionStore) -> DecisionRecord:
    """The decision of the path, or 404: one the reader may not see is indistinguishable from one not there."""
    number = str(request.path_params.get("decision_id", ""))
    decision_id = int(number) if number.isdigit() and len(number) <= 9 else None
    decision = None if decision_id is None else await store.get(viewer.community.id, decision_id)
    if decision is None or not may_see(decision, viewer):
        raise HTTPException(404)
    return decision


async def _chain(store: DecisionStore, viewer: Viewer, decision: DecisionRecord, link: str) -> list[DecisionRecord]:
    """The decisions this one replaced (`supersedes`, nearest first) or that replaced it (`superseded_by`), as far
    as the reader may follow: the chain stops at a decision they may not see."""
    chain: list[DecisionRecord] = []
    seen = {decision.id}
    step: int | None = getattr(decision, link)
    while step is not None and step not in seen and len(chain) < CHAIN_LIMIT:
        found = await store.get(viewer.community.id, step)
        if found is None or not may_see(found, viewer):
            break
        chain.append(found)
        seen.add(step)
        step = getattr(found, link)
    return chain


async def _hidden_links(store: DecisionStore, viewer: Viewer, decision: DecisionRecord) -> set[str]:
    """Which of the decision's links name a decision the reader may not see."""
    hidden = set()
    for link in LINKS:
        other = getattr(decision, link)
        if other is not None and not may_see(await store.get(viewer.community.id, other), viewer):
            hidden.add(link)
    return hidden


def _without_links(decision: DecisionRecord, hidden: set[str]) -> DecisionRecord:
    """The decision with the links the reader may not follow taken out (as if that decision were not there)."""
    return replace(
        decision,
        supersedes=None if "supersedes" in hidden else decision.supersedes,
        superseded_by=None if "superseded_by" in hidden else decision.superseded_by,
    )
