"""Recognition without ranking: a thank-you that credits a member, and what a member helped with.

Rules decide credits, storage keeps them and reads a member's contributions back; both sides share these shapes.
Nothing here compares members: there are no per-person counts beside anyone else's, only a member's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

CREDIT_HOWS = ("thanks", "reaction", "accepted", "command")
REASON_CHARS = 300  # a `/steward thanks` reason is kept this long at most


@dataclass(frozen=True, slots=True)
class Credit:
    """A thank-you that credits `member`: a thanks in a thread, a 🙏 or the asker's ✅, or `/steward thanks`.

    `key` is what makes it itself (who thanked for what): the same thank-you decided twice, or said twice in
    different ways (a "thanks" and a ✅ on the same answer), is one credit.
    """

    key: str
    member: str
    by: str | None
    how: str  # one of CREDIT_HOWS
    at: datetime
    channel: str | None = None
    question: str | None = None
    message: str | None = None  # the credited message, when one was thanked for
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AnsweredQuestion:
    """A question the member answered first."""

    id: str
    channel: str
    excerpt: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReceivedCredit:
    by: str | None  # None: the member who thanked asked to be forgotten
    how: str
    reason: str
    at: datetime
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class LessonRef:
    id: int
    title: str
    link: str = ""


@dataclass(frozen=True, slots=True)
class Contributions:
    """What one member helped with: their own figures only, for `/steward me` and Slack's Home tab."""

    answered_first: int = 0
    answered: tuple[AnsweredQuestion, ...] = ()  # the latest few
    credits: int = 0
    recent_credits: tuple[ReceivedCredit, ...] = ()  # the latest few
    lessons: int = 0
    lesson_refs: tuple[LessonRef, ...] = ()  # the latest few

    @property
    def empty(self) -> bool:
        return not (self.answered_first or self.credits or self.lessons)


class CreditBook(Protocol):
    """Where credits are kept; the app wires it to the database."""

    async def record(self, workspace: str, credits: tuple[Credit, ...]) -> int:
        """Store the credits not stored yet (by key); how many were new."""
        ...

    async def contributions(self, workspace: str, member: str) -> Contributions: ...
