"""Question detection for English and German chat messages.

Steward must notice information-seeking questions whether or not they carry a "?", and must not
flag greetings, backchannels ("oh really?"), rhetorical questions or jokes. The detector is a
small set of linguistic rules (question marks, wh-words, verb-first clauses, requests for help,
problem reports) applied per sentence, so it stays fast, explainable and offline.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.text.language import detect_language
from facilitation_rules.text.clauses import (
    FRAGMENT,
    FRAGMENT_WORDS,
    HANDLE,
    PROBLEM,
    THRESHOLD,
    WORD,
    normalize,
    split_sentences,
    word_list,
)
from facilitation_rules.text.questions_de import classify_de
from facilitation_rules.text.questions_en import TECHNICAL, classify_en

__all__ = ["HANDLE", "THRESHOLD", "QuestionVerdict", "classify_question", "is_question", "normalize", "split_sentences"]

logger = logging.getLogger(__name__)

_CERTAIN = 0.85  # a sentence this clearly a question settles the message
_ECHO_SCORE = 0.4


@dataclass(frozen=True, slots=True)
class QuestionVerdict:
    """Outcome of question detection; `reason` names the rule that decided it."""

    is_question: bool
    score: float  # 0..1
    language: str  # 'en' | 'de'
    reason: str  # short machine-readable reason, e.g. "qmark", "wh-start", "request-for-info", "rhetorical"


# Joke set-ups: a question answered by its own punchline in the same message.
_JOKE_SETUP = re.compile(
    r"\W*(?:why did the|what do you call an?|how many \w+ does it take|warum ging (?:der|die|das)|"
    r"wie nennt man (?:einen|eine|ein)|wie viele \w+ braucht man)\b",
    re.I,
)

# The idiom that turns the question before it into a joke.
_JOKE_TAG = re.compile(r"\b(?:asking for a friend|frage für einen freund)\b", re.I)

# A question closed by a laughing or winking face is banter ("Next time in Hamburg? 😉"); a nervous smile is not.
_PLAYFUL_FACES = "😄😆😂🤣😉😜😁"
_PLAYFUL_END = re.compile(rf"\?[\s!]*(?:[{_PLAYFUL_FACES}]\s*)+$")

# A quotation: what someone else said or wrote, in English or German quotation marks.
_QUOTED = re.compile(r'"[^"\n]{3,}"|“[^”\n]{3,}”|„[^“”\n]{3,}[“”]|«[^»\n]{3,}»|»[^«\n]{3,}«')


def _outside_quotes(text: str) -> str:
    """The message without a quoted question, when the message itself says something else and asks nothing:
    'First message from the floor: "Is there a channel for the coffee machine?"' reports a question."""
    if '"' not in text and not any(mark in text for mark in "“„«»"):
        return text
    outside = _QUOTED.sub(" ", text)
    if outside == text or "?" in outside or "?" not in text or len(WORD.findall(outside)) < 2:
        return text
    return outside


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------
_CLASSIFIERS: dict[str, Callable[[str, list[str]], tuple[float, str]]] = {
    "en": classify_en,
    "de": classify_de,
}


def _has_more_words(sentences: list[str]) -> bool:
    """Whether the rest of a message says something (not just "lol" or an emoticon)."""
    return sum(len(WORD.findall(s)) for s in sentences) >= FRAGMENT_WORDS


def classify_question(text: str, language_hint: str | None = None) -> QuestionVerdict:
    """Decide whether a chat message asks for information, and why."""
    if _PLAYFUL_END.search(text):
        return QuestionVerdict(False, 0.2, detect_language(normalize(text), language_hint), "playful")
    clean = normalize(text)
    language = detect_language(clean, language_hint)
    clean = _outside_quotes(clean)
    classify = _CLASSIFIERS[language]
    best_score, best_reason = 0.0, "no-cue"
    sentences = split_sentences(clean)
    if len(sentences) > 1 and (_JOKE_SETUP.match(sentences[0]) or _JOKE_TAG.search(sentences[-1])):
        return QuestionVerdict(False, 0.15, language, "joke")
    last = len(sentences) - 1
    for index, sentence in enumerate(sentences):
        words = word_list(sentence)
        if not words:
            continue
        score, reason = classify(sentence, words)
        if reason == PROBLEM and language == "en" and not TECHNICAL.search(clean):
            score, reason = _ECHO_SCORE, "complaint"
        if reason == FRAGMENT:
            goes_on = index < last and _has_more_words(sentences[index + 1 :])
            score, reason = (_ECHO_SCORE, "echo") if goes_on else (score, "qmark")
        if score > best_score:
            best_score, best_reason = score, reason
            if score >= _CERTAIN:
                break
    return QuestionVerdict(best_score >= THRESHOLD, best_score, language, best_reason)


def is_question(text: str, language_hint: str | None = None) -> bool:
    """Shorthand for `classify_question(...).is_question`."""
    return classify_question(text, language_hint).is_question
