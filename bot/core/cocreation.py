"""What the community decides and promises, as every layer sees it: a decision distilled from a thread, and a
member's commitment with its due time. The rules decide, the shell distils and asks, storage keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Decision statuses. A proposal stands when nobody objects within its consent window; an objection opens it
# again for discussion, and recording it again in its thread proposes it anew ("reopened").
PROPOSED, AGREED, OBJECTED, REOPENED, SUPERSEDED = "proposed", "agreed", "objected", "reopened", "superseded"
OPEN_FOR_CONSENT = frozenset({PROPOSED, REOPENED})
LIVE_DECISION = frozenset({PROPOSED, AGREED, OBJECTED, REOPENED})  # a thread has at most one of these

# Commitment statuses: open until the owner says done, asks for help, or Steward gives up on asking.
OPEN, DONE, HELP = "open", "done", "help"

COMMITMENT_NUDGE = "commitment"  # the nudge kind of a follow-up; its row is the durable "asked" fact


def commitment_subject(commitment_id: int, round_: int) -> str:
    """The nudge row's subject for a follow-up: one per commitment and due date (a postponed one is asked again)."""
    return f"commitment:{commitment_id}:{round_}"


@dataclass(frozen=True, slots=True)
class DecisionDraft:
    """What a thread decided, before it is stored. `authors` says who wrote which part (member ids; None for a
    part written by a model or typed as a title), so forgetting a member removes their words."""

    title: str
    question: str = ""
    options: tuple[str, ...] = ()
    outcome: str = ""
    reasons: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()
    title_author: str | None = None
    question_author: str | None = None
    outcome_author: str | None = None
    option_authors: tuple[str | None, ...] = ()
    reason_authors: tuple[str | None, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A stored decision as rules and reports read it."""

    id: int
    workspace_id: str
    channel_id: str
    thread_id: str
    title: str
    question: str
    options: tuple[str, ...]
    outcome: str
    reasons: tuple[str, ...]
    participants: tuple[str, ...]
    permalink: str
    language: str
    private: bool
    recorded_by: str | None
    recorded_at: datetime
    status: str
    round: int
    consent_until: datetime
    card_key: str
    agreed_at: datetime | None = None
    objected_at: datetime | None = None
    objected_by: str | None = None
    supersedes: int | None = None
    superseded_by: int | None = None
    agreements: tuple[str, ...] = field(default=())  # who agreed in the current round

    @property
    def open_for_consent(self) -> bool:
        return self.status in OPEN_FOR_CONSENT


@dataclass(frozen=True, slots=True)
class CommitmentRecord:
    """A stored commitment: what the owner promised, by when, and where they said it."""

    id: int
    workspace_id: str
    owner_id: str
    channel_id: str
    thread_id: str | None  # the thread it was made in (its root), if any
    message_id: str | None  # the message that made it; None for `/steward commit`
    text: str
    language: str
    recorded_at: datetime
    due_at: datetime
    ask_at: datetime
    round: int = 0
    postponed: bool = False
    status: str = OPEN
    done_at: datetime | None = None

    @property
    def anchor(self) -> str | None:
        """The message a question about it can hang on: the thread's root, else the message itself."""
        return self.thread_id or self.message_id
