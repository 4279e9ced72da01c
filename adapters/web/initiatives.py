"""The portal's initiatives: each one's goal and progress, with the decisions and ideas it groups linked.

Progress is counted over the grouped items the reader may see (as `/steward initiative NAME` counts them, but
without a private channel's items for someone outside it), so a page never tells of what it may not show. An
initiative started in a private channel is only there for members who may see that channel.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from adapters.web.access import Viewer
from adapters.web.pages import render, signed_in, texts_for
from bot.core.cocreation import AGREED, DONE, CommitmentRecord, DecisionRecord
from bot.core.ideas import IDEA_STATUSES, IdeaRecord, InitiativeProgress, InitiativeRecord
from storage.commitments import CommitmentStore
from storage.decisions import DecisionStore
from storage.ideas import IdeaStore
from storage.initiatives import InitiativeStore


@dataclass(frozen=True, slots=True)
class InitiativeShown:
    """An initiative as the reader may see it: its progress and the decisions and ideas it groups."""

    progress: InitiativeProgress
    decisions: tuple[DecisionRecord, ...]
    ideas: tuple[IdeaRecord, ...]


def progress(
    initiative: InitiativeRecord, decisions: Sequence[DecisionRecord], ideas: Sequence[IdeaRecord],
    commitments: Sequence[CommitmentRecord], now: datetime,
) -> InitiativeProgress:
    """The counts `storage.initiatives.progress_of` makes, over the given (visible) items."""
    by_status = Counter(idea.status for idea in ideas)
    still_open = [c for c in commitments if c.status != DONE]
    return InitiativeProgress(
        initiative=initiative,
        decisions=len(decisions),
        decisions_taken=sum(1 for d in decisions if d.status == AGREED),
        ideas=tuple((status, by_status[status]) for status in IDEA_STATUSES if by_status[status]),
        commitments_done=len(commitments) - len(still_open),
        commitments_open=len(still_open),
        commitments_overdue=sum(1 for c in still_open if c.due_at < now),
    )


async def initiatives_page(request: Request) -> Response:
    viewer = await signed_in(request)
    store = InitiativeStore(request.app.state.db)
    now = datetime.now(UTC)
    shown = [
        await _shown(request, viewer, store, initiative, now)
        for initiative in await store.all(viewer.community.id) if initiative.channel_id in viewer.visible
    ]
    texts = texts_for(request, viewer)

    def idea_counts(counted: InitiativeProgress) -> list[str]:
        return [texts.gettext("initiative.ideas_in_status", count=count, status=texts.gettext(f"idea.short_{status}"))
                for status, count in counted.ideas]

    return render(request, "initiatives.html.j2", viewer, initiatives=shown, idea_counts=idea_counts)


async def _shown(
    request: Request, viewer: Viewer, store: InitiativeStore, initiative: InitiativeRecord, now: datetime
) -> InitiativeShown:
    db, ws = request.app.state.db, viewer.community.id
    decisions: list[DecisionRecord] = []
    ideas: list[IdeaRecord] = []
    commitments: list[CommitmentRecord] = []
    for kind, item_id in await store.items(initiative):
        found: DecisionRecord | IdeaRecord | CommitmentRecord | None
        if kind == "decision":
            found = await DecisionStore(db).get(ws, item_id)
        elif kind == "idea":
            found = await IdeaStore(db).get(ws, item_id)
        else:
            found = await CommitmentStore(db).get(ws, item_id)
        if found is None or found.channel_id not in viewer.visible:
            continue
        if isinstance(found, DecisionRecord):
            decisions.append(found)
        elif isinstance(found, IdeaRecord):
            ideas.append(found)
        else:
            commitments.append(found)
    return InitiativeShown(progress(initiative, decisions, ideas, commitments, now), tuple(decisions), tuple(ideas))
