"""Chat cues beyond questions: thanks (a question may be resolved), stuck members, greetings.

Each cue is a compiled pattern per language; both languages are checked when the language guess is
unsure, because community members mix English and German freely ("danke, works now").
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.core.text.language import detect_language
from facilitation_rules.text.clauses import HANDLE, normalize

_THANKS = {
    "en": re.compile(
        r"\b(?:thanks?|thx|thnx|thank you|ty|tysm|cheers|much appreciated|appreciate it|kudos)\b"
        r"|\b(?:works|working|worked) (?:now|again|fine now|like a charm)\b|\bthat (?:did|does) (?:it"
        r"|the trick)\b"
        r"|\b(?:solved|fixed|sorted) (?:it|now)\b|\b(?:problem|issue) (?:solved|fixed|resolved)\b"
        r"|\bgot it working\b"
    ),
    "de": re.compile(
        r"\b(?:danke|dankeschön|vielen dank|besten dank|merci|dank dir|dank euch)\b"
        r"|\bhat (?:jetzt |nun |endlich )?(?:geklappt|funktioniert)\b|\b(?:klappt|funktioniert|läuft"
        r"|geht) (?:jetzt|wieder|nun)\b"
        r"|\b(?:problem|fehler) (?:gelöst|behoben)\b"
    ),
}
# "thanks in advance" is part of a request, not gratitude for an answer.
_THANKS_IN_ADVANCE = re.compile(
    r"\b(?:thanks?|thank you) in advance\b|\bdanke (?:schon mal|im voraus|vorab)\b|\btia\b"
)
# Words of thanks that are no gratitude for help: declining an offer ("no thanks", "nein danke") and the
# sarcastic "thanks for nothing" ("danke für nichts").
_NOT_GRATITUDE = re.compile(
    r"(?:^|[.!?;:]\s*)(?:no|nope|nah|nein|nee|ne)\b[\s,.!]*(?:thanks?|thank you|thx|danke)\b"
    r"|\b(?:thanks?|thank you|danke)\s+(?:for|für)\s+(?:nothing|nichts)\b"
)
# A thanks followed by a report that it still fails ("thanks, but that didn't work", "danke, aber der Link
# funktioniert nicht"): gratitude for trying, no answer that helped. The clause after "but"/"aber" must both negate
# and speak of something working (a "but not sure why" after "works now" is still a success).
_BUT = re.compile(r"\b(?:but|however|unfortunately|sadly|aber|leider|jedoch|allerdings)\b([^.!?]*)")
_NEGATION = re.compile(r"n't\b|\b(?:not|no longer|never|nicht|nich|net|kein\w*|nie)\b")
_WORKING = re.compile(
    r"\b(?:work\w*|help\w*|fix\w*|solv\w*|open\w*|find|found|edit|access|load\w*|show\w*"
    r"|geklappt|klappt|funktioniert\w*|geht|ging|hilft|geholfen|gelöst|öffne\w*|finde\w*|bearbeite\w*|lädt)\b"
)


def _still_fails(clean: str) -> bool:
    return any(_NEGATION.search(m.group(1)) and _WORKING.search(m.group(1)) for m in _BUT.finditer(clean))


_STUCK = {
    "en": re.compile(
        r"\b(?:i'?m|i am|i've been|we'?re|we are|still|been|totally|completely) (?:\w+ )?(?:stuck|blocked"
        r"|lost)\b"
        r"|\bblocked (?:on|by)\b|\bstuck (?:on|with|at)\b|\bcan'?t (?:figure (?:it |this |out)|get (?:it"
        r"|this) to work)"
        r"|\b(?:no idea what to do|at a loss|going in circles|hit a wall|don'?t know how to proceed)\b"
    ),
    "de": re.compile(
        r"\bkomme?(?: \w+){0,3} (?:nicht|nich|net) (?:mehr )?weiter\b|\bhänge?(?: \w+){0,4} fest\b"
        r"|\b(?:stecke|steck)(?: \w+){0,4} fest\b|\bbin (?:\w+ )?(?:blockiert|ratlos|aufgeschmissen"
        r"|verzweifelt)\b"
        r"|\bweiß (?:nicht|nich|net) (?:mehr )?weiter\b|\bstehe? (?:\w+ )?auf dem schlauch\b"
    ),
}

_GREETING = {
    "en": re.compile(
        r"^(?:hi|hello|hey|heya|hiya|yo|howdy|greetings|good (?:morning|afternoon|evening)|morning|evening"
        r"|welcome|hi all|hello all|hey all)\b"
    ),
    "de": re.compile(
        r"^(?:hallo|hi|hey|moin|moinsen|servus|grüß gott|grüezi|guten (?:morgen|tag|abend)|morgen|tach"
        r"|willkommen|hallöchen|na)\b"
    ),
}
_MAX_WORDS_AFTER_GREETING = 2  # "hi all", "moin zusammen"; anything longer carries a message
# A question asking when, who or why wants a moment, a person or a cause; a lesson says what worked, so it
# answers how-to questions ("how do I", "where is", "wie", "wo"), not these.
_ASKS_WHEN_WHO_WHY = re.compile(
    r"^(?:(?:hi|hey|hello|hallo|moin|servus)(?: (?:all|everyone|folks|team|zusammen|leute))?\b[\s,!]*)?"
    r"(?:(?:does )?any(?:one|body) know |weiß jemand,? )?"
    r"(?:when|who|whom|whose|why|wann|wer|wen|wem|wessen|warum|wieso|weshalb)\b"
)


@lru_cache(maxsize=512)
def _prepare(text: str, language_hint: str | None) -> tuple[str, tuple[str, ...]]:
    """Normalised lower-case text plus the languages whose patterns should be tried."""
    clean = normalize(text).lower()
    first = detect_language(clean, language_hint)
    return clean, (first, "de" if first == "en" else "en")


def is_thanks(text: str, language_hint: str | None = None) -> bool:
    """Gratitude or success report ("thanks", "danke", "hat geklappt", "works now", "that did it"); not "thanks in
    advance", "no thanks", "thanks for nothing" or "thanks, but it still doesn't work"."""
    clean, languages = _prepare(text, language_hint)
    if not any(_THANKS[lang].search(clean) for lang in languages):
        return False  # most lines: the exceptions below need not be looked for
    return not (_THANKS_IN_ADVANCE.search(clean) or _NOT_GRATITUDE.search(clean) or _still_fails(clean))


def is_stuck(text: str, language_hint: str | None = None) -> bool:
    """Member reports being blocked ("I'm stuck", "blocked on", "komme nicht weiter", "hänge fest")."""
    clean, languages = _prepare(text, language_hint)
    return any(_STUCK[lang].search(clean) for lang in languages)


def is_greeting(text: str, language_hint: str | None = None) -> bool:
    """A greeting with (almost) nothing else in it ("hi all", "moin zusammen", "good morning team")."""
    clean, languages = _prepare(text, language_hint)
    clean = clean.replace(HANDLE, " ").strip(" ,.!:;-")
    for lang in languages:
        match = _GREETING[lang].match(clean)
        if match:
            rest = clean[match.end():].strip(" ,.!:;-").split()
            return len(rest) <= _MAX_WORDS_AFTER_GREETING and "?" not in clean
    return False


def asks_when_who_or_why(text: str) -> bool:
    """A question for a moment, a person or a cause ("when is the next town hall?", "wer hat das geändert?")."""
    clean = normalize(text).lower().replace(HANDLE, " ").strip(" ,.!:;-")
    return bool(_ASKS_WHEN_WHO_WHY.match(clean))
