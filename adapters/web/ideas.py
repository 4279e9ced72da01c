"""The portal's ideas: the open ideas most supported first (or those of one status), with their support and why an
idea was declined.

An idea shows what its chat card shows: its words, who proposed it, its status (and decline reason), its number of
votes and comments. Who voted is on no card, so it is on no page. An idea from a private channel shows only to
members who may see that channel.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from adapters.web.pages import render, signed_in
from bot.core.ideas import IDEA_STATUSES, OPEN_IDEA
from storage import boards
from storage.ideas import IdeaStore

OPEN, ALL = "open", "all"
FILTERS = (OPEN, *IDEA_STATUSES, ALL)  # the status filter's choices, the default first


async def ideas_page(request: Request) -> Response:
    viewer = await signed_in(request)
    chosen = request.query_params.get("status", OPEN)
    status = chosen if chosen in FILTERS else OPEN
    wanted = OPEN_IDEA if status == OPEN else frozenset(IDEA_STATUSES) if status == ALL else frozenset({status})
    ideas = [
        idea for idea in await IdeaStore(request.app.state.db).all(viewer.community.id)
        if idea.channel_id in viewer.visible and idea.status in wanted
    ]
    ideas.sort(key=lambda i: (-i.votes, i.created_at, i.id))
    async with request.app.state.db.connect() as conn:
        names = await boards.member_names(conn, viewer.community.id)
    return render(request, "ideas.html.j2", viewer, ideas=ideas, chosen=status, filters=FILTERS, member_names=names)
