"""Fast English/German language guess for short chat messages.

Chat messages are short and often lower-case, so statistical models are overkill and slow; counting
frequent function words and German-only letters separates the two languages well enough, and the
channel's language breaks ties.
"""

from __future__ import annotations

import re
from functools import lru_cache

SUPPORTED = ("en", "de")
DEFAULT_LANGUAGE = "en"

def _wordset(text: str) -> frozenset[str]:
    """Whitespace-separated word list, written as a block of text for readability."""
    return frozenset(text.split())


_WORD = re.compile(r"[a-zäöüß']+")
_GERMAN_LETTERS = "äöüß"

_EN_WORDS = _wordset(
    """
    the a an and or but of to in on at for with from by is are was were be been am do does did
    have has had will would can could should shall may might must not no yes it its this that these
    those there here what which who whom whose when where why how i you he she we they me him her us
    them my your his our their if then than just about any some anyone someone anybody
    somebody know thanks thank please hello yeah what's it's i'm don't doesn't
    can't isn't won't didn't i've you're that's there's let's get got need want use using work works
    today tomorrow great good morning new last next week now again sorry right everyone see
    """
)

_DE_WORDS = _wordset(
    """
    der die das den dem des ein eine einen einem einer eines und oder aber nicht kein keine ist sind
    war waren bin bist sein hat habe haben hast hatte wird werden wurde kann kannst können könnte
    muss müssen soll sollte will wollen wer was wann wo wie warum wieso weshalb welche welcher welches
    ich du er sie es wir ihr mich mir dich dir uns euch mein meine dein deine unser ihr ihre man auch
    also noch schon nur mal doch ja nein nee danke bitte hallo moin servus tschüss mit von zu zum zur bei
    für auf aus nach über unter vor im als wenn dass daß ob weil denn dann hier gibt
    jemand irgendwie eigentlich gerne gern geht klappt weiß nichts etwas alles sehr gut super
    heute morgen zusammen alle allen guten tag toll tolle bis beim startet minuten stimmt passt echt
    genau leider vielleicht immer wieder jetzt gestern mehr neue neuen neues woche nächste letzte
    """
)

# Words spelled identically in both languages carry no signal.
_SHARED = _EN_WORDS & _DE_WORDS
_EN_ONLY = _EN_WORDS - _SHARED
_DE_ONLY = _DE_WORDS - _SHARED


@lru_cache(maxsize=4096)
def _scores(text: str) -> tuple[float, float]:
    """Return (english, german) evidence counts for `text`; cached because chat repeats short lines."""
    lower = text.lower()
    en = de = 0.0
    for word in _WORD.findall(lower):
        if word in _EN_ONLY:
            en += 1.0
        elif word in _DE_ONLY:
            de += 1.0
    de += 0.5 * sum(map(lower.count, _GERMAN_LETTERS))
    return en, de


def detect_language(text: str, hint: str | None = None) -> str:
    """'en' or 'de'. Fast stop-word/character based.

    `hint` (channel/workspace language) breaks ties and short texts.
    """
    fallback = hint if hint in SUPPORTED else DEFAULT_LANGUAGE
    en, de = _scores(text)
    margin = 1.0 if hint in SUPPORTED else 0.0
    # A hinted language needs to be clearly out-voted before it is overruled.
    if fallback == "en":
        return "de" if de > en + margin else "en"
    return "en" if en > de + margin else "de"
