"""Tokenisation shared by the ranking code: plain words in, stemmed index terms out (English and German).

Chat text carries links, mentions, emoji codes and code blocks that say nothing about a topic, and the
same topic appears in many inflections ("Berechtigung", "Berechtigungen"). Ranking therefore works on
lower-cased, stop-word-free, stemmed terms. The language is chosen per text, so a German question and
an English answer in the same community are both stemmed correctly.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import snowballstemmer

from bot.core.text.language import detect_language

Language = Literal["en", "de"]

_FENCED_CODE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SLACK_LINK_LABEL = re.compile(r"<[^<>|\s]+\|([^<>]*)>")
_ANGLE_MARKUP = re.compile(r"<[^<>\s]*>")
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-]+:", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")

_ENGLISH_STOP_WORDS_TEXT = """
    a about above after again against all also am an and any anyone anything are as at be because been
    before being below between both but by can cannot could did do does doing done down during each else
    etc even ever every few for from further get gets getting got had has have having he her here hers
    herself him himself his how however i if in into is it its itself just let like ll me might more most
    much must my myself need no nor not now of off on once one only or other our ours ourselves out over
    own please re really same she should so some something still such than thank thanks that the their
    theirs them themselves then there these they thing things this those through to too under until up us
    ve very via want was way we well were what when where whether which while who whom why will with
    would yes yet you your yours yourself yourselves hi hello hey ok okay question questions anybody
    somebody someone idea ideas know think use used using make makes making along across without
    within none mine since though although maybe perhaps quite rather lot lots see look
    looking tried try trying first last next new old good great best better many quick sure today
    tomorrow yesterday week day time morning anyone's everyone everything message
"""

_GERMAN_STOP_WORDS_TEXT = """
    aber alle allem allen aller alles als also am an ander andere anderen anderer anderes auch auf aus
    bei beim bin bis bist bitte da dabei dadurch dafür dagegen daher damit dann darauf darf darum das
    dass davon dazu dein deine dem den denn der des deshalb dessen die dies diese diesem diesen dieser
    dieses doch dort du durch eben ein eine einem einen einer eines einfach einige etwas euch euer
    eure für gab gibt geht gehen gern gerne habe haben hat hatte hätte hier hin hinter ich ihm ihn ihnen
    ihr ihre im immer in ist ja jede jedem jeden jeder jetzt kann kannst kein keine keinem keinen
    können könnte machen macht mal man mehr mein meine mich mir mit muss müssen nach nicht nichts noch
    nun nur ob oder ohne schon sehr sein seine sich sie sind so soll sollte sondern sowie über um und
    uns unser unsere unter viel vom von vor wann war waren warum was weil weiß welche welcher welches
    wenn wer werden wie wieder will wir wird wo wohl wollen würde zu zum zur zwar zwischen hallo danke
    frage fragen jemand weiß wisst erst erste ersten neu neue neuen gut gute heute morgen gestern woche
    tag zeit kurz kurze kurzer schnell jemanden
"""

ENGLISH_STOP_WORDS = frozenset(_ENGLISH_STOP_WORDS_TEXT.split())
GERMAN_STOP_WORDS = frozenset(_GERMAN_STOP_WORDS_TEXT.split())
_STEMMER_NAMES: dict[Language, str] = {"en": "english", "de": "german"}
_STOP_WORDS: dict[Language, frozenset[str]] = {"en": ENGLISH_STOP_WORDS, "de": GERMAN_STOP_WORDS}
_STEMMERS = {lang: snowballstemmer.stemmer(name) for lang, name in _STEMMER_NAMES.items()}


def strip_markup(text: str) -> str:
    """Drop what carries no topic, keeping the case: code blocks, links, mentions, emoji codes."""
    text = _FENCED_CODE.sub(" ", text)
    text = _SLACK_LINK_LABEL.sub(r" \1 ", text)
    text = _URL.sub(" ", text)
    text = _ANGLE_MARKUP.sub(" ", text)
    return _EMOJI_CODE.sub(" ", text)


def clean(text: str) -> str:
    """Lower-case and drop what carries no topic: code blocks, links, mentions, emoji codes."""
    return strip_markup(text).lower()


def words(text: str) -> list[str]:
    """The lower-cased words of a text after markup is removed (letters and digits only)."""
    return _WORD.findall(clean(text))


@lru_cache(maxsize=65536)
def stem(word: str, language: Language) -> str:
    """Stem one lower-cased word; cached because chat vocabulary repeats constantly."""
    return str(_STEMMERS[language].stemWord(word))


def terms_with_words(text: str, language: Language | None = None) -> list[tuple[str, str]]:
    """(stem, word) pairs of the text's content words, in order; the word explains a match to people."""
    return list(_terms_with_words(text, language))


@lru_cache(maxsize=1024)
def _terms_with_words(text: str, language: Language | None) -> tuple[tuple[str, str], ...]:
    """Cached: a question's text is analysed again for each of its answers."""
    word_list = words(text)
    lang: Language = language or ("de" if detect_language(text) == "de" else "en")
    stop = _STOP_WORDS[lang]
    return tuple(
        (stem(word, lang), word)
        for word in word_list
        if len(word) > 1 and not word.isdigit() and word not in stop and word not in ENGLISH_STOP_WORDS
    )


def terms(text: str, language: Language | None = None) -> list[str]:
    """Stemmed content terms of a text, in order, repeats kept (for term frequencies)."""
    return [term for term, _ in terms_with_words(text, language)]
