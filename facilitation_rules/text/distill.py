"""Offline distillation: a thread in, a short lesson card out (title, problem, what worked, steps, tips, tags,
contributors).

The method is extractive, so it needs no model and invents nothing: it keeps the asker's problem statement and
the answer sentences that were most useful, judged by signals a thread carries in any language: reactions,
who wrote them (not the asker), whether the asker confirmed success right after, step markers and links, and
how much they share with the question. The card keeps each sentence in one place: the problem comes from the
asker alone, what worked from the (confirmed) answers, steps in their numbered or thread order, tips apart.
`mask_private` removes contact data and secrets before any text leaves the organisation (the LLM path).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.lessons import LessonDraft, ThreadMessage
from bot.core.text.tokens import terms_with_words
from bot.core.text.topics import topics
from facilitation_rules.text.cues import is_greeting, is_thanks
from facilitation_rules.text.instructions import Kind, is_instruction, kind, step_number

MAX_TITLE_CHARS = 80
MAX_SOLUTION_SENTENCES = 2
MAX_STEPS = 8
MAX_TIPS = 3
MAX_TAGS = 5
MAX_ITEM_CHARS = 240
MIN_SENTENCE_WORDS = 4
PROBLEM_CHARS = 200  # the problem statement ends at its question or after about this many characters
MIN_SOLUTION_SHARE = 0.65  # "what worked" must be nearly as useful as the thread's best answer sentence
SECOND_SENTENCE_SHARE = 0.8  # a second "what worked" sentence must be almost as useful as the first

# A sentence ends at . ! ? … before a capital, a digit or a quote; a line break always ends one.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"'„“(A-ZÄÖÜ0-9])")
# A dot that ends no sentence: chat abbreviations in EN and DE ("e.g.", "z. B.", "bzw.", "Dr."), a list number
# ("1. Open …") and a German ordinal after its preposition or article ("am 2. März", "der 3. Schritt").
_NOT_AN_END = re.compile(
    r"\b(?:e\.g|i\.e|z(?:\.\s?b)?|d(?:\.\s?h)?|u(?:\.\s?a)?|bzw|ca|ggf|vgl|evtl|inkl|bspw|nr|dr|mr|mrs|ms|prof|vs)\.$"
    r"|^\d{1,2}\.$|\b(?:am|zum|vom|bis|ab|seit|im|der|die|das|dem|den|des|jeden|jedem)\s+\d{1,2}\.$",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://[^\s<>|]+")
_LEADING_GREETING = re.compile(
    r"^(?:(?:good )?morning|hi|hello|hey|hallo|moin|servus|guten (?:morgen|tag)|morgen)(?: (?:all|everyone|team"
    r"|zusammen|leute|alle))?[!,.:]*\s+",
    re.IGNORECASE,
)

# Masking: contact data and secrets must not reach an external model.
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<![\w+])(?:\+|00|\(?0)\d[\d ()/.-]{5,}\d(?!\w)")
_TOKEN = re.compile(
    r"\b(?:xox[abprs]-[\w-]+|xapp-[\w-]+|sk-[\w-]{16,}|gh[pousr]_\w{20,}|glpat-[\w-]{20,}|AKIA[0-9A-Z]{16}"
    r"|eyJ[\w-]+\.[\w-]+\.[\w-]+)"
    r"|(?<![\w/.-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{32,}(?![\w/.-])"
)
_SECRET_PARAM = re.compile(r"(?i)\b((?:token|key|secret|password|passwort|sig|signature)=)[^\s&]+")


def mask_private(text: str) -> str:
    """Replace e-mail addresses, phone numbers and token-looking strings with placeholders."""
    text = _EMAIL.sub("[email]", text)
    text = _TOKEN.sub("[token]", text)
    text = _SECRET_PARAM.sub(r"\1[token]", text)
    return _PHONE.sub(_phone_or_keep, text)


def _phone_or_keep(match: re.Match[str]) -> str:
    """A phone number has at least seven digits; shorter runs are versions or amounts."""
    return "[phone]" if sum(ch.isdigit() for ch in match.group()) >= 7 else match.group()


@dataclass(slots=True)
class _Sentence:
    text: str
    message: ThreadMessage
    order: int
    kind: Kind = Kind.PLAIN
    number: int | None = None  # an explicit step number ("Step 3", "3.", "Schritt 2")
    confirmed: bool = False  # the asker reported success right after its message
    relevant: bool = False  # shares a word with the question, or people reacted to it or confirmed it
    score: float = 0.0


@dataclass(slots=True)
class _Card:
    """The answer sentences sorted into the card's sections, each sentence in one section only."""

    solution: list[_Sentence] = field(default_factory=list)
    steps: list[_Sentence] = field(default_factory=list)
    tips: list[_Sentence] = field(default_factory=list)


