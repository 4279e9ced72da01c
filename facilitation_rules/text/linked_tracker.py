"""Conversation tracking with the learned reply-link model (`STEWARD_REPLY_LINKS=model`; rules by default).

Threads and explicit replies say what a line answers. In flat channels the learned model (`reply_links`)
picks, for every line, the earlier line it responds to or none, instead of the hand-written rules of
`answers.ConversationTracker`; it is not the default until it beats them on logs it never saw (see
`models/README.md`). A question's conversation is everything that links to it, directly or through other
lines; a line by someone else in that conversation responds to the question. Memory is bounded: lines and
questions expire, and per-channel history is capped, so the tracker can run for months in one process.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any

from bot.core.text.tokens import terms
from facilitation_rules.text.answers import ChatLine, ConversationTracker, Response, forget_silent
from facilitation_rules.text.cues import is_greeting
from facilitation_rules.text.reply_links import (
    CANDIDATES,
    Link,
    Linker,
    Said,
    Surroundings,
    features,
    reply_link_model,
)

__all__ = ["LinkedConversationTracker"]


_LINK_OR_CODE = re.compile(r"https?://|www\.|`")
_PAIR_GAP = timedelta(minutes=20)  # how long two people who spoke to each other count as talking
_OWN_QUESTION_GAP = timedelta(minutes=10)  # an asker's remark this soon after their question still concerns it
_REPLYING_CHANNEL = 0.5  # share of explicit replies from which a channel is taken to always use them
_THREADED_CHANNEL = 0.3  # share of lines posted in threads from which a flat question starts a new topic


@lru_cache(maxsize=4096)
def _look(text: str) -> tuple[frozenset[str], bool, bool]:
    """What the reply-link features read from a line's text: topic terms, a link or code, a bare greeting.

    Cached: chat repeats short lines.
    """
    return frozenset(terms(text)), bool(_LINK_OR_CODE.search(text)), is_greeting(text)


@dataclass(slots=True)
class _Question:
    """An open question and the people who have joined its conversation."""

    id: str
    asker: str
    at: datetime
    last_at: datetime
    conv: str  # the conversation the question asks in (its own id, unless it opens with a greeting)
    root: str | None = None  # an earlier open question of the same asker whose conversation this one continues


@dataclass(slots=True)
class _Space:
    """A flat channel or one thread: recent lines, open questions and each speaker's last line."""

    lines: deque[Said]
    questions: dict[str, _Question] = field(default_factory=dict)
    asked: dict[str, str] = field(default_factory=dict)  # conversation -> the open question it asks
    askers: dict[str, str] = field(default_factory=dict)  # conversation -> who asked that question
    last_by_user: dict[str, Said] = field(default_factory=dict)
    last_to_user: dict[str, Said] = field(default_factory=dict)  # the latest line addressed to each one
    talks: dict[tuple[str, str], datetime] = field(default_factory=dict)  # who spoke with whom, and when
    replying: float = 0.0  # running share of lines posted as explicit replies
    pace: float = 60.0  # running mean of seconds between lines: busy rooms answer fast, quiet channels slowly
    count: int = 0  # lines seen: the distance between two lines
    last_at: datetime | None = None


