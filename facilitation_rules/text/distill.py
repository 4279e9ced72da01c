"""Offline distillation: a thread in, a short lesson out (title, summary, key steps, tags, contributors).

The method is extractive, so it needs no model and invents nothing: it keeps the asker's problem statement and
the answer sentences that were most useful, judged by signals a thread carries in any language: reactions,
who wrote them (not the asker), whether the asker confirmed success right after, step markers and links, and
how much they share with the question. `mask_private` removes contact data and secrets before any text
leaves the organisation (the LLM path).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.lessons import LessonDraft, ThreadMessage
from bot.core.text.tokens import terms_with_words
from facilitation_rules.text.cues import is_greeting, is_thanks

MAX_TITLE_CHARS = 80
MAX_SUMMARY_SENTENCES = 2
MAX_STEPS = 6
MAX_TAGS = 5
MIN_SENTENCE_WORDS = 4

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"'„“(A-ZÄÖÜ0-9])|\n+")
_URL = re.compile(r"https?://[^\s<>|]+")
_STEP_CUE = re.compile(
    r"^\s*(?:step|schritt)\s*\d+|^\s*(?:\d+[.)]|[-•*])\s+|→|->|\b(?:first|then|next|finally|zuerst|dann|danach"
    r"|anschließend|abschließend)\b",
    re.IGNORECASE,
)
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
    score: float = 0.0


def sentences(text: str) -> list[str]:
    """Split chat text into sentences (line breaks end one too)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def distill(thread: Sequence[ThreadMessage], *, title: str | None = None) -> LessonDraft:
    """The lesson an offline reader would write: the problem, what worked, the steps, the people."""
    usable = sorted((m for m in thread if m.text and not m.bot), key=lambda m: m.position)
    if not usable:
        return LessonDraft(title=(title or "").strip(), summary="")
    root = usable[0]
    replies = usable[1:]
    problem = _problem(root.text or "")
    question_stems = {stem for stem, _ in terms_with_words(root.text or "")}
    picked = _rank_answers(root, replies, question_stems)
    solution = sorted(picked[:MAX_SUMMARY_SENTENCES], key=lambda s: s.order)
    steps = _steps(picked)
    links = tuple(dict.fromkeys(url.rstrip(".,)") for m in usable for url in _URL.findall(m.text or "")))
    summary = " ".join([problem, *(s.text for s in solution)]).strip()
    contributors = tuple(dict.fromkeys([root.author, *(s.message.author for s in solution),
                                        *(s.message.author for s in picked if s.text in steps)]))
    return LessonDraft(
        title=_shorten((title or "").strip() or _title(problem), MAX_TITLE_CHARS),
        summary=summary,
        steps=steps,
        tags=_tags(usable, question_stems),
        contributors=contributors,
        links=links,
    )


def _problem(text: str) -> str:
    """The root's problem statement: its first sentences up to the first question, without a greeting."""
    parts = [s for s in sentences(_URL.sub("", text)) if not is_greeting(s)]
    chosen: list[str] = []
    for part in parts:
        chosen.append(_LEADING_GREETING.sub("", part))
        if "?" in part or len(" ".join(chosen)) > 120:
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
    """Answer sentences, best first."""
    confirmed = _confirmed_messages(root.author, replies)
    ranked: list[_Sentence] = []
    order = 0
    for message in replies:
        if message.author == root.author:
            continue  # the asker's replies report progress; the answers come from the others
        for text in sentences(message.text or ""):
            order += 1
            if len(text.split()) < MIN_SENTENCE_WORDS or is_greeting(text) or (is_thanks(text) and "?" not in text):
                continue
            sentence = _Sentence(text, message, order)
            sentence.score = _score(sentence, question, message.id in confirmed)
            ranked.append(sentence)
    ranked.sort(key=lambda s: (-s.score, s.order))
    return ranked


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


def _score(sentence: _Sentence, question: set[str], confirmed: bool) -> float:
    """How useful a sentence is to someone with the same problem later."""
    stems = {stem for stem, _ in terms_with_words(sentence.text)}
    overlap = len(stems & question) / len(question) if question else 0.0
    score = 2.0 * overlap + 0.6 * math.log1p(sentence.message.reactions)
    if confirmed:
        score += 1.0
    if _STEP_CUE.search(sentence.text):
        score += 0.7
    if _URL.search(sentence.text):
        score += 0.3
    if sentence.text.rstrip().endswith("?"):
        score -= 1.0  # a counter-question narrows the problem but is not the answer
    return score + 0.3 / (1 + sentence.message.position) + min(len(stems), 12) / 24


def _steps(picked: Sequence[_Sentence]) -> tuple[str, ...]:
    """Sentences that read like instructions, in thread order."""
    steps = [s for s in picked if _STEP_CUE.search(s.text) and not s.text.rstrip().endswith("?")]
    steps.sort(key=lambda s: s.order)
    return tuple(_shorten(s.text, 240) for s in steps[:MAX_STEPS])


def _tags(messages: Sequence[ThreadMessage], question: set[str]) -> tuple[str, ...]:
    """Words the thread keeps coming back to, favouring the question's; shown as the most common spelling."""
    spread: Counter[str] = Counter()
    spelling: dict[str, Counter[str]] = {}
    first_seen: dict[str, int] = {}
    for index, message in enumerate(messages):
        seen = set()
        for stem, word in terms_with_words(message.text or ""):
            if len(word) < 3 or any(ch.isdigit() for ch in word):
                continue
            spelling.setdefault(stem, Counter())[word] += 1
            first_seen.setdefault(stem, index)
            seen.add(stem)
        spread.update(seen)
    scored = {stem: count + (2 if stem in question else 0) for stem, count in spread.items()}
    best = sorted(scored, key=lambda stem: (-scored[stem], first_seen[stem]))
    return tuple(spelling[stem].most_common(1)[0][0] for stem in best[:MAX_TAGS] if scored[stem] >= 2)
