"""Ideas and initiatives as every layer sees them: a member's proposal with its supporters and status, and a
named plan that groups decisions, ideas and commitments. The rules decide, the shell asks the store, storage
keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# An idea's statuses, in the order it moves; "declined" may end it from any open status, and needs a reason.
PROPOSED, ACCEPTED, IN_PROGRESS, DONE, DECLINED = "proposed", "accepted", "in_progress", "done", "declined"
IDEA_STATUSES = (PROPOSED, ACCEPTED, IN_PROGRESS, DONE, DECLINED)
OPEN_IDEA = frozenset({PROPOSED, ACCEPTED, IN_PROGRESS})  # members may still vote; it can still move

# Initiative statuses and the kinds of item an initiative groups.
ACTIVE, CLOSED = "active", "closed"
ITEM_KINDS = ("decision", "idea", "commitment")


def next_statuses(status: str) -> tuple[str, ...]:
    """Where an idea may move from `status`: any later step, or declined while it is open."""
    if status not in OPEN_IDEA:
        return ()
    later = IDEA_STATUSES[IDEA_STATUSES.index(status) + 1: IDEA_STATUSES.index(DONE) + 1]
    return (*later, DECLINED)


@dataclass(frozen=True, slots=True)
class IdeaRecord:
    """A stored idea as rules and reports read it. `author_id` is None once its author asked to be forgotten."""

    id: int
    workspace_id: str
    channel_id: str
    text: str
    author_id: str | None
    created_at: datetime
    status: str
    card_key: str
    revision: int  # counts every change the card shows; its updates are keyed by it
    language: str = "en"
    private: bool = False
    reason: str = ""  # why it was declined
    status_by: str | None = None
    status_at: datetime | None = None
    comments: int = 0
    voters: tuple[str, ...] = field(default=())

    @property
    def votes(self) -> int:
        return len(self.voters)

    @property
    def open(self) -> bool:
        return self.status in OPEN_IDEA


@dataclass(frozen=True, slots=True)
class InitiativeRecord:
    """A named initiative: what it is for, where it was started, and whether it is still active."""

    id: int
    workspace_id: str
    name: str
    goal: str
    channel_id: str
    created_by: str | None
    created_at: datetime
    status: str = ACTIVE


@dataclass(frozen=True, slots=True)
class InitiativeProgress:
    """How far an initiative is: its decisions, its ideas by status and its commitments, counted now."""

    initiative: InitiativeRecord
    decisions: int = 0
    decisions_taken: int = 0  # agreed by consent
    ideas: tuple[tuple[str, int], ...] = ()  # (status, count) in the order of IDEA_STATUSES, only those present
    commitments_done: int = 0
    commitments_open: int = 0
    commitments_overdue: int = 0  # open and past their due time (counted among the open ones too)

    @property
    def empty(self) -> bool:
        return not (self.decisions or self.ideas or self.commitments_done or self.commitments_open)


@dataclass(frozen=True, slots=True)
class IdeaItem:
    """An idea as a digest names it."""

    id: int
    text: str
    votes: int = 0
    status: str = PROPOSED


@dataclass(frozen=True, slots=True)
class IdeasDigest:
    """The digest's ideas: the week's new ones and the open ones with the most support."""

    new: tuple[IdeaItem, ...] = ()
    new_count: int = 0
    supported: tuple[IdeaItem, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.new_count and not self.supported
