"""Commitments in chat: "I'll send the slides by Friday", "Ich kümmere mich bis Freitag um die Raumbuchung".

Precision first: a follow-up nobody asked for costs more than one Steward missed. A sentence is a commitment only
when all of these hold:
- it speaks in the first person singular about doing something ("I'll", "I will", "I'm going to"; German "ich"
  beside a verb in the first person, or a sentence opening with one: "Mache ich bis morgen");
- it names a due time (facilitation_rules.text.due): a day or a time, not "soon" or "next week";
- it is no question, no negation ("I won't manage by Friday", "schaffe ich nicht"), no hedge ("I'll try",
  "vielleicht", "if I can") and no plan of where one will be ("I'll be out on Friday", "ich bin bis Freitag im
  Urlaub", "I'll join the call", "ich mache Feierabend").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from facilitation_rules.text.clauses import wordset
from facilitation_rules.text.distill import sentences
from facilitation_rules.text.due import Calendar, DueMatch, find_due, maybe_due, normalize

MAX_TEXT = 300


@dataclass(frozen=True, slots=True)
class CommitmentCue:
    """A commitment found in a message: the sentence that makes it, its due time, and the language it is in."""

    text: str
    due: datetime
    phrase: str
    language: str


_EN_MARKER = re.compile(
    r"\b(?:i'll|i will|i shall|i'm going to|i am going to|i'm gonna|i promise to|i commit to|leave it with me"
    r"|i'll make sure to|i'll make sure|i'll take care of)\b"
)
_EN_SKIP = wordset(
    "also just definitely certainly then quickly gladly happily still absolutely personally first now already "
    "get right straight totally surely mostly mainly only"
)
_EN_NOT_DELIVERING = wordset(
    "be need want wait miss see think try work stay join attend come leave travel fly drive sleep guess assume "
    "start begin keep hear know remember pass arrive return visit head move take have go listen learn watch "
    "observe follow"
)
_EN_HEDGE = re.compile(
    r"\b(?:try|trying|maybe|perhaps|probably|possibly|might|hopefully|if i can|if possible|if i|see if|not sure"
    r"|i think i'll|i guess|likely|i hope)\b"
)
_EN_NEGATION = re.compile(r"\b(?:not|never|won't|can't|cannot|couldn't|wouldn't|don't|no longer)\b|n't\b")
_EN_QUESTION_START = re.compile(r"^(?:shall|should|can|could|may|do|does|did|would|will) (?:i|we|you)\b")

_DE_EXCLUDED = wordset(
    "bin war habe hab hatte hätte wäre würde könnte möchte müsste sollte dürfte kann muss soll darf will mag weiß "
    "glaube denke finde meine hoffe brauche benötige erwarte warte freue bitte wünsche arbeite komme gehe fahre "
    "fliege bleibe sitze reise liege stehe starte beginne fange höre lerne esse schlafe wohne heiße sammle "
    "probiere teste"
)
_DE_COLLOQUIAL = wordset("mach schick kümmer erledig kläre guck schau übernehm")
_DE_NOT_WORK = re.compile(  # "ich mache (jetzt) Feierabend": time off, not a promise
    r"\b(?:mache|mach|nehme|nehm)\s+(?:\w+\s+){0,2}?(?:feierabend|urlaub|pause|homeoffice|home office|frei|schluss"
    r"|blau|mittag|mittagspause)\b"
)
_DE_HEDGE = re.compile(
    r"\b(?:vielleicht|eventuell|evtl|wahrscheinlich|versuche|versuch|hoffentlich|möglicherweise|falls|wenn ich"
    r"|ob ich|mal schauen|mal sehen|schauen wir mal|mal gucken|vermutlich|wohl|probier\w*|ich hoffe)\b"
)
_DE_NEGATION = re.compile(r"\b(?:nicht|nich|net|kein|keine|keinen|keinem|nie|niemals|nimmer)\b")
_DE_QUESTION_START = re.compile(r"^(?:soll|sollte|kann|könnte|darf|muss) ich\b")
_WORD = re.compile(r"[a-zäöüß']+")
_MAYBE_PROMISE = re.compile(
    r"\bi(?:'|’)?ll\b|\bi (?:will|shall|promise|commit)\b|\bi(?:'|’)?m (?:going|gonna)\b|\bi am going\b"
    r"|\bleave it with me\b|\bich\b|^\W*[a-zäöü]+e\s+(?:mich|das|es|dir|euch|ihnen)\b",
    re.IGNORECASE,
)
_FILLER = wordset("at the latest spätestens allerspätestens please bitte ok okay then dann also sure klar gerne gern")
_CLAUSE_BREAK = re.compile(r"[,;:]\s|\s[-–—]\s|\b(?:but|aber|depends|depending|weil|because|though|obwohl)\b")


def find_commitment(text: str, now: datetime, calendar: Calendar) -> CommitmentCue | None:
    """The first sentence of a message that commits its author to something by a due time, or None."""
    if not _MAYBE_PROMISE.search(text) or not maybe_due(text):
        return None  # most messages: no first person, or nothing that could name a day or a time
    for sentence in _candidates(text):
        found = commitment_in(sentence, now, calendar)
        if found is not None:
            return found
    return None


def commitment_in(sentence: str, now: datetime, calendar: Calendar) -> CommitmentCue | None:
    """One sentence as a commitment, or None.

    The due time must belong to the promise: it stands in the clause that makes it, or another clause says
    nothing but the due time ("Tomorrow, I'll send it"; "…, spätestens bis Freitag"). "I'll ask her after the
    migration, depends on how tomorrow night goes" promises nothing for tomorrow night."""
    if "?" in sentence:
        return None
    said = " ".join(sentence.split())
    norm = normalize(said)
    if _EN_NEGATION.search(norm) or _EN_HEDGE.search(norm) or _DE_NEGATION.search(norm) or _DE_HEDGE.search(norm):
        return None
    spans = _clauses(norm)
    clauses = [norm[start:end].strip() for start, end in spans]
    for index, clause in enumerate(clauses):
        language = _first_person(clause)
        if language is None:
            continue
        due, first = find_due(clause, now, calendar), index
        for beside in sorted(range(len(clauses)), key=lambda other: abs(other - index)):
            if due is None and beside != index:
                alone = find_due(clauses[beside], now, calendar)
                rest = clauses[beside][: max(0, alone.start)] + " " + clauses[beside][alone.end:] if alone else ""
                if alone is not None and len([w for w in _WORD.findall(rest) if w not in _FILLER]) <= 1:
                    due, first = alone, min(index, beside)
        if due is not None:
            # The promise from its own clause on ("…for every folder, I'll send it on Wednesday" -> "I'll send…").
            start = spans[first][0] if len(norm) == len(said) else 0
            text = said[start:].strip()
            text = text[:1].upper() + text[1:]
            return CommitmentCue(text=text[:MAX_TEXT], due=due.at, phrase=due.phrase, language=language)
    return None