class LinkedConversationTracker(ConversationTracker):
    """The conversation tracker, with flat-channel links chosen by the reply-link model."""

    def __init__(self, *, linker: Linker | None = None, **limits: Any) -> None:
        super().__init__(**limits)
        self._linker = linker
        self._flat: dict[str, _Space] = {}
        self._said: dict[str, tuple[str, Said]] = {}  # line id -> (space key, line)
        self._asked_where: dict[str, str] = {}  # question id -> space key

    def __getstate__(self) -> dict[str, object]:
        """Checkpoints keep what the tracker learned, not the model it links with (read again at start)."""
        state = dict(self.__dict__)
        state["_linker"] = None
        return state

    def _choose(self, line: Said, own: list[str], candidates: list[tuple[Said, list[str]]]) -> Link:
        return (self._linker or reply_link_model()).choose(line, own, candidates)

    # --------------------------------------------------------------- observe

    def observe(self, line: ChatLine, *, is_question: bool) -> Response | None:
        """Record the line; if it is a question, open it. Return the question this line responds to, or None.

        Lines by the asker are recorded (they shape the conversation) and never respond themselves.
        """
        me, key = self._meet(line)
        space = self._flat.get(key)
        if space is None:
            space = self._flat[key] = _Space(lines=deque())
        self._expire_space(space, line.at)
        if space.last_at is not None:
            gap = min((line.at - space.last_at).total_seconds(), 4 * 3600.0)
            space.pace = 0.95 * space.pace + 0.05 * max(gap, 0.0)
        space.count += 1
        if line.bot:
            said = Said(line.id, me, line.at, frozenset(), line.id, space.count, bot=True)
            self._keep(key, space, said)
            return None
        strong, weak = self._addressees(line, space)
        self._placed = (me, strong | weak)
        space.replying = 0.97 * space.replying + (0.03 if line.reply_to else 0.0)
        words, link, greeting = _look(line.text)
        said = Said(line.id, me, line.at, strong, line.id, space.count, words, is_question, link, named=weak)
        response = self._place(line, said, space, greeting)
        for other in strong:
            self._talked(space, me, other, line.at)
        for question in filter(None, map(self._open_one, said.lineage)):
            question.last_at = line.at
        if is_question:
            self._ask(said, key, space, self._asked_in(space, said.conv))
        self._keep(key, space, said)
        self._observed += 1
        if self._observed % 1000 == 0:
            self._sweep_spaces(line.at)
        return response

    def repeats(self, question_id: str) -> str | None:
        """The earlier open question of the same asker whose conversation this question continues, if any.

        Responses go to that earlier question, so callers should treat both as one.
        """
        question = self._open_one(question_id)
        return question.root if question is not None else None

    def _open_one(self, question_id: str) -> _Question | None:
        """An open question by id, in whichever channel or thread it was asked."""
        key = self._asked_where.get(question_id)
        space = self._flat.get(key) if key is not None else None
        return space.questions.get(question_id) if space is not None else None

    def _own_question_line(self, space: _Space, said: Said) -> Said | None:
        """The speaker's own recent question: where their remarks belong when they reply to nothing."""
        for question in reversed(space.questions.values()):
            if question.asker == said.user and said.at - question.last_at <= _OWN_QUESTION_GAP:
                return self._line(question.id)
        return None

    def _asked_in(self, space: _Space, conv: str) -> _Question | None:
        """The open question a conversation is about (a thread's is its root, asked in the channel)."""
        return self._open_one(space.asked.get(conv) or conv)

    def forget_question(self, question_id: str) -> None:
        """Close a question (resolved, deleted): later lines are no longer linked to it."""
        key = self._asked_where.pop(question_id, None)
        space = self._flat.get(key) if key is not None else None
        if space is not None:
            question = space.questions.pop(question_id, None)
            if question is not None and space.asked.get(question.conv) == question_id:
                del space.asked[question.conv]
                space.askers.pop(question.conv, None)

    # ---------------------------------------------------------------- linking

    def _place(self, line: ChatLine, said: Said, space: _Space, greeting: bool) -> Response | None:
        """Place the line under its parent (thread, explicit reply, else the model) and name what it answers.

        A line answers every open question above it in the reply structure, as long as someone else asked it.
        """
        how = "thread" if line.thread and line.reply_to is None else "reply" if line.reply_to else "inferred"
        confidence = 1.0
        parent: Said | None = None
        if how == "thread":
            said.conv = line.thread or said.id
            parent = self._line(line.thread)
            if parent is None and line.thread:
                said.lineage = frozenset((line.thread,))  # the root is older than what the tracker keeps
        elif how == "reply":
            parent = self._line(line.reply_to)
            said.conv = parent.conv if parent else (line.reply_to or said.id)
        elif self._infers(line, space, said.question):
            link = self._choose(said, *self._features(said, space, greeting))
            said.conv, confidence, parent = link.conv, link.confidence, link.parent
            if parent is None and not said.question and not said.addressees:
                parent = self._own_question_line(space, said)
                said.conv = parent.conv if parent else said.conv
        if parent is not None:
            said.lineage = parent.lineage
            if parent.user != said.user:
                said.replied = parent.user
                self._talked(space, said.user, parent.user, said.at)
        answered = sorted(
            (q for q in map(self._open_one, said.lineage) if q is not None and q.asker != said.user),
            key=lambda q: q.at,
        )
        if not answered:
            return None
        first, *also = answered
        return Response(first.id, how, round(confidence, 3), also=tuple(q.id for q in also))

    def _line(self, line_id: str | None) -> Said | None:
        found = self._said.get(line_id or "")
        return found[1] if found else None

    def _infers(self, line: ChatLine, space: _Space, is_question: bool) -> bool:
        """Whether a flat line needs the model: channels that use threads or replies say what they answer."""
        if not space.questions or line.thread:
            return False
        if space.replying >= _REPLYING_CHANNEL:
            return False  # where people answer with explicit replies, a line without one starts something new
        # Where people answer in threads, a new question in the channel is a new topic.
        return not (is_question and self._threaded.get(line.channel, (0.0, 0))[0] >= _THREADED_CHANNEL)

    def _features(self, said: Said, space: _Space, greeting: bool) -> tuple[list[str], list[tuple[Said, list[str]]]]:
        """The reply-link features of a line against the recent lines of its space."""
        me = said.user
        limit = said.at - _PAIR_GAP
        partners = frozenset(
            other
            for (first, second), at in space.talks.items()
            if at >= limit and me in (first, second)
            for other in ((second,) if first == me else (first,))
        )
        recent = islice(reversed(space.lines), CANDIDATES)
        around = Surroundings(
            space.last_by_user, space.last_to_user.get(me), partners, space.askers, space.pace, greeting
        )
        return features(said, recent, around)

    @staticmethod
    def _talked(space: _Space, me: str, other: str, at: datetime) -> None:
        """Remember that two people spoke with each other (the newest exchange last)."""
        if me == other:
            return
        pair = (me, other) if me < other else (other, me)
        space.talks.pop(pair, None)
        space.talks[pair] = at

    # ------------------------------------------------------------- bookkeeping

    def _ask(self, said: Said, key: str, space: _Space, conversation: _Question | None) -> None:
        """Open a question; one asked below the asker's own open question continues that question.

        The conversation (which the features read) is about the question that opened it, or about this one
        when it is asked in someone else's conversation without replying to its asker.
        """
        if len(space.questions) >= self._max_questions:
            self.forget_question(next(iter(space.questions)))
        question = _Question(id=said.id, asker=said.user, at=said.at, last_at=said.at, conv=said.conv)
        mine = [q for q in map(self._open_one, said.lineage) if q is not None and q.asker == said.user]
        if mine:  # asked again, or a step further, below the asker's own question
            first = min(mine, key=lambda q: q.at)
            question.root = first.root or first.id
        said.lineage = said.lineage | {said.id}
        mine_already = conversation is not None and conversation.asker == said.user
        if not mine_already and (conversation is None or said.replied != conversation.asker):
            if conversation is not None:
                said.conv = question.conv = said.id  # a question of one's own, not a step in someone else's
            space.asked[said.conv] = said.id  # the question this conversation is about
            space.askers[said.conv] = said.user
        space.questions[said.id] = question
        self._asked_where[said.id] = key

    def _keep(self, key: str, space: _Space, said: Said) -> None:
        """Keep the line for replies and turn-taking; the oldest line leaves when the channel is full."""
        space.lines.append(said)
        if not said.bot:
            space.last_by_user[said.user] = said
            for other in said.addressees:
                space.last_to_user[other] = said
        space.last_at = said.at
        self._said[said.id] = (key, said)
        if len(space.lines) > self._max_lines:
            self._drop_said(space)

    def _drop_said(self, space: _Space) -> None:
        """Forget the oldest line of a space."""
        old = space.lines.popleft()
        self._said.pop(old.id, None)
        if space.last_by_user.get(old.user) is old:
            del space.last_by_user[old.user]
        for other in old.addressees:
            if space.last_to_user.get(other) is old:
                del space.last_to_user[other]

    def _expire_space(self, space: _Space, now: datetime) -> None:
        """Drop lines, exchanges and questions older than the window."""
        limit = now - self._window
        while space.lines and space.lines[0].at < limit:
            self._drop_said(space)
        talks = space.talks
        while talks:
            oldest = next(iter(talks))
            if now - talks[oldest] <= _PAIR_GAP:
                break
            del talks[oldest]
        if space.questions and next(iter(space.questions.values())).last_at < limit:
            for qid in [qid for qid, q in space.questions.items() if q.last_at < limit]:
                self.forget_question(qid)

    def _sweep_spaces(self, now: datetime) -> None:
        """Now and then, drop channels and threads that have been silent for longer than the window."""
        forget_silent(self._flat, self._said, self._asked_where, now - self._window)
