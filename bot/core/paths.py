"""Learning paths and lesson reviews, as every layer sees them: a path of lessons, a member following it, and the
subjects of the nudge rows that are the durable "sent" facts. The rules decide, the shell reads, storage keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PATH_NUDGE = "path"  # the nudge kind of a lesson sent on a path; its row says the round was delivered
REVIEW_NUDGE = "lesson_review"  # the nudge kind of a stale lesson offered to its author for review

ACTIVE, STOPPED, FINISHED = "active", "stopped", "finished"


def path_subject(path_id: int, round_: int) -> str:
    """The nudge row's subject for one delivery on a path (a member's rounds count up: done, later, next)."""
    return f"path:{path_id}:{round_}"


def review_subject(lesson_id: int, checked_at: datetime) -> str:
    """The nudge row's subject for a review offer: one per lesson and staleness (a verification starts a new one)."""
    return f"lesson-review:{lesson_id}:{int(checked_at.timestamp())}"


def contradiction_subject(lesson_id: int, decision_id: int) -> str:
    """The nudge row's subject for a review offered because a newer decision bears on a lesson: one per lesson and
    decision."""
    return f"lesson-decision:{lesson_id}:{decision_id}"


@dataclass(frozen=True, slots=True)
class PathStep:
    """One lesson on a path, in order; `private` lessons are shown only where their channel may be seen."""

    lesson_id: int
    title: str
    summary: str
    link: str
    channel_id: str
    private: bool = False
    steps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PathRecord:
    """A learning path: a name members type, what it is for, and its lessons in order."""

    id: int
    workspace_id: str
    name: str
    goal: str
    created_by: str | None
    created_at: datetime
    steps: tuple[PathStep, ...] = ()


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A member following a path: their pace in working days, the current round and when it is due."""

    workspace_id: str
    path_id: int
    member_id: str
    pace_days: int
    status: str
    round: int
    due_at: datetime
    started_at: datetime
    delivered_round: int = -1  # the round sent at the member's own request (`path next`), not as a nudge
    finished_at: datetime | None = None
    done: frozenset[int] = frozenset()  # lesson ids the member marked done

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True, slots=True)
class StaleLesson:
    """A lesson nobody verified for a long time, with the moment its staleness counts from."""

    lesson_id: int
    title: str
    link: str
    contributors: tuple[str, ...]
    checked_at: datetime  # its last verification, else when it was captured


@dataclass(frozen=True, slots=True)
class LessonText:
    """A lesson as a newer decision is weighed against it: its words, its authors and its last check."""

    lesson_id: int
    title: str
    body: str  # the problem, what worked, the steps, tips and tags
    link: str
    contributors: tuple[str, ...]
    checked_at: datetime  # its last verification, else when it was captured
    private: bool = False