def _clauses(norm: str) -> list[tuple[int, int]]:
    """The spans of a sentence's clauses (split at commas, dashes and "but", "because", "aber", "weil" …)."""
    spans, start = [], 0
    for found in _CLAUSE_BREAK.finditer(norm):
        spans.append((start, found.start()))
        start = found.end()
    spans.append((start, len(norm)))
    return [(a, b) for a, b in spans if norm[a:b].strip()]


def due_in(text: str, now: datetime, calendar: Calendar) -> DueMatch | None:
    """The due time in a command's words ("send the slides by Friday"): a bare day counts here too."""
    return find_due(normalize(text), now, calendar, loose=True)


def _candidates(text: str) -> list[str]:
    """The sentences of a message, without quoted lines (someone else's words) and code."""
    kept = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    prose = re.sub(r"```.*?(?:```|\Z)", " ", "\n".join(kept), flags=re.S)
    prose = re.sub(r"<@[!&]?[^>]*>", "@someone", prose)
    return [s for s in sentences(prose) if s.strip()]


def _first_person(norm: str) -> str | None:
    """"en" or "de" when the sentence commits its speaker, else None."""
    if _english(norm):
        return "en"
    if _german(norm):
        return "de"
    return None


def _english(norm: str) -> bool:
    marker = _EN_MARKER.search(norm)
    if marker is None or _EN_QUESTION_START.match(norm):
        return False
    if marker.group(0) in ("leave it with me", "i'll make sure", "i'll take care of", "i promise to", "i commit to"):
        return True
    words = [w for w in _WORD.findall(norm[marker.end():]) if w not in _EN_SKIP][:8]
    if not words:
        return False
    verb = words[0]
    if verb == "be":
        return len(words) > 1 and words[1] in ("done", "ready", "finished")
    if verb == "have":
        return any(w in ("done", "ready", "finished", "sorted", "drafted", "written") for w in words[1:7])
    if verb == "go":
        return len(words) > 1 and words[1] in ("through", "over")
    if verb == "take":
        return len(words) > 1 and words[1] == "care"
    if verb == "see":
        return len(words) > 2 and words[1:3] == ["to", "it"]
    return verb not in _EN_NOT_DELIVERING


def _german(norm: str) -> bool:
    if _DE_QUESTION_START.match(norm):
        return False
    words = _WORD.findall(norm)
    if not words:
        return False
    verbs: list[str] = []
    for index, word in enumerate(words):
        if word != "ich":
            continue
        if index > 0:
            verbs.append(words[index - 1])  # "Bis Freitag schicke ich ..."
        if index + 1 < len(words):
            verbs.append(words[index + 1])  # "Ich schicke ..."
    if not verbs and len(words) > 1 and words[1] in ("mich", "das", "es", "ich", "dir", "euch", "ihnen"):
        verbs.append(words[0])  # "Kümmere mich drum", "Mache das bis morgen"
    for verb in verbs:
        if verb == "werde":
            return not _DE_NOT_WORK.search(norm)
        if verb in _DE_EXCLUDED:
            continue
        if (verb.endswith("e") and len(verb) > 3) or verb in _DE_COLLOQUIAL:
            return not _DE_NOT_WORK.search(norm)
    return False
