"""What a digest is made of: the period, the figures storage computes, and the ports that deliver them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.core.ideas import IdeasDigest, InitiativeProgress

WEEK = timedelta(days=7)
QUIET_MESSAGES = 5  # fewer messages and no question: a quiet week gets the short digest
LESSONS_LISTED = 5  # new lessons named in a digest; the count covers all of them
DECISIONS_LISTED = 5  # decisions named in a digest ("decided this week, and why")


# --- what the port delivers----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of time, [start, end)."""

    start: datetime
    end: datetime

    def previous(self) -> Period:
        return Period(self.start - (self.end - self.start), self.start)


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    id: str
    channel: str
    asker: str
    asked_at: datetime
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class Helper:
    member: str
    answers: int


@dataclass(frozen=True, slots=True)
class NewLesson:
    title: str
    link: str = ""


@dataclass(frozen=True, slots=True)
class Cohort:
    """Newcomer conversion (CHAOSS): members who joined in one month, and how many of them have posted and have
    answered someone's question since joining (as of the period's end)."""

    month: Period
    first_day: date  # the month's first day in the community's time zone (how it is named)
    joined: int = 0
    posted: int = 0
    answered: int = 0


@dataclass(frozen=True, slots=True)
class DecidedItem:
    """A decision that came to stand in the period: its name, why, and where it was taken."""

    id: int
    title: str
    why: str = ""
    link: str = ""


@dataclass(frozen=True, slots=True)
class Figures:
    """Community health for one scope and period (see storage.metrics for the definitions)."""

    period: Period
    messages: int = 0
    active_members: int = 0
    new_members: int = 0
    questions_asked: int = 0
    questions_answered: int = 0
    questions_resolved: int = 0
    median_first_response_s: float | None = None
    p90_first_response_s: float | None = None
    first_message_at: datetime | None = None
    oldest_unanswered: tuple[OpenQuestion, ...] = ()
    helpers: tuple[Helper, ...] = ()
    first_responses: int = 0
    answerer_concentration: int | None = None
    new_contributors: tuple[str, ...] = ()
    inactive_contributors: tuple[str, ...] = ()
    trending: tuple[str, ...] = ()
    nudges_answered: int = 0
    new_lessons: int = 0
    lessons: tuple[NewLesson, ...] = ()  # the newest public ones, at most LESSONS_LISTED
    decisions: tuple[DecidedItem, ...] = ()  # agreed in the period, in public channels, at most DECISIONS_LISTED
    ideas: IdeasDigest = field(default_factory=IdeasDigest)  # the period's new ideas, the most supported open ones
    initiatives: tuple[InitiativeProgress, ...] = ()  # the active ones started in these channels, as of the end
    answerers: int = 0  # people who answered questions in the period
    first_time_helpers: tuple[str, ...] = ()  # ... of whom these answered for the first time
    newcomers: tuple[Cohort, ...] = ()  # conversion per month the period touches, oldest first

    @property
    def response_rate(self) -> float | None:
        return self.questions_answered / self.questions_asked if self.questions_asked else None

    @property
    def quiet(self) -> bool:
        return self.messages < QUIET_MESSAGES and self.questions_asked == 0


class DigestSource(Protocol):
    """What the digest needs from storage; the app wires it to the database."""

    async def claim(self, workspace: str, channel: str, period_key: str, at: datetime) -> bool:
        """True if this caller now owns the digest of that channel and period (nobody else posts it)."""
        ...

    async def skip(self, workspace: str, channel: str, period_key: str) -> None:
        """Record that a claimed period gets no digest (no history yet, or one posted on request replaced it)."""
        ...

    async def figures(self, workspace: str, channel: str | None, period: Period, *, detail: bool = True) -> Figures: ...


class Narrator(Protocol):
    """Writes a digest's opening from aggregate figures only; None when it cannot (the template is used)."""

    async def opening(self, figures_summary: str, language: str) -> str | None: ...


def digest_key(channel: str, period_key: str) -> str:
    """The idempotency key of a scheduled digest post (also how storage finds its outbox row)."""
    return f"digest:{channel}:{period_key}"
