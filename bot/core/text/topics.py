"""Topics people would name: the noun phrases a text is about, not stems of its most frequent words.

"What did they talk about?" is answered in a digest line, an expert's nudge and an audit table, so the answer
has to read like a person's: "works council", "SharePoint site", "Berechtigung", never "sagen, alten, drei".
Each text is tagged with the Hanover Tagger (HanTa, English and German models shipped in its wheel); a topic
is a run of nouns, in English with the adjectives before it, that holds at least one common noun. A proper
noun alone is a topic only when it is written like a product or an acronym (OneDrive, SAP): first names,
cities and weekdays are not what a community talks *about*. Stop words of both languages, generic nouns
("way", "Frage"), day and month names (from Babel's locale data) and the names of members never count.

The result is deterministic: texts are ranked by how many of them mention a phrase, then by the phrase.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal

from babel import Locale

from bot.core.text.language import detect_language
from bot.core.text.tokens import ENGLISH_STOP_WORDS, GERMAN_STOP_WORDS, stem, strip_markup

logger = logging.getLogger(__name__)

Language = Literal["en", "de"]

MAX_PHRASE_WORDS = 3
_TAGGING = threading.Lock()

# Nouns that name no subject: what any question is made of, in either language.
_GENERIC_NOUNS_TEXT = """
    way ways thing things stuff lot lots bit people person guy guys folks everyone anybody problem
    problems issue issues question questions answer answers idea ideas help hint tip tips experience
    example case kind sort type part point end start moment minute minutes hour hours day days week weeks
    month months year years time times today tomorrow yesterday morning afternoon evening night weekend
    number sense matter reason fact side place bunch info information update thanks thank hi hello
    frage fragen antwort antworten problem probleme idee ideen hilfe tipp tipps hinweis erfahrung erfahrungen
    sache sachen ding dinge leute mensch menschen person personen beispiel fall art teil punkt ende anfang
    moment minute minuten stunde stunden tag tage tagen woche wochen monat monate jahr jahre zeit mal
    heute morgen gestern abend nacht wochenende grund info infos danke hallo weg möglichkeit heads-up fyi
    step steps schritt schritte top
"""
_GENERIC_NOUNS = frozenset(_GENERIC_NOUNS_TEXT.split())

# Nouns that name a topic only with a word before them: "finance team", "SharePoint folder", "Teams-Kanal".
_VAGUE_ALONE_TEXT = """
    team teams group groups colleague colleagues file files document documents channel channels thread threads
    message messages email emails mail mails link links
    kollege kollegen kollegin kolleginnen gruppe gruppen datei dateien dokument dokumente kanal kanäle nachricht
    nachrichten mail mails link links
"""
_VAGUE_ALONE = frozenset(_VAGUE_ALONE_TEXT.split())

# Adjectives that say how much or which, not what kind: "the whole workspace" is about the workspace.
_UNTELLING_ADJECTIVES_TEXT = """
    whole entire other same own different various several certain main particular specific general real actual
    current latest final total full complete usual normal common possible available right wrong little big small
    large huge able unable easy hard
