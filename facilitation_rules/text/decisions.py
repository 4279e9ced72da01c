"""Decisions in a thread: the language that states one, and the offline distiller that writes it down.

`decision_cue` finds a sentence that states a decision the speakers took ("we decided", "let's go with",
"wir machen das so", "beschlossen"). Precision first: a question ("have we decided?"), a negation ("nothing
decided yet", "noch nicht entschieden"), a condition ("once we decide", "wenn wir beschließen") or somebody
else's decision ("management decided") is none.

`distill_decision` is extractive, like the lessons' distiller: the question is the thread's opening question,
the options are the sentences that put an alternative on the table, the outcome is the last sentence that states
the decision, the reasons are the sentences that give a why; each keeps who wrote it, so forgetting a member
removes their words. It needs no model and invents nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.cocreation import DecisionDraft
from bot.core.lessons import ThreadMessage
from facilitation_rules.text.distill import sentences
from facilitation_rules.text.due import normalize

MAX_OPTIONS = 4
MAX_REASONS = 3
MAX_ITEM_CHARS = 240
MAX_TITLE_CHARS = 80
QUESTION_CHARS = 240

_CUES = re.compile(
    r"\bwe(?:'ve| have| all| both| just| finally| now)* (?:decided|agreed (?:on|to|that)|settled on|chose|picked"
    r"|went with)\b"
    r"|\b(?:it's|it is|that's|that is) (?:decided|settled|agreed)\b|\bdecision(?: is)?(?: made)?:"
    r"|\b(?:the|our|final) decision is\b|\b(?:let's|let us|we'll|we will|we're|we are) go(?:ing)? with\b"
    r"|\bso (?:it's|that's) settled\b|\bsettled then\b|\bagreed then\b|\bwe'll do it that way\b"
    r"|\bwir machen (?:das|es) so\b|\bmachen wir (?:das |es )?so\b|\bso machen wir(?:'s| es| das)?\b"
    r"|\b(?:ist|sind|wurde|haben wir|wir haben(?: \w+)?) beschlossen\b|\bbeschlossene sache\b|^beschlossen\b"
    r"|\bwir haben (?:uns )?(?:[\w-]+ ){0,4}(?:entschieden|geeinigt|festgelegt)\b|\bwir (?:entscheiden|einigen) uns\b"
    r"|\b(?:ist|wäre) (?:entschieden|abgemacht|festgelegt)\b|\babgemacht\b|\bentscheidung:|\bentschieden:"
    r"|\bdie entscheidung (?:ist|lautet)\b|\bwir nehmen (?:also |dann )?(?:option|variante)\b"
    r"|\bwir gehen (?:also |dann )?mit\b"
)
_NEGATED = re.compile(
    r"\b(?:not|never|haven't|hasn't|didn't|don't|nothing|no one|nobody|undecided|yet to|not yet|nicht|noch nicht"
    r"|nichts|kein|keine|niemand|unentschieden|weder)\b|n't\b"
)
_CONDITIONAL = re.compile(
    r"\b(?:if|once|until|before|whether|unless|as soon as|should we|wenn|falls|sobald|ob|bevor|bis|sofern)"
    r" (?:we|wir)\b|\b(?:wenn|falls|sobald|bevor) (?:das|es) \w+ (?:beschlossen|entschieden)"
)
_OTHERS = re.compile(
    r"\b(?:they|he|she|management|the board|leadership|it|someone)(?:'ve| have| has)? (?:decided|agreed)\b"
    r"|\b(?:die geschäftsführung|der vorstand|das management|die leitung|sie|er) (?:hat|haben) \w* ?beschlossen\b"
)
_OPTION = re.compile(
    r"\b(?:option|options|alternative|alternatively|we could|could we|how about|what about|or we|either|instead"
    r"|proposal|i suggest|i'd suggest|i propose|why not|variante|alternativ|wir könnten|könnten wir|wie wäre es"
    r"|was ist mit|oder wir|entweder|stattdessen|vorschlag|ich schlage vor|warum nicht)\b"
)
_REASON = re.compile(
    r"\b(?:because|since|so that|so (?:everyone|everybody|we|they|people|nobody|no one)|the reason|that way"
    r"|which is why|that's why|as it|cheaper|faster|easier|safer"
    r"|weil|denn|damit|deshalb|deswegen|daher|der grund|dadurch|so können wir|günstiger|schneller|einfacher"
    r"|sicherer)\b"
)
_NOT_NOW = re.compile(  # an earlier agreement recalled, or an idiom
    r"\bas (?:we )?(?:agreed|decided|discussed)\b|\bwie (?:besprochen|abgemacht|vereinbart|beschlossen)\b"
    r"|\bgo with the flow\b|\blet's go with you\b"
)
_CLAUSE_END = re.compile(r",\s|;\s|\s(?:because|since|so that|weil|denn|damit)\s", re.IGNORECASE)
_LEAD_IN = re.compile(
    r"^(?:ok(?:ay)?|so|alright|great|perfect|fine|good|then|also|gut|prima|super|dann|na gut|passt|alles klar)"
    r"\b[,!.:]*\s*",
    re.IGNORECASE,
)


# Words every decision cue contains one of: most messages are passed over without splitting them into sentences.
_MAYBE = re.compile(
    r"decid|decision|agreed|settled|go with|going with|chose|picked|went with|that way|machen wir|wir machen"
    r"|beschlo|entschied|entscheid|geeinigt|einigen|festgelegt|abgemacht|wir nehmen|wir gehen",
    re.IGNORECASE,
)


def decision_cue(text: str) -> str | None:
    """The sentence of a message that states a decision its speakers took, or None."""
    if not _MAYBE.search(text):
        return None
    for sentence in sentences(text):
        if _states_decision(sentence):
            return " ".join(sentence.split())
    return None


def _states_decision(sentence: str) -> bool:
    if "?" in sentence:
        return False
    norm = normalize(sentence).strip()
    cue = _CUES.search(norm)
    if cue is None:
        return False
    before = norm[: cue.end()]
    if _NEGATED.search(before) or _CONDITIONAL.search(norm) or _OTHERS.search(norm):
        return False
    return not _NOT_NOW.search(norm)


def distill_decision(
    thread: Sequence[ThreadMessage], *, title: str | None = None, recorded_by: str | None = None
) -> DecisionDraft:
    """The decision a thread reached, extracted from its own sentences; empty parts when the thread says nothing."""
    messages = [m for m in sorted(thread, key=lambda m: m.position) if m.text and not m.bot]
    participants = tuple(dict.fromkeys(m.author for m in messages))
    if not messages:
        return DecisionDraft(title=(title or "").strip()[:MAX_TITLE_CHARS], title_author=recorded_by)
    root = messages[0]
    question = _question(root.text or "")
    said = [(s, m) for m in messages for s in sentences(m.text or "") if s.strip()]
    outcome, outcome_by = "", None
    for sentence, message in reversed(said):
        if _states_decision(sentence):
            outcome, outcome_by = _clean(sentence), message.author
            break
    if not outcome and len(messages) > 1:  # no sentence says "we decided": the thread's last word stands in
        last = messages[-1]
        outcome, outcome_by = _clean(sentences(last.text or "")[0]) if sentences(last.text or "") else "", last.author
    options: list[tuple[str, str]] = []
    reasons: list[tuple[str, str]] = []
    for sentence, message in said:
        cleaned = _clean(sentence)
        if not cleaned or cleaned in (outcome, question):
            continue
        norm = normalize(sentence)
        if _OPTION.search(norm) and len(options) < MAX_OPTIONS and cleaned not in dict(options):
            options.append((cleaned, message.author))
        elif _REASON.search(norm) and cleaned not in dict(reasons):
            reasons.append((cleaned, message.author))
    because = _REASON.search(normalize(outcome)) if outcome else None
    if because is not None and because.start() > 0:  # "Let's go with Teams, so everyone can join": the why
        why = outcome[because.start():].strip(" .!")
        if why and why not in dict(reasons):
            reasons.append((why[0].upper() + why[1:], outcome_by or ""))
    reasons = reasons[-MAX_REASONS:]  # the latest reasons are the ones the decision stands on
    typed = (title or "").strip()
    chosen_title = typed or _title(outcome) or _shorten(question, MAX_TITLE_CHARS)
    return DecisionDraft(
        title=chosen_title[:MAX_TITLE_CHARS],
        question=question if question else "",
        options=tuple(text for text, _ in options),
        outcome=outcome,
        reasons=tuple(text for text, _ in reasons),
        participants=participants,
        title_author=recorded_by if typed else outcome_by if outcome else root.author,
        question_author=root.author if question else None,
        outcome_author=outcome_by,
        option_authors=tuple(author for _, author in options),
        reason_authors=tuple(author for _, author in reasons),
    )


def message_title(text: str) -> str:
    """A decision's title taken from one message, as `distill_decision` names a thread when no title is typed: the
    main clause of the sentence that states the decision, else the message's question or first sentence."""
    said = [s for s in sentences(text or "") if s.strip()]
    stated = next((s for s in reversed(said) if _states_decision(s)), None)
    named = _title(_clean(stated)) if stated is not None else ""
    return (named or _shorten(_question(text or ""), MAX_TITLE_CHARS))[:MAX_TITLE_CHARS]


def _title(outcome: str) -> str:
    """A decision's name from its outcome: the main clause, without a lead-in or the reason after it."""
    main = _CLAUSE_END.split(_LEAD_IN.sub("", outcome), maxsplit=1)[0].strip(" .!,;:")
    main = re.sub(r"\s+(?:then|dann|also)$", "", main, flags=re.IGNORECASE)
    return _shorten(main[:1].upper() + main[1:], MAX_TITLE_CHARS) if main else ""


def _question(text: str) -> str:
    """What the thread set out to decide: the opening message's question, else its first sentence."""
    said = [s for s in sentences(text) if s.strip()]
    if not said:
        return ""
    asked = next((s for s in said if s.rstrip().endswith("?")), said[0])
    return _shorten(" ".join(asked.split()), QUESTION_CHARS)


def _clean(sentence: str) -> str:
    return _shorten(" ".join(sentence.split()), MAX_ITEM_CHARS)


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
