"""Conversation tracking: which earlier question, if any, a chat message responds to.

Threads and explicit replies say it outright. Flat channels do not: several conversations interleave and
nobody uses threads, so the tracker infers the link from who speaks to whom (mentions, "nick:" prefixes,
names, turn-taking between asker and responder), how long ago the question was asked, shared words and
the look of an answer (imperatives, "try", "du kannst", links, code). A line addressed to somebody else
belongs to that other conversation. Memory is bounded: lines and questions expire, and per-channel
history is capped, so the tracker can run for months in one process.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from bot.core.text.tokens import ENGLISH_STOP_WORDS, GERMAN_STOP_WORDS, terms
from facilitation_rules.text.doubt import AnswerDoubt

logger = logging.getLogger(__name__)

__all__ = ["ChatLine", "ConversationTracker", "Response"]


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One chat message as the tracker sees it."""

    id: str
    channel: str
    user: str
    text: str
    at: datetime  # timezone-aware
    thread: str | None = None  # id of the thread root when posted in a thread
    reply_to: str | None = None  # id of a message it explicitly replies to / quotes
    bot: bool = False
    user_name: str | None = None
    mentions: tuple[str, ...] = ()  # user ids/names mentioned explicitly


@dataclass(frozen=True, slots=True)
class Response:
    """A line's link to the question it responds to.

    `line_id`, `user` and `at` are set when a later line reveals that an EARLIER line was a response (a late
    link): e.g. the asker turns to someone whose short unaddressed line right after the question went
    unnoticed. That earlier line becomes the question's first response if it precedes the one known so far.
    """

    question_id: str
    how: str  # "thread" | "reply" | "inferred"
    confidence: float
    line_id: str | None = None  # the line that responded, when earlier than the line observed now
    user: str | None = None  # its author (set together with line_id)
    at: datetime | None = None  # its time (set together with line_id)
    also: tuple[str, ...] = ()  # other open questions the same line answers (above it in the reply structure)


# Words too common to say anything about a topic: the one stop-word source the text layer shares.
_STOPWORDS = ENGLISH_STOP_WORDS | GERMAN_STOP_WORDS
# "nick: ...", "nick, ...", "@nick ..." at the start of a line: the usual way to address someone in chat.
_PREFIX = re.compile(r"^\s*@?([^\s:,>]{1,40}?)\s*([:,>-])(?:\s|$)")
# A display name of several words before the separator ("Anna Schmidt: ..."), or a name glued to its comma
# ("anna,could you"): taken only when the words name someone the tracker knows.
_NAME_PREFIX = re.compile(r"^\s*@?([^\s:,>]{1,40}(?:\s+[^\s:,>]{1,40}){0,3}?)\s*[:,](?:\s|(?=[^\s/]))")
_AT = re.compile(r"(?<![\w.])@([\w\[\]\\`^{}|.\-]{2,40})")
_LINK_OR_CODE = re.compile(r"https?://|www\.|`|\$ |\w+\.\w+/\w+")
# Openings typical of an answer or of advice, in English and German.
_ANSWER_CUE = re.compile(
    r"\b(?:try|tried|you (?:can|could|should|need|have to|must|might|may|want)|use|install|run|type|check|"
    r"look (?:at|in)|see|read|just|it(?:'s| is) (?:in|under|at)|there(?:'s| is)|yes|yep|no|nope|"
    r"because|should|works?|worked|install(?:ed)?|open|go to|click|add|set|remove|edit|"
    r"du kannst|ihr könnt|sie können|probier|versuch|schau|guck|nimm|nutze|benutze|geh auf|klick|"
    r"ja|nein|doch|genau|einfach|müsste|sollte|hab ich|habe ich)\b",
    re.IGNORECASE,
)
# Who a question is about: "I/my" opens a problem of one's own, "you/your" asks back about someone else's.
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|my|me|ich|mein\w*|mich|mir)\b", re.IGNORECASE)
_SECOND_PERSON = re.compile(
    r"\b(?:you|your|you're|you've|u|ur|du|dein\w*|dich|dir|ihr|euch|euer\w*)\b", re.IGNORECASE
)
_GREETING = re.compile(
    r"^\s*(?:hi|hiya|hello|hey|howdy|greetings|hallo|moin|servus|good (?:morning|evening)|"
    r"guten (?:morgen|tag|abend))\b",
    re.IGNORECASE,
)