"""
_UNTELLING_ADJECTIVES = frozenset(_UNTELLING_ADJECTIVES_TEXT.split())

_POSSESSIVE = re.compile(r"['’]s\b")  # "the channel's SharePoint site": two topics, not one
_WORD = re.compile(r"[^\W\d_](?:[\w’'-]*[^\W_])?|[.!?;:]")
_SENTENCE_END = frozenset(".!?;:")
_PRODUCT_LIKE = re.compile(r"^(?:[A-Z0-9]{2,6}s?|[A-Za-z]*[a-z][A-Z][\w-]*)$")  # SAP, OKRs, OneDrive, iPhone


@dataclass(frozen=True, slots=True)
class Phrase:
    """One topic in one text: `key` compares phrases across texts and inflections, `text` is shown."""

    key: str
    text: str
    common: bool  # holds a common noun (a proper noun alone is a weaker topic)


def phrases(text: str, language: str | None = None, *, names: Collection[str] = ()) -> tuple[Phrase, ...]:
    """The topics of one text, strongest first (common-noun phrases, longer ones, earlier ones), once each."""
    found = _phrases(text, _language(text, language))
    excluded = _name_words(names)
    kept = [p for p in found if not excluded.intersection(p.key.split())]
    return tuple(sorted(kept, key=lambda p: (not p.common, -len(p.key.split()))))


def topics(
    texts: Iterable[str],
    *,
    limit: int = 3,
    names: Collection[str] = (),
    min_texts: int = 1,
    language: str | None = None,
) -> list[str]:
    """The phrases most texts mention, each as people most often wrote it; ties broken by the phrase itself."""
    mentions: Counter[str] = Counter()
    shown: dict[str, Counter[str]] = {}
    strength: dict[str, bool] = {}
    for text in texts:
        for phrase in phrases(text or "", language, names=names):
            mentions[phrase.key] += 1
            shown.setdefault(phrase.key, Counter())[phrase.text] += 1
            strength[phrase.key] = strength.get(phrase.key, False) or phrase.common
    ranked = sorted(
        (key for key, n in mentions.items() if n >= min_texts),
        key=lambda key: (-mentions[key], not strength[key], -len(key.split()), key),
    )
    return [_most_written(shown[key]) for key in _without_parts(ranked)[:limit]]


def matching(
    text: str, words: Sequence[str], language: str | None = None, *, names: Collection[str] = (), limit: int = 3
) -> list[str]:
    """The text's topics that hold one of these words (any inflection), in the words' order: why a match matched."""
    lang = _language(text, language)
    found = phrases(text, lang, names=names)
    picked: list[Phrase] = []
    for word in words:
        wanted = stem(word.lower(), lang)
        for phrase in found:
            if phrase not in picked and wanted in _stems(phrase, lang):
                picked.append(phrase)
                break
    return [p.text for p in picked[:limit]]


# -- tagging ---------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _phrases(text: str, language: Language) -> tuple[Phrase, ...]:
    """Cached: a question's text is read again for the digest, the audit and every nudge about it."""
    tokens = _WORD.findall(_POSSESSIVE.sub(" ; ", strip_markup(text)))
    if not tokens:
        return ()
    if language == "en":
        tokens = _without_sentence_capitals(tokens)
    with _TAGGING:  # the digest and the audit tag in worker threads; one tagger is not known to be thread-safe
        tagged = _tagger(language).tag_sent(tokens, taglevel=1, casesensitive=False)
    found: dict[str, Phrase] = {}
    for run in _noun_runs(tagged, language):
        phrase = _phrase(run, language)
        if phrase is not None and phrase.key not in found:
            found[phrase.key] = phrase
    return tuple(found.values())


def _without_sentence_capitals(tokens: list[str]) -> list[str]:
    """English capitalises a word only to open a sentence; elsewhere a capital marks a name ("Teams", "Jira")."""
    opened = True
    result = []
    for token in tokens:
        if opened and token[:1].isupper() and token[1:].islower():
            token = token.lower()
        result.append(token)
        opened = token in _SENTENCE_END
    return result


def _noun_runs(tagged: Sequence[tuple[str, str, str]], language: Language) -> Iterable[list[tuple[str, str, str]]]:
    """Maximal runs of (adjectives +) nouns, cut at punctuation and at words that can be no part of a topic."""
    run: list[tuple[str, str, str]] = []
    for word, lemma, tag in tagged:
        kind = _kind(tag, language)
        if kind == "adjective" and language == "en":
            if any(_kind(t, language) != "adjective" for _, _, t in run):
                yield from _trimmed(run, language)  # an adjective after a noun opens the next phrase
                run = []
            run.append((word, lemma, tag))
        elif kind in ("noun", "proper") and not _excluded(word, lemma, language):
            run.append((word, lemma, tag))
        else:
            yield from _trimmed(run, language)
            run = []
    yield from _trimmed(run, language)


def _trimmed(run: list[tuple[str, str, str]], language: Language) -> Iterable[list[tuple[str, str, str]]]:
    """A run without trailing adjectives, at most MAX_PHRASE_WORDS long (the words nearest the head noun)."""
    while run and _kind(run[-1][2], language) == "adjective":
        run = run[:-1]
    if run:
        yield run[-MAX_PHRASE_WORDS:]


def _phrase(run: list[tuple[str, str, str]], language: Language) -> Phrase | None:
    kinds = [_kind(tag, language) for _, _, tag in run]
    common = "noun" in kinds
    if len(run) == 1 and {run[0][0].lower(), run[0][1].lower()} & _VAGUE_ALONE:
        return None
    if not common and not all(_PRODUCT_LIKE.match(word) for word, _, _ in run):
        return None  # a name or a place on its own
    if any(kind == "adjective" and _excluded(word, lemma, language) for (word, lemma, _), kind in
           zip(run, kinds, strict=True)):
        run = [item for item, kind in zip(run, kinds, strict=True) if kind != "adjective"]
    alone = len(run) == 1
    pairs = list(zip(run, kinds, strict=False))
    shown = [_shown(word, lemma, kind, language, alone=alone) for (word, lemma, _), kind in pairs]
    key = " ".join(_key(word, lemma, kind) for (word, lemma, _), kind in pairs)
    return Phrase(key=key, text=" ".join(shown), common=common)