def sentences(text: str) -> list[str]:
    """Split chat text into sentences (line breaks end one too)."""
    return [part for line in text.splitlines() for part in _line_sentences(line)]


def _line_sentences(line: str) -> list[str]:
    parts: list[str] = []
    for piece in (p.strip() for p in _SENTENCE_END.split(line)):
        if not piece:
            continue
        if parts and _NOT_AN_END.search(parts[-1]):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts


def distill(thread: Sequence[ThreadMessage], *, title: str | None = None) -> LessonDraft:
    """The lesson an offline reader would write: the problem, what worked, the steps, the tips, the people."""
    usable = sorted((m for m in thread if m.text and not m.bot), key=lambda m: m.position)
    if not usable:
        return LessonDraft(title=(title or "").strip(), summary="")
    root = usable[0]
    problem = _problem(root.text or "")
    question_stems = {stem for stem, _ in terms_with_words(root.text or "")}
    card = _arrange(_rank_answers(root, usable[1:], question_stems))
    links = tuple(dict.fromkeys(url.rstrip(".,)") for m in usable for url in _URL.findall(m.text or "")))
    credited = [*card.solution, *card.steps, *card.tips]
    return LessonDraft(
        title=_shorten((title or "").strip() or _title(problem), MAX_TITLE_CHARS),
        summary=problem,
        solution=" ".join(s.text for s in card.solution),
        steps=tuple(_shorten(s.text, MAX_ITEM_CHARS) for s in card.steps),
        tips=tuple(_shorten(s.text, MAX_ITEM_CHARS) for s in card.tips),
        tags=_tags(usable),
        contributors=tuple(dict.fromkeys([root.author, *(s.message.author for s in credited)])),
        links=links,
    )


def _problem(text: str) -> str:
    """The root's problem statement: its first sentences up to the first question, without a greeting."""
    parts = [s for s in sentences(_URL.sub("", text)) if not is_greeting(s)]
    chosen: list[str] = []
    for part in parts:
        chosen.append(_LEADING_GREETING.sub("", part))
        if "?" in part or len(" ".join(chosen)) > PROBLEM_CHARS:
            break
    return _shorten(" ".join(chosen), 300)


_CONTRAST = re.compile(r",?\s+(?:but|however|aber|jedoch|allerdings)\s+", re.IGNORECASE)


def _title(problem: str) -> str:
    """The problem's first sentence, reduced to the part after "but …" and before a colon when that is enough."""
    first = sentences(problem)[0] if problem else ""
    parts = _CONTRAST.split(first, maxsplit=1)
    if len(parts) == 2 and len(parts[1].split()) >= 4:
        first = parts[1][:1].upper() + parts[1][1:]
    head = first.split(":", 1)[0]
    if len(head.split()) >= 4:
        first = head
    return first.rstrip(" .:;,")


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return f"{cut}…"


def _rank_answers(root: ThreadMessage, replies: Sequence[ThreadMessage], question: set[str]) -> list[_Sentence]:
    """Answer sentences, best first; a tip takes the plain sentence after it along, as its reason."""
    confirmed = _confirmed_messages(root.author, replies)
    ranked: list[_Sentence] = []
    order = 0
    for message in replies:
        if message.author == root.author:
            continue  # the asker's replies report progress; the answers come from the others
        previous: _Sentence | None = None
        for text in sentences(message.text or ""):
            order += 1
            if len(text.split()) < MIN_SENTENCE_WORDS or is_greeting(text) or (is_thanks(text) and "?" not in text):
                continue
            sentence = _sentence(text, message, order, question, message.id in confirmed)
            if previous is not None and previous.kind is Kind.TIP and sentence.kind is Kind.PLAIN:
                previous.text = f"{previous.text} {text}"
                previous = None
                continue
            ranked.append(sentence)
            previous = sentence
    ranked.sort(key=lambda s: (-s.score, s.order))
    return ranked