_PIPE = re.compile(r"\|\s*@?([^\s|]{2,40})\s*$")
_NON_ALNUM = re.compile(r"[^\w]|_", re.UNICODE)
# Words that end in ":" at the start of a line without naming anyone.
_LABELS = frozenset({
    "edit", "update", "note", "question", "problem", "error", "warning", "info", "hint", "tip", "answer",
    "solution", "ps", "btw", "also", "example",
    "frage", "antwort", "hinweis", "fehler", "achtung", "nachtrag", "beispiel",
    # "Yes: channel → … → Off": an answer that opens with its verdict, not a line to someone called "yes"
    "yes", "yep", "no", "nope", "sure", "ok", "okay", "ja", "nein", "klar", "genau", "doch",
})

_FOLLOW_GAP = timedelta(minutes=4)  # a speaker's next line within this gap usually continues their talk
_PAIR_GAP = timedelta(minutes=20)  # how long an exchange between two people stays the context of their lines
_REPEAT_GAP = timedelta(minutes=15)  # an asker's new question this soon after an unanswered one repeats it
_REPLYING_CHANNEL = 0.5  # share of explicit replies from which a channel is taken to always use them
_THREADED_CHANNEL = 0.3  # share of lines posted in threads from which a flat question starts a new topic
_BAR = 0.5  # the least score for an unaddressed line to count as a response
_LATE_LINES = 8  # a line revealed later as a response came at most this many lines after the question
_LATE_GAP = timedelta(minutes=10)  # ... and at most this long after it


def _repeats(question: _Question, earlier: _Question) -> bool:
    """Whether a question soon after an earlier one by the same asker says mostly the same thing again."""
    if question.at - earlier.at > _REPEAT_GAP:
        return False
    if len(question.words) <= 2 or len(question.words - earlier.words) <= 1:
        return True  # "anyone?", "bob: any idea?", "help? <the same link>": a nudge, not a new topic
    return len(question.words & earlier.words) >= 0.6 * len(earlier.words | question.words)


def _aside(text: str, is_question: bool, cue: bool) -> float:
    """How much a line from someone outside a conversation looks like talk of their own, not an answer."""
    if _SECOND_PERSON.search(text) or not ((is_question and len(text) > 60) or _FIRST_PERSON.search(text)):
        return 0.0  # "you ..." speaks to someone; a short remark may be an answer
    if is_question:
        return 0.3  # a newcomer asking about their own problem starts a conversation of its own
    return 0.0 if cue else 0.1  # talking about oneself, with no advice in it, rarely answers


def _one_edit(a: str, b: str) -> bool:
    """Whether two different strings are one substitution, insertion or deletion apart."""
    if a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = 0
    while start < len(a) and a[start] == b[start]:
        start += 1
    if len(a) == len(b):
        return a[start + 1:] == b[start + 1:]
    return a[start:] == b[start + 1:]


@lru_cache(maxsize=16384)
def _norm(name: str) -> str:
    """Compare user names and nicks without case, punctuation and decoration ("[[bob]]", "bob_").

    Cached: every line normalises its author and its first words, and names recur constantly.
    """
    return _NON_ALNUM.sub("", name.lower())


@lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    """Topic terms of a line (the shared tokenizer's stems), so that forms of one word match.

    Cached: a line is compared again when the asker picks up its words, and chat repeats short lines.
    """
    return frozenset(terms(text))


@lru_cache(maxsize=4096)
def _cues(text: str, is_question: bool) -> tuple[frozenset[str], bool, float, float]:
    """What an unaddressed line offers every open question: topic words, answer cue, aside, greeting penalty.

    Computed once per line (and cached, as chat repeats short lines), not once per open question.
    """
    cue = bool(_ANSWER_CUE.search(text) or _LINK_OR_CODE.search(text))
    return _words(text), cue, _aside(text, is_question, cue), 0.3 if _GREETING.match(text) else 0.0


