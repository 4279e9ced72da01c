"""The portal's learning paths: every path with its lessons in order and, for the signed-in member, how far they got.

A lesson from a private channel shows only to members who may see that channel, exactly as on the lessons pages;
for anyone else it is not on the path at all.
"""

from __future__ import annotations

import dataclasses

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from adapters.web.access import Viewer
from adapters.web.pages import render, signed_in
from bot.core.paths import PathRecord
from storage.paths import PathStore


def _visible(path: PathRecord, viewer: Viewer) -> PathRecord:
    return dataclasses.replace(path, steps=tuple(s for s in path.steps if s.channel_id in viewer.visible))


async def paths_page(request: Request) -> Response:
    viewer = await signed_in(request)
    store = PathStore(request.app.state.db)
    found = [_visible(p, viewer) for p in await store.all(viewer.community.id)]
    following = await store.enrolments_of(viewer.community.id, viewer.member)
    return render(request, "paths.html.j2", viewer, paths=found, following=following)


async def path_page(request: Request) -> Response:
    viewer = await signed_in(request)
    store = PathStore(request.app.state.db)
    name = str(request.path_params.get("name", ""))[:100].lower()
    stored = await store.get(viewer.community.id, name)
    if stored is None:
        raise HTTPException(404)
    path = _visible(stored, viewer)
    enrolment = await store.enrolment(viewer.community.id, path.id, viewer.member)
    done = sum(1 for s in path.steps if enrolment is not None and s.lesson_id in enrolment.done)
    return render(request, "path.html.j2", viewer, item=path, enrolment=enrolment, done=done)
