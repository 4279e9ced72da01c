"""The portal's skills page: who can help with a topic, for members who chose to be listed.

The same query as `/steward skills TOPIC` in chat (storage.skills.holders): registered topics and answers in
public channels only, whoever reads the page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from adapters.web.pages import render, signed_in
from storage.skills import TOPIC_CHARS, holders

LISTED = 20


async def skills_page(request: Request) -> Response:
    viewer = await signed_in(request)
    topic = " ".join(request.query_params.get("topic", "").split())[:TOPIC_CHARS]
    found = await holders(request.app.state.db, viewer.community.id, topic, limit=LISTED) if topic else []
    return render(request, "skills.html.j2", viewer, topic=topic, found=found)