def _score(
    now: datetime, me: str, question: _Question, words: frozenset[str], cue: bool,
    aside: float, penalty: float, scale: float, count: int,
) -> float:
    """How likely an unaddressed line answers this question: turn-taking, recency, overlap, cues."""
    if question.partner == me or me in question.addressees:
        return 0.9 if (now - question.last_at).total_seconds() <= 900 else 0.4
    if question.addressees:
        return 0.0  # the asker asked someone else
    recency = 1.0 / (1.0 + (now - question.last_at).total_seconds() / scale)
    between = count - question.last_count - 1  # lines by others since the conversation last moved
    next_up = 0.35 if between <= 0 else 0.15 if between <= 2 else 0.0
    overlap = len(words & question.words)
    score = 0.45 * recency + next_up + 0.15 * min(overlap, 3) + (0.15 if cue else 0.0)
    score += 0.2 if me in question.participants else -aside
    return score - penalty


@dataclass(slots=True)
class _Line:
    """What the tracker keeps of a recent line."""

    id: str
    user: str
    at: datetime
    addressees: frozenset[str]
    conv: str | None  # id of the question whose conversation the line belongs to
    n: int = 0  # the space's line count when the line came
    text: str = ""


@dataclass(slots=True)
class _Question:
    """An open question and the people who have joined its conversation."""

    id: str
    asker: str
    at: datetime
    words: frozenset[str]
    addressees: frozenset[str]
    last_at: datetime
    participants: set[str] = field(default_factory=set)
    seq: int = 0  # arrival order: minute-resolution clocks give many lines the same time
    last_count: int = 0  # the space's line count when the conversation last moved
    partner: str | None = None  # whom the asker last spoke to inside the conversation
    answered: bool = False
    root: str | None = None  # an earlier unanswered question of the same asker that this one repeats
    n: int = 0  # the space's line count when the question came
    early: list[_Line] = field(default_factory=list)  # the lines right after it: what a late link may name


@dataclass(slots=True)
class _Space:
    """A flat channel or one thread: recent lines, open questions and each speaker's last line."""

    lines: deque[_Line]
    questions: dict[str, _Question] = field(default_factory=dict)
    last_by_user: dict[str, _Line] = field(default_factory=dict)
    last_addressed_by_user: dict[str, _Line] = field(default_factory=dict)  # each one's last line to someone
    pairs: dict[tuple[str, str], tuple[str | None, datetime, int]] = field(default_factory=dict)
    habit: float = 0.0  # running share of lines that address someone explicitly: the channel's custom
    replying: float = 0.0  # running share of lines posted as explicit replies
    pace: float = 60.0  # running mean of seconds between lines: busy channels answer fast, quiet ones slowly
    count: int = 0  # lines seen, to tell how many others spoke since a question last moved
    fresh: deque[_Question] = field(default_factory=deque)  # questions still collecting their early lines
    last_at: datetime | None = None


class _Speakers(Protocol):
    """A space as far as addressing needs it: who spoke there lately."""

    @property
    def last_by_user(self) -> Mapping[str, object]: ...


def _early_line(question: _Question, users: frozenset[str], *, any_conv: bool = False) -> _Line | None:
    """The first line soon after the question by one of `users`, if it spoke to nobody else."""
    found = next((record for record in question.early if record.user in users), None)
    if found is None or found.addressees or not (any_conv or found.conv in (None, question.id)):
        return None
    return found