def _sentence(text: str, message: ThreadMessage, order: int, question: set[str], confirmed: bool) -> _Sentence:
    stems = {stem for stem, _ in terms_with_words(text)}
    overlap = len(stems & question) / len(question) if question else 0.0
    sentence = _Sentence(text, message, order, kind=kind(text), number=step_number(text), confirmed=confirmed)
    sentence.relevant = overlap > 0 or confirmed or message.reactions > 0
    sentence.score = _score(sentence, overlap, len(stems))
    return sentence


def _confirmed_messages(asker: str, replies: Sequence[ThreadMessage]) -> set[str]:
    """Answers the asker acknowledged as working in their next message."""
    confirmed: set[str] = set()
    pending: list[str] = []
    for message in replies:
        if message.author == asker:
            if is_thanks(message.text or "") or _SUCCESS.search(message.text or ""):
                confirmed.update(pending)
            pending = []
        else:
            pending.append(message.id)
    return confirmed


_SUCCESS = re.compile(
    r"\b(?:worked|works now|gone|fixed|solved|syncs now|hat geklappt|klappt|funktioniert|gelöst|behoben)\b",
    re.IGNORECASE,
)


def _score(sentence: _Sentence, overlap: float, stems: int) -> float:
    """How useful a sentence is to someone with the same problem later."""
    score = 2.0 * overlap + 0.6 * math.log1p(sentence.message.reactions)
    if sentence.confirmed:
        score += 1.0
    if is_instruction(sentence.text):
        score += 0.7
    if _URL.search(sentence.text):
        score += 0.3
    if sentence.kind is Kind.QUESTION:
        score -= 1.0  # a counter-question narrows the problem but is not the answer
    return score + 0.3 / (1 + sentence.message.position) + min(stems, 12) / 24


def _arrange(ranked: Sequence[_Sentence]) -> _Card:
    """Sort the ranked sentences into the card's sections; a lone instruction is what worked, not a list."""
    candidates = [s for s in ranked if s.kind is Kind.STEP]
    solution = _what_worked(ranked, sequence=len(candidates) >= 2)
    steps = _in_order([s for s in candidates if s not in solution])
    tips = sorted([s for s in ranked if s.kind is Kind.TIP and s.relevant][:MAX_TIPS], key=lambda s: s.order)
    return _Card(solution=solution, steps=steps, tips=tips)


def _what_worked(ranked: Sequence[_Sentence], *, sequence: bool) -> list[_Sentence]:
    """One or two answer sentences, from the answers the asker confirmed when there are any. The steps of a
    sequence stay together in their own section; when the best sentence left is much weaker than them, the
    steps are what worked and this section stays empty rather than showing a side remark."""
    answers = [s for s in ranked if s.kind is not Kind.QUESTION]
    if any(s.confirmed for s in answers):
        answers = [s for s in answers if s.confirmed]
    pool = [s for s in answers if s.kind is Kind.PLAIN or (s.kind is Kind.STEP and not sequence)]
    if not pool or pool[0].score < MIN_SOLUTION_SHARE * answers[0].score:
        return []
    best = pool[0]
    second = [s for s in pool[1:MAX_SOLUTION_SENTENCES] if s.score >= SECOND_SENTENCE_SHARE * best.score]
    return sorted([best, *second], key=lambda s: s.order)


def _in_order(steps: Sequence[_Sentence]) -> list[_Sentence]:
    """Explicit numbers order the steps; an unnumbered step stays after the numbered one it followed in the
    thread (it continues that step), and without numbers the thread's order holds."""
    if len(steps) > MAX_STEPS:
        steps = sorted(steps, key=lambda s: (s.number is None, -s.score, s.order))[:MAX_STEPS]
    keyed: list[tuple[int, int, _Sentence]] = []
    latest = 0
    seen: set[str] = set()
    for step in sorted(steps, key=lambda s: s.order):
        latest = step.number if step.number is not None else latest
        if step.text not in seen:
            seen.add(step.text)
            keyed.append((latest, step.order, step))
    return [step for _, _, step in sorted(keyed, key=lambda k: (k[0], k[1]))]


def _tags(messages: Sequence[ThreadMessage]) -> tuple[str, ...]:
    """The thread's topics: the question's first, then those two replies come back to (one module names topics
    for lessons, digests, nudges and the audit alike)."""
    root, replies = messages[0], messages[1:]
    texts = [*[root.text or ""] * 3, *(m.text or "" for m in replies)]  # the question counts three times
    return tuple(topics(texts, limit=MAX_TAGS, min_texts=2))
