"""What a lesson is made of, as every layer sees it: the thread's messages, the draft distilled from them, and a
search hit. The rules decide, the shell distils, storage keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """One message of a thread as distillation sees it; `text` is None once retention has purged it."""

    id: str
    author: str
    text: str | None
    position: int  # 0 is the thread's root
    reactions: int = 0
    at: datetime | None = None
    bot: bool = False


@dataclass(frozen=True, slots=True)
class LessonDraft:
    """What a lesson says, before it is stored: `summary` is the asker's problem, `solution` what worked, `steps`
    what to do in order and `tips` advice beside the path, each sentence in one place only."""

    title: str
    summary: str
    solution: str = ""
    steps: tuple[str, ...] = ()
    tips: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    contributors: tuple[str, ...] = ()
    links: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class LessonHit:
    """A lesson found for a text (a question, what a member is stuck on)."""

    id: str
    title: str
    link: str = ""
    score: float = 0.0