class ConversationTracker:
    """Remembers recent lines and open questions per channel (bounded), and links responses to questions."""

    def __init__(
        self,
        *,
        window: timedelta = timedelta(hours=12),
        max_lines_per_channel: int = 400,
        max_open_questions_per_channel: int = 50,
        max_known_users: int = 20000,
    ) -> None:
        self._window = window
        self._max_lines = max_lines_per_channel
        self._max_questions = max_open_questions_per_channel
        self._max_users = max_known_users
        self._spaces: dict[str, _Space] = {}
        self._threaded: dict[str, tuple[float, int]] = {}  # per channel: share of lines in threads, lines seen
        self._lines: dict[str, tuple[str, _Line]] = {}  # line id -> (space key, line)
        self._question_space: dict[str, str] = {}  # question id -> space key
        self._nicks: dict[str, str] = {}  # lower-case nick or display name -> user
        self._observed = 0
        self._placed: tuple[str, frozenset[str]] = ("", frozenset())  # the last line's speaker and addressees
        self.doubts = AnswerDoubt()

    def read(self, line: ChatLine, *, is_question: bool) -> Response | None:
        """Observe a line and weigh what it says about questions left unanswered (`doubts`)."""
        response = self.observe(line, is_question=is_question)
        if line.bot:
            return response
        speaker, addressees = self._placed
        flat = line.thread is None and line.reply_to is None
        if response is not None and flat and addressees:
            response = self._with_siblings(response, line, speaker, addressees)
        answered = frozenset((response.question_id, *response.also)) if response is not None else frozenset()
        self.doubts.observe(
            line_id=line.id, channel=line.channel, speaker=speaker, text=line.text, at=line.at,
            flat=flat, addressees=addressees, answered=answered,
            is_question=is_question,
        )
        return response

    def _with_siblings(
        self, response: Response, line: ChatLine, speaker: str, addressees: frozenset[str]
    ) -> Response:
        """A line that turns to the asker answers what they asked just before too: someone who asks twice in a
        row ("how do I X?", "I mean with Y?") is answered once, and the first of their questions is answered by
        that line as much as the last."""
        linked = self.doubts.evidence(response.question_id)
        if linked is None or linked.asker not in addressees:
            return response
        if self._put_to(response.question_id, speaker):
            return response  # the asker asked this speaker something: the reply answers that, not all they asked
        extra = [qid for qid in self.doubts.siblings(response.question_id, line.at) if qid not in response.also]
        return replace(response, also=(*response.also, *extra)) if extra else response

    def _put_to(self, question_id: str, speaker: str) -> bool:
        question = self._question(question_id)
        return question is not None and speaker in question.addressees

    # ----------------------------------------------------------------- names

    def register_name(self, user: str, name: str) -> None:
        """Learn a display name, so "name: ..." and "@name" address that user; first names count too."""
        parts = name.split()
        for key in (_norm(name), _norm(parts[0]) if parts else ""):
            if len(key) >= 2:
                self._remember_nick(key, _norm(user))

    def observe_join(self, channel: str, user: str, at: datetime) -> None:
        """Learn a member's nick on joining, so lines addressed to them are recognised before they speak."""
        key = _norm(user)
        self._remember_nick(key, key)

    def _remember_nick(self, key: str, user: str) -> None:
        """Map a nick to its user, dropping the oldest entries when the map is full."""
        if key in self._nicks:
            del self._nicks[key]  # re-insert: the dict's order is the recency order
        elif len(self._nicks) >= self._max_users:
            del self._nicks[next(iter(self._nicks))]
        self._nicks[key] = user

    def _resolve(self, token: str) -> str | None:
        """The user a nick-like token names, tolerating the trailing '_' or digits that IRC nicks collect."""
        key = _norm(token)
        if len(key) < 2:
            return None
        user = self._nicks.get(key)
        if user is None and len(key) > 3:
            user = self._nicks.get(key.rstrip("0123456789"))
        return user

    def _misspelt(self, token: str, space: _Speakers) -> str | None:
        """The one recent speaker whose name the token misspells by a single letter ("anthong" for "anthony");
        None when nobody, or more than one, is that close. Short names are never guessed."""
        key = _norm(token)
        if len(key) < 5:
            return None
        close = {user for user in space.last_by_user if abs(len(user) - len(key)) <= 1 and _one_edit(user, key)}
        return close.pop() if len(close) == 1 else None

    def _addressees(self, line: ChatLine, space: _Speakers) -> tuple[frozenset[str], frozenset[str]]:
        """Whom the line speaks to: explicitly (mentions, "nick:", "@nick", "| nick") or by name."""
        strong: set[str] = set()
        for mention in line.mentions:
            strong.add(self._resolve(mention) or _norm(mention))
        text = line.text
        match = _PREFIX.match(text)
        if match:
            user = self._resolve(match.group(1)) or self._misspelt(match.group(1), space)
            if user is not None:
                strong.add(user)
            elif match.group(2) == ":" and _norm(match.group(1)) not in _LABELS:
                strong.add(_norm(match.group(1)))  # IRC habit: "nick:" even for someone not seen yet
        elif (named := _NAME_PREFIX.match(text)) is not None:
            user = self._resolve(named.group(1)) or self._misspelt(named.group(1), space)
            if user is not None:
                strong.add(user)
        for nick in _AT.findall(text) if "@" in text else ():
            user = self._resolve(nick)
            if user is not None:
                strong.add(user)
        if "|" in text:
            pipe = _PIPE.search(text)
            user = self._resolve(pipe.group(1)) if pipe else None
            if user is not None:
                strong.add(user)
        weak: set[str] = set()
        if not strong:
            recent = space.last_by_user
            tokens = text.split(None, 12)[:12]
            for position, token in enumerate(tokens):
                key = _norm(token)
                if len(key) < 3 or key in _STOPWORDS:
                    continue
                user = self._nicks.get(key)
                if user is not None and user in recent:
                    (strong if position == 0 else weak).add(user)
        me = _norm(line.user)
        strong.discard(me)
        weak.discard(me)
        return frozenset(strong), frozenset(weak)

    # --------------------------------------------------------------- observe

    def observe(self, line: ChatLine, *, is_question: bool) -> Response | None:
        """Record the line; if it is a question, open it. Return the question this line responds to, or None.

        Lines by the asker are recorded (they shape the conversation) and never respond themselves, but may
        reveal a late link: a Response whose `line_id` names an earlier line of someone else as the response.
        """
        me, key = self._meet(line)
        space = self._spaces.get(key)
        if space is None:
            space = self._spaces[key] = _Space(lines=deque())
        self._expire(space, line.at)
        if line.bot:
            self._store(key, space, _Line(line.id, me, line.at, frozenset(), None), speaker=False)
            return None
        if space.last_at is not None:
            gap = min((line.at - space.last_at).total_seconds(), 4 * 3600.0)
            space.pace = 0.95 * space.pace + 0.05 * max(gap, 0.0)
        space.count += 1
        strong, weak = self._addressees(line, space)
        self._placed = (me, strong | weak)
        space.habit = 0.97 * space.habit + (0.03 if strong else 0.0)
        space.replying = 0.97 * space.replying + (0.03 if line.reply_to else 0.0)
        response = self._redirect(space, self._link(line, me, space, strong, weak, is_question))
        talk_to = strong or weak
        conv = response.question_id if response else self._own_conversation(line, me, space, talk_to)
        record = _Line(line.id, me, line.at, talk_to, conv, space.count, line.text)
        if strong and conv is not None:
            response = self._late_link(me, strong, conv, response) or response
        elif conv is not None and response is None and not talk_to:
            response = self._taken_up(space, me, line.text, conv)
        if conv is not None:
            question = self._question(conv)
            if question is not None:
                self._join_conversation(question, record)
                question.last_count = space.count
        for other in talk_to:
            space.pairs.pop((me, other), None)
            space.pairs[(me, other) if me < other else (other, me)] = (conv, line.at, self._observed)
        if is_question:
            self._open(line, me, key, space, strong)
            record.conv = conv or line.id  # a question inside a conversation stays part of it
        self._store(key, space, record, speaker=True)
        self._observed += 1
        if self._observed % 1000 == 0:
            self._sweep(line.at)
        return response

    def _meet(self, line: ChatLine) -> tuple[str, str]:
        """Learn the speaker's names and the channel's use of threads; the speaker and the line's space key."""
        me = _norm(line.user)
        if line.user_name:
            self.register_name(line.user, line.user_name)
        self._remember_nick(me, me)
        if not line.bot:
            share, seen = self._threaded.get(line.channel, (0.0, 0))
            weight = max(0.03, 1.0 / (seen + 1))  # a plain average at first, then a running one
            self._threaded[line.channel] = ((1 - weight) * share + (weight if line.thread else 0.0), seen + 1)
        return me, f"{line.channel}\x00{line.thread}" if line.thread else line.channel

    def repeats(self, question_id: str) -> str | None:
        """The earlier, still unanswered question of the same asker that this question repeats, if any.

        Responses go to that earlier question and name this one in `also`, so callers can treat both as one.
        """
        question = self._question(question_id)
        return question.root if question is not None else None

    def _redirect(self, space: _Space, response: Response | None) -> Response | None:
        """Send a response to a repeated question on to the question it repeats, and mark both answered.

        The repeat keeps the response too (`also`): the asker asked once, in two lines, and whoever answers one
        answers both; the repeat counts as a question of its own wherever the two are judged apart.
        """
        question = self._question(response.question_id) if response is not None else None
        if response is None or question is None:
            return response
        root = space.questions.get(question.root) if question.root else None
        question.answered = True
        if root is None:
            return response
        root.answered = True
        return replace(response, question_id=root.id, also=(question.id, *response.also))

    def _question(self, question_id: str) -> _Question | None:
        """An open question by id, in whichever channel or thread it was asked."""
        key = self._question_space.get(question_id)
        space = self._spaces.get(key) if key is not None else None
        return space.questions.get(question_id) if space is not None else None

    def forget_question(self, question_id: str) -> None:
        """Close a question (resolved, deleted): later lines are no longer linked to it."""
        key = self._question_space.pop(question_id, None)
        space = self._spaces.get(key) if key is not None else None
        if space is not None:
            space.questions.pop(question_id, None)

    # ---------------------------------------------------------------- linking

    def _link(
        self, line: ChatLine, me: str, space: _Space, strong: frozenset[str], weak: frozenset[str],
        is_question: bool,
    ) -> Response | None:
        """Find the question this line responds to: thread root, explicit reply, else inference."""
        if line.thread and line.reply_to is None:
            root = self._question(line.thread)
            if root is not None:
                return Response(root.id, "thread", 1.0) if root.asker != me else None
        if line.reply_to is not None:
            question = self._replied_question(line, space)
            if question is None or question.asker == me:
                return None
            return Response(question.id, "reply", 1.0)
        if not space.questions:
            return None
        if space.replying >= _REPLYING_CHANNEL:
            return None  # where people answer with explicit replies, a line without one starts something new
        if is_question and self._threaded.get(line.channel, (0.0, 0))[0] >= _THREADED_CHANNEL:
            return None  # where people answer in threads, a new question in the channel is a new topic
        if strong or weak:
            found = self._infer_addressed(line, me, space, strong or weak, bool(strong))
            if found is not None or strong:
                return found
        return self._infer_unaddressed(line, me, space, is_question)

    def _replied_question(self, line: ChatLine, space: _Space) -> _Question | None:
        """The open question whose conversation holds the message this line explicitly replies to."""
        found = self._lines.get(line.reply_to or "")
        if found is None:
            return self._question(line.thread) if line.thread else None
        target = found[1]
        return self._question(target.id) or (self._question(target.conv) if target.conv else None)

    def _pair(
        self, space: _Space, me: str, other: str, now: datetime
    ) -> tuple[str | None, datetime, int] | None:
        """The latest recent exchange between two people: (its conversation, when)."""
        found = space.pairs.get((me, other) if me < other else (other, me))
        if found is None or now - found[1] > _PAIR_GAP:
            return None
        return found

    def _latest_question_of(self, space: _Space, user: str) -> _Question | None:
        """The newest open question asked by `user` in this space."""
        for question in reversed(space.questions.values()):
            if question.asker == user:
                return question
        return None

    def _infer_addressed(
        self, line: ChatLine, me: str, space: _Space, talk_to: frozenset[str], explicit: bool
    ) -> Response | None:
        """A line spoken to someone continues the latest exchange with them, or answers their new question."""
        for other in sorted(talk_to):  # sorted: the same transcript always gives the same links
            pair = self._pair(space, me, other, line.at)
            question = self._latest_question_of(space, other)
            # An exchange since their question continues; the question itself, put to this speaker, is no such
            # exchange (its line was recorded as one), so the answer goes to the question, not to older talk.
            if pair is not None and (question is None or pair[2] > question.seq):
                conv = space.questions.get(pair[0]) if pair[0] else None
                if conv is not None and conv.asker != me:
                    return Response(conv.id, "inferred", 0.85)
                continue
            if question is not None and line.at - question.last_at <= self._window:
                return Response(question.id, "inferred", 0.9 if explicit else 0.7)
        for question in reversed(space.questions.values()):
            if me in question.participants and talk_to <= question.participants | {question.asker}:
                return Response(question.id, "inferred", 0.6)
        return None

    def _infer_unaddressed(
        self, line: ChatLine, me: str, space: _Space, is_question: bool
    ) -> Response | None:
        """Score the open questions for a line addressed to nobody; the best one above the bar wins."""
        previous = space.last_by_user.get(me)
        if previous is not None and line.at - previous.at <= _FOLLOW_GAP:
            # Someone who just spoke usually continues their own conversation.
            question = space.questions.get(previous.conv) if previous.conv else None
            if question is not None:
                return Response(question.id, "inferred", 0.7) if question.asker != me else None
            if previous.addressees:
                return None
        words, cue, aside, greeting = _cues(line.text, is_question)
        penalty = 1.2 * space.habit + greeting
        talking = space.last_addressed_by_user.get(me)
        busy_with = talking.addressees if talking and line.at - talking.at <= _FOLLOW_GAP else frozenset()
        scale = min(max(300.0, 5.0 * space.pace), 3600.0)  # seconds after which recency has halved
        best: tuple[float, str] | None = None
        for question in space.questions.values():
            if question.asker == me or (busy_with and question.asker not in busy_with):
                continue  # a speaker in the middle of a talk with someone else is still talking to them
            score = _score(line.at, me, question, words, cue, aside, penalty, scale, space.count)
            if score > 0.0 and (best is None or score > best[0]):
                best = (score, question.id)
        if best is None or best[0] < _BAR:
            return None
        return Response(best[1], "inferred", round(min(best[0], 0.95), 2))

    def _own_conversation(
        self, line: ChatLine, me: str, space: _Space, talk_to: frozenset[str]
    ) -> str | None:
        """The conversation a line joins when it is not a response: mostly the asker's follow-ups."""
        if line.reply_to is not None:
            question = self._replied_question(line, space)
            return question.id if question is not None else None
        if line.thread and self._question(line.thread) is not None:
            return line.thread
        for other in sorted(talk_to):
            pair = self._pair(space, me, other, line.at)
            if pair is not None:
                return pair[0] if pair[0] in space.questions else None
        own = self._latest_question_of(space, me)
        if own is None or line.at - own.last_at > _FOLLOW_GAP * 4:
            return None
        return own.id

    def _late_link(
        self, me: str, strong: frozenset[str], conv: str, response: Response | None
    ) -> Response | None:
        """An earlier line revealed as a response when asker and responder turn to each other by name.

        In busy channels a short answer right after a question often names nobody and loses to a later line
        that does; the asker addressing its author next ("bob: that worked"), or the author addressing the
        asker, shows whom it was for.
        """
        question = self._question(conv)
        if question is None:
            return None
        if question.asker == me:
            responders = strong
        elif question.asker in strong and response is not None and response.question_id == conv:
            responders = frozenset((me,))
        else:
            return None
        earlier = _early_line(question, responders)
        if earlier is None:
            return None
        return self._reveal(question, earlier, response.how if response is not None else "inferred")

    @staticmethod
    def _reveal(question: _Question, earlier: _Line, how: str) -> Response:
        """Move an earlier line into the question's conversation and name it as a response."""
        earlier.conv = question.id
        question.participants.add(earlier.user)
        question.answered = True
        return Response(question.id, how, 0.75, earlier.id, earlier.user, earlier.at)

    def _taken_up(self, space: _Space, me: str, text: str, conv: str) -> Response | None:
        """The line just before the asker's, revealed as a response when the asker picks up its words."""
        question = self._question(conv)
        previous = space.lines[-1] if space.lines else None
        if question is None or question.asker != me or previous is None or previous.user == me:
            return None
        if previous.conv == question.id:
            return None
        earlier = _early_line(question, frozenset((previous.user,)), any_conv=True)
        if earlier is not previous or not _words(text) & _words(previous.text):
            return None
        return self._reveal(question, previous, "inferred")

    def _join_conversation(self, question: _Question, record: _Line) -> None:
        """Let a line shape its conversation: participants, whom the asker talks to, last activity."""
        question.last_at = record.at
        if record.user == question.asker:
            if record.addressees:
                question.partner = min(record.addressees)
                question.participants |= record.addressees
        else:
            question.participants.add(record.user)

    # ------------------------------------------------------------- bookkeeping

    def _open(self, line: ChatLine, me: str, key: str, space: _Space, addressees: frozenset[str]) -> None:
        """Open a question, evicting the oldest one when the channel has too many."""
        if len(space.questions) >= self._max_questions:
            self.forget_question(next(iter(space.questions)))
        question = _Question(
            id=line.id, asker=me, at=line.at, words=_words(line.text),
            addressees=addressees, last_at=line.at, participants=set(addressees), seq=self._observed,
            last_count=space.count, n=space.count,
        )
        earlier = self._latest_question_of(space, me)
        if earlier is not None and not earlier.answered and _repeats(question, earlier):
            question.root = earlier.root or earlier.id
        space.questions[line.id] = question
        self._question_space[line.id] = key
        space.fresh.append(question)

    def _store(self, key: str, space: _Space, record: _Line, *, speaker: bool) -> None:
        """Keep the line for replies and turn-taking; the oldest line leaves when the channel is full."""
        space.lines.append(record)
        if speaker:
            self._note_early(space, record)
            space.last_by_user[record.user] = record
            if record.addressees:
                space.last_addressed_by_user[record.user] = record
        space.last_at = record.at
        self._lines[record.id] = (key, record)
        if len(space.lines) > self._max_lines:
            self._drop_line(space)

    @staticmethod
    def _note_early(space: _Space, record: _Line) -> None:
        """Keep the first few lines after each new question, the only ones a late link may name."""
        fresh = space.fresh
        while fresh and (record.n - fresh[0].n > _LATE_LINES or record.at - fresh[0].at > _LATE_GAP):
            fresh.popleft()
        for question in fresh:
            if record.n > question.n:
                question.early.append(record)

    def _drop_line(self, space: _Space) -> None:
        """Forget the oldest line of a space."""
        old = space.lines.popleft()
        self._lines.pop(old.id, None)
        if space.last_by_user.get(old.user) is old:
            del space.last_by_user[old.user]
        if space.last_addressed_by_user.get(old.user) is old:
            del space.last_addressed_by_user[old.user]

    def _expire(self, space: _Space, now: datetime) -> None:
        """Drop lines, exchanges and questions older than the window."""
        limit = now - self._window
        while space.lines and space.lines[0].at < limit:
            self._drop_line(space)
        pairs = space.pairs
        while pairs:
            oldest = next(iter(pairs))
            if now - pairs[oldest][1] <= _PAIR_GAP:
                break
            del pairs[oldest]
        if space.questions and next(iter(space.questions.values())).last_at < limit:
            for qid in [qid for qid, q in space.questions.items() if q.last_at < limit]:
                self.forget_question(qid)

    def _sweep(self, now: datetime) -> None:
        """Now and then, drop channels and threads that have been silent for longer than the window."""
        forget_silent(self._spaces, self._lines, self._question_space, now - self._window)


class _Silent(Protocol):
    """A channel or thread as far as forgetting it needs: when it last spoke, its lines and its questions."""

    last_at: datetime | None

    @property
    def lines(self) -> Iterable[Any]: ...

    @property
    def questions(self) -> Mapping[str, Any]: ...


def forget_silent(
    spaces: MutableMapping[str, Any], lines: MutableMapping[str, Any], question_spaces: MutableMapping[str, str],
    limit: datetime,
) -> None:
    """Drop the spaces silent since before `limit`, with their lines and questions (both trackers' sweep)."""
    silent = [key for key, space in spaces.items() if space.last_at is not None and space.last_at < limit]
    if silent:
        logger.debug("forgetting %d silent channels and threads", len(silent))
    for key in silent:
        space: _Silent = spaces.pop(key)
        for record in space.lines:
            lines.pop(record.id, None)
        for qid in space.questions:
            question_spaces.pop(qid, None)
