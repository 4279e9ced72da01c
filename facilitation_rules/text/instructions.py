"""What an answer sentence is for a lesson: a step to follow, a tip on the side, or neither.

A lesson card lists steps in their logical order and keeps advice apart, so the distiller needs to tell them
apart in the chat language of a change community (EN and DE): numbered steps ("Step 3", "3.", "Schritt 2"),
sequenced or imperative instructions ("then", "dann", "Open …", "Öffne …", "Klicken Sie …"), and advice
cues ("Tip:", "Hinweis:", "by the way", "übrigens", "make sure", "achte darauf").
"""

from __future__ import annotations

import re
from enum import Enum

_LEAD_IN = r"(?:(?:and|then|now|ok|okay|so|und|dann|jetzt|nun|also)\W+)?"
_NUMBER = re.compile(
    rf"^\W*{_LEAD_IN}(?:(?:step|schritt)\s*(\d{{1,2}})\b|(\d{{1,2}})[.)](?=\s))",
    re.IGNORECASE,
)

_SEQUENCE = re.compile(
    r"^\s*[-•*]\s+|→|->|\b(?:first|then|next|finally|afterwards|zuerst|dann|danach|anschließend|abschließend"
    r"|zum schluss)\b",
    re.IGNORECASE,
)
_IMPERATIVE = re.compile(
    r"^\W*(?:(?:please|just|simply|bitte|einfach)\s+)?(?:"
    r"(?:open|click|go|select|choose|pick|rename|add|remove|delete|check|restart|reboot|sign|log|create|enter"
    r"|type|set|turn|enable|disable|install|uninstall|update|run|copy|move|share|use|try|request|download"
    r"|upload|save|close|clear|reset|switch|drag|search|paste|send|submit|fill|tick|press|navigate|change"
    r"|edit|export|import|pin|mute|unmute|invite|assign)\b"
    r"|(?:öffne|klick|klicke|geh|gehe|wähle|benenne|füge|entferne|lösche|prüfe|starte|melde|erstelle|gib"
    r"|setze|aktiviere|deaktiviere|installiere|deinstalliere|aktualisiere|kopiere|verschiebe|teile|nutze"
    r"|verwende|probier|probiere|beantrage|lade|speichere|schließe|leere|wechsle|such|suche|sende|schick"
    r"|schicke|trag|trage|drück|drücke|ändere|exportiere|importiere|heft|hefte)\b"
    r"|\w+(?:en|ern|eln)\s+sie\b)",  # the formal German imperative: "Öffnen Sie", "Ändern Sie"
    re.IGNORECASE,
)
_TIP = re.compile(
    r"^\W*(?:(?:pro|quick|small|little|extra|kleiner|kurzer)\s+)?tipp?s?\b"
    r"|\b(?:tipp?|hinweis|note|nb|ps|p\.s|fyi|heads[- ]up|wichtig|important|achtung|vorsicht|caution"
    r"|warning)\s*[:!]"
    r"|\b(?:by the way|btw|übrigens|side note|make sure|be sure to|keep in mind|don'?t forget|do not forget"
    r"|remember to|watch out|be careful|achte darauf|achtet darauf|achten sie darauf|denk daran|denkt daran"
    r"|denken sie daran|vergiss nicht|vergesst nicht|nicht vergessen|beachte|beachtet|beachten sie"
    r"|pass auf|passt auf)\b",
    re.IGNORECASE,
)


class Kind(Enum):
    """What a sentence is for the lesson card."""

    QUESTION = "question"
    STEP = "step"
    TIP = "tip"
    PLAIN = "plain"


def step_number(text: str) -> int | None:
    """The explicit number of a step ("Step 3", "3.", "Schritt 2"), if the sentence starts with one."""
    match = _NUMBER.search(text)
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def is_tip(text: str) -> bool:
    """Advice beside the path: "Tip:", "Hinweis:", "by the way", "übrigens", "make sure", "achte darauf"."""
    return bool(_TIP.search(text))


def is_instruction(text: str) -> bool:
    """Reads like something to do: a numbered, bulleted, sequenced or imperative sentence."""
    return step_number(text) is not None or bool(_SEQUENCE.search(text) or _IMPERATIVE.search(text))


def kind(text: str) -> Kind:
    """A numbered step stays a step even with advice in it; otherwise a tip cue wins over an instruction."""
    if text.rstrip().endswith("?"):
        return Kind.QUESTION
    if step_number(text) is not None:
        return Kind.STEP
    if is_tip(text):
        return Kind.TIP
    return Kind.STEP if is_instruction(text) else Kind.PLAIN