def _kind(tag: str, language: Language) -> str:
    """Tag families of the two tag sets HanTa uses (STTS for German, CLAWS C5 for English)."""
    if language == "de":
        if tag == "NN":
            return "noun"
        if tag == "NE":
            return "proper"
        return "adjective" if tag.startswith("ADJ(A") else "other"
    if tag in ("NN0", "NN1", "NN2"):
        return "noun"
    if tag == "NP0":
        return "proper"
    return "adjective" if tag == "AJ0" else "other"


def _excluded(word: str, lemma: str, language: Language) -> bool:
    folded, lemma_folded = word.lower(), lemma.lower()
    if len(folded) < 2 or "'" in folded or "’" in folded or folded in _calendar_words():  # "didn't", "I'm"
        return True
    stop = ENGLISH_STOP_WORDS | GERMAN_STOP_WORDS
    return bool({folded, lemma_folded} & (stop | _GENERIC_NOUNS | _UNTELLING_ADJECTIVES))


def _shown(word: str, lemma: str, kind: str, language: Language, *, alone: bool) -> str:
    """How a word of a topic is shown: the lemma alone ("Berechtigung"), as written inside a phrase.

    Names and product-like words keep their spelling ("OneDrive", "SAP"); German nouns are capitalised even when
    the writer did not bother, English common nouns lose a capital that only opened the sentence.
    """
    if kind == "proper" or _PRODUCT_LIKE.match(word):
        return word if any(ch.isupper() for ch in word) else word.capitalize()
    if language == "de":
        written = word if alone is False or "-" in word else lemma
        return "-".join(part[:1].upper() + part[1:] for part in written.split("-"))
    if any(ch.isupper() for ch in word):
        return word  # capitalised inside a sentence: a name the writer chose ("Teams channel")
    return lemma.lower() if alone else word


def _key(word: str, lemma: str, kind: str) -> str:
    return (word if kind == "proper" or "-" in word else lemma).lower()


def _stems(phrase: Phrase, language: Language) -> set[str]:
    """The stems of the phrase's words, so a ranking term ("berechtigungen") finds "Berechtigung"."""
    return {stem(word, language) for word in re.findall(r"[^\W_]+", f"{phrase.key} {phrase.text.lower()}")}


def _most_written(spellings: Counter[str]) -> str:
    return sorted(spellings.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def _without_parts(ranked: list[str]) -> list[str]:
    """Drop a phrase whose words all sit inside a better-ranked one ("site" after "SharePoint site")."""
    kept: list[str] = []
    for key in ranked:
        words = set(key.split())
        if not any(words <= set(better.split()) for better in kept):
            kept.append(key)
    return kept


def _language(text: str, language: str | None) -> Language:
    if language in ("en", "de"):
        return "de" if language == "de" else "en"
    return "de" if detect_language(text) == "de" else "en"


@cache
def _tagger(language: Language) -> Any:
    """The tagger is loaded once per process (a third of a second each): most processes never need it."""
    from HanTa import HanoverTagger  # loaded on first use, not at import

    model = "morphmodel_ger.pgz" if language == "de" else "morphmodel_en.pgz"
    logger.debug("loading the %s part-of-speech model", language)
    return HanoverTagger.HanoverTagger(model)


@cache
def _calendar_words() -> frozenset[str]:
    """Day and month names in both languages, wide and abbreviated: dates are never a topic."""
    words: set[str] = set()
    for code in ("en", "de"):
        locale = Locale.parse(code)
        for names in (locale.days, locale.months):
            for context in names.values():
                for width in ("wide", "abbreviated"):
                    words.update(str(name).lower().rstrip(".") for name in context.get(width, {}).values())
    return frozenset(words)


@lru_cache(maxsize=256)
def _name_words_cached(names: frozenset[str]) -> frozenset[str]:
    return frozenset(part for name in names for part in re.findall(r"[^\W\d_]+", name.lower()) if len(part) > 1)


def _name_words(names: Collection[str]) -> frozenset[str]:
    """Every word of every member's name: "Anna Schmidt" rules out "anna" and "schmidt"."""
    return _name_words_cached(frozenset(names)) if names else frozenset()
