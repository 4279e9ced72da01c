"""Shared primitives for question detection: markup removal, sentences, words and word lists.

The language-specific rules (`questions_en`, `questions_de`) and the public detector (`questions`) all
see a message through these, so "what is a word" and "what ends a sentence" are decided in one place.
"""

from __future__ import annotations

import re
from functools import lru_cache


def wordset(text: str) -> frozenset[str]:
    """Whitespace-separated word list, written as a block of text for readability."""
    return frozenset(text.split())


def phrases(text: str) -> frozenset[str]:
    """ "|"-separated phrase list (phrases may contain spaces)."""
    return frozenset(phrase.strip() for phrase in text.split("|"))


THRESHOLD = 0.5
# Mentions and nick-like tokens become this placeholder: a person the clause may address or be about.
HANDLE = "xuserx"
_HANDLE_SUB = f" {HANDLE} "
_NICK = re.compile(r"(?<![\w/])(?=[\w.\-]*[a-zA-Z])(?=[\w.\-]*\d)[\w.\-]{4,}")
# A short verbless "?" phrase followed by more text echoes the other speaker ("Snow? We never get snow.").
FRAGMENT = "qmark-fragment"
FRAGMENT_WORDS = 3
PROBLEM = "problem-report"


# --------------------------------------------------------------------------------------------------
# Normalisation: strip platform markup so the rules see only prose.
# --------------------------------------------------------------------------------------------------
# (characters that must occur for the rule to apply, pattern, replacement); the guard keeps plain
# messages from paying for every substitution.
_MARKUP_SUBS: tuple[tuple[tuple[str, ...] | None, re.Pattern[str], str], ...] = (
    (("```",), re.compile(r"```.*?(?:```|\Z)", re.S), "\n"),  # fenced code blocks (possibly unterminated)
    (("`",), re.compile(r"`[^`\n]+`"), " code "),  # inline code behaves like a noun
    (("<",), re.compile(r"<(?:https?|mailto):[^>|]*(?:\|([^>]*))?>"), r" \1 "),  # Slack links, keep label
    (("://", "www."), re.compile(r"https?://\S+|www\.\S+"), " link "),
    (("<",), re.compile(r"<@[!&]?[^>]*>"), f" {HANDLE} "),  # Slack/Discord user and role mentions
    (("<",), re.compile(r"<(?:#|!)[^>]*>"), " "),  # channel mentions, @here
    (("<",), re.compile(r"<a?:\w+:\d+>"), " "),  # Discord custom emoji
    ((":",), re.compile(r"(?<![\w:]):[a-z0-9_+\-]+:(?!\w)", re.I), " "),  # :emoji: shortcodes
    (("@",), re.compile(r"(?<!\w)@[\w.\-]+[:,]?"), f" {HANDLE} "),  # @mentions
    ((">",), re.compile(r"^\s*>.*$", re.M), " "),  # quoted lines are someone else's words
    # nick names, ids and versions (letters mixed with digits)
    (tuple("0123456789"), _NICK, _HANDLE_SUB),
    (None, re.compile(r"(\w)\1{2,}"), r"\1"),  # stretched words: "sooo", "hmmmm"
    (tuple("’‘`´"), re.compile(r"[’‘`´]"), "'"),
    (("？",), re.compile(r"[？]"), "?"),
)
_SPACES = re.compile(r"[ \t]+")


@lru_cache(maxsize=512)
def normalize(text: str) -> str:
    """Remove chat markup (code, links, mentions, emoji) that would confuse the rules.

    Cached: the question detector and the cues look at the same message one after another.
    """
    for triggers, pattern, repl in _MARKUP_SUBS:
        if triggers is None or any(t in text for t in triggers):
            text = pattern.sub(repl, text)
    return _SPACES.sub(" ", text).strip()


# A sentence ends at a newline, or at . ! ? followed by space (a "?" stays with its sentence).
_SENTENCE = re.compile(r"[^\n.!?]*(?:[.!?]+(?=\s|$)|[.!?]+|\n|$)")
_TRAILING_JUNK = re.compile(r"[\s)\](}\"'*_~^:;,.\-=<>dDpP0-9]*$")
_QMARK_END = re.compile(r"\?[!?.1]*$")


# A title before a name ("Mr. Smith", "Dr. Weber") does not end a sentence.
_TITLE_DOT = re.compile(r"\b((?i:mr|mrs|ms|dr|prof|hr|fr))\.(?= \w)")


def split_sentences(text: str) -> list[str]:
    """Split into sentences; chat rarely punctuates, so newlines count as boundaries too."""
    if ". " in text:
        text = _TITLE_DOT.sub(r"\1", text)
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip(" \n.!")]


def ends_with_qmark(sentence: str) -> bool:
    """True if the sentence ends in "?" (ignoring trailing smileys and quotes)."""
    tail = sentence[-16:]  # bounded: anchored-at-end patterns are slow on long lines
    if not tail.endswith("?"):
        tail = _TRAILING_JUNK.sub("", tail)
    return bool(_QMARK_END.search(tail))


# --------------------------------------------------------------------------------------------------
# Shared word lists
# --------------------------------------------------------------------------------------------------
WORD = re.compile(r"[a-zäöüß0-9']+")


def word_list(sentence: str) -> list[str]:
    """Lower-case word tokens; repeated words ("wann wann") are collapsed as speech disfluency."""
    out: list[str] = []
    for word in WORD.findall(sentence.lower()):
        if not out or out[-1] != word:
            out.append(word)
    return out


def has_any(text: str, triggers: tuple[str, ...]) -> bool:
    """Cheap substring pre-check so the large alternation regexes run only on promising sentences."""
    return any(t in text for t in triggers)


def strip_leaders(words: list[str], leaders: frozenset[str]) -> list[str]:
    """Drop discourse markers ("well", "so", "ok", "ja", "also") that precede the real clause."""
    i = 0
    while i < len(words) - 1 and words[i] in leaders:
        i += 1
    return words[i:]
