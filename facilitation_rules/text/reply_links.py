"""Which earlier line a line in a flat channel responds to, or none: a learned reply-link model.

In a flat channel several conversations interleave and nobody says what they reply to. For each new line
the model scores every recent line (and "none", the start of a new conversation) from a few dozen binary
features: how far back the line is, how long ago, who addresses whom, whether the two speakers were just
talking, shared words, the look of a question and of an answer. The weights are learned from annotated
reply links (see `models/README.md`); scoring is a sum of weights over the features a pair has, so it needs
nothing beyond the standard library and stays cheap enough to run on every line.

The same `features` function serves training and inference, so the model sees in production exactly the
features it was trained on.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from itertools import repeat
from pathlib import Path
from typing import Protocol

logger = logging.getLogger(__name__)

__all__ = ["CANDIDATES", "Link", "Linker", "ReplyLinkModel", "Said", "Surroundings", "features", "reply_link_model"]

CANDIDATES = 40  # earlier lines a line may respond to: the annotated links reach further back in 2 % of cases
MODEL_PATH = Path(__file__).with_name("models") / "reply_links.json"
MODEL_ENV = "STEWARD_REPLY_MODEL"  # another weights file, for validating a model trained without some data


@dataclass(slots=True)
class Said:
    """What the tracker keeps of a recent line: who, when, to whom, and what it is about."""

    id: str
    user: str
    at: datetime
    addressees: frozenset[str]  # spoken to explicitly: "@name", "name:", a mention
    conv: str  # the first line of the conversation this line belongs to
    n: int = 0  # the space's line count when the line came
    terms: frozenset[str] = frozenset()
    question: bool = False
    link: bool = False  # carries a link or code: the look of an answer
    bot: bool = False
    named: frozenset[str] = frozenset()  # people named later in the line, not addressed outright
    replied: str | None = None  # whose line this one responds to, once the tracker has placed it
    lineage: frozenset[str] = frozenset()  # the questions this line answers, directly or through its parents


@dataclass(frozen=True, slots=True)
class Link:
    """A line's place in the reply structure: the line it responds to (None: it starts a conversation)."""

    parent: Said | None
    conv: str  # the conversation the line joins (its own id when it starts one)
    confidence: float  # the model's probability for that conversation


class Linker(Protocol):
    """Chooses a line's parent among its candidates (the model; or the annotation, when training)."""

    def choose(self, line: Said, own: list[str], candidates: list[tuple[Said, list[str]]]) -> Link: ...


class _Zoned(dict[str, str]):
    """A cue's name within a distance zone ("q" -> "q@near"), built once per name instead of once per pair."""

    def __init__(self, zone: str) -> None:
        super().__init__()
        self.zone = zone

    def __missing__(self, name: str) -> str:
        self[name] = zoned = name + self.zone
        return zoned


_NEAR, _MID, _FAR = _Zoned("@near"), _Zoned("@mid"), _Zoned("@far")


def _distance_bucket(lines: int) -> str:
    if lines <= 5:
        return str(lines)
    return "6" if lines <= 7 else "8" if lines <= 10 else "11" if lines <= 15 else "16" if lines <= 25 else "26"


def _gap_bucket(paces: float) -> str:
    """A time gap in units of the channel's pace (its mean gap between lines), bucketed."""
    if paces <= 0.5:
        return "0"
    return "1" if paces <= 1 else "2" if paces <= 2 else "4" if paces <= 4 else "8" if paces <= 8 else (
        "16" if paces <= 16 else "32" if paces <= 32 else "long"
    )


@dataclass(frozen=True, slots=True)
class Surroundings:
    """What the features read besides the two lines: the channel's recent talk and its pace."""

    last_by_user: Mapping[str, Said]  # each speaker's latest line
    last_to_me: Said | None = None  # the latest line that addressed the speaker
    partners: frozenset[str] = frozenset()  # people the speaker exchanged lines with lately
    askers: Mapping[str, str] = field(default_factory=dict)  # conversation about an open question -> its asker
    pace: float = 60.0  # the channel's running mean of seconds between lines
    greeting: bool = False  # the line is a bare greeting


def features(
    line: Said, recent: Iterable[Said], around: Surroundings
) -> tuple[list[str], list[tuple[Said, list[str]]]]:
    """The features of "starts a conversation" and of each candidate parent, newest candidate first.

    `recent` runs from the newest earlier line backwards. Time gaps count in units of the channel's pace, so
    a busy chat room and a quiet community channel are judged alike.
    """
    last_by_user, last_to_me, partners, askers = around.last_by_user, around.last_to_me, around.partners, around.askers
    pace = max(around.pace, 1.0)
    me = line.user
    mine = last_by_user.get(me)
    talks_to = line.addressees
    own = ["new"]
    if line.question:
        own.append("new:question")
    if talks_to:
        own.append("new:addresses")
    if around.greeting:
        own.append("new:greeting")
    if line.link:
        own.append("new:link")
    # Not having spoken lately, or at all: a drop-in help channel tells these apart, a community channel does not.
    since_mine = (line.at - mine.at).total_seconds() / pace if mine is not None else float("inf")
    own.append("new:since_mine_" + _gap_bucket(since_mine))
    if last_to_me is not None and (line.at - last_to_me.at).total_seconds() <= 10 * pace:
        own.append("new:was_addressed")
    my_conv = mine.conv if mine is not None else None
    candidates: list[tuple[Said, list[str]]] = []
    for said in recent:
        distance = _distance_bucket(line.n - said.n)
        gap = _gap_bucket((line.at - said.at).total_seconds() / pace)
        them = said.user
        found = ["d" + distance, "t" + gap]
        latest = last_by_user.get(them) is said
        if them == me:
            found.append("same")
            if said is mine:
                found.append("same:previous")
            if talks_to and not talks_to & said.addressees:
                found.append("same:turns")  # the speaker now talks to someone else than in that line
        elif them in talks_to:
            found.append("addr" if latest else "addr:older")
            found.append("addr:d" + distance)
            if said.question:
                found.append("addr:question")
        elif talks_to:
            found.append("addr_other")
        elif them in line.named:
            found.append("named")
        if me in said.addressees:
            found.append("to_me:latest" if said is last_to_me else "to_me")
        elif said.addressees:
            found.append("to_other")
        if latest and them != me:
            found.append("latest")
        if them in partners:
            found.append("partner")
        if my_conv is not None and said.conv == my_conv:
            found.append("my_conv")
        asker = askers.get(said.conv)
        if asker is not None:
            found.append("conv:mine" if asker == me else "conv:addressee" if asker in talks_to else "conv:open")
        if said.question:
            found.append("q" if them != me else "q:mine")
            if line.question and them != me:
                found.append("q:q")
            if line.link:
                found.append("q:link")
        if said.bot:
            found.append("bot")
        shared = len(line.terms & said.terms) if line.terms and said.terms else 0
        if shared:
            found.append("shared1" if shared == 1 else "shared2" if shared == 2 else "shared3")
        # What a cue is worth depends on how far back it is.
        zoned = _NEAR if line.n - said.n <= 2 else _MID if line.n - said.n <= 10 else _FAR
        found.extend(map(zoned.__getitem__, found[2:]))
        candidates.append((said, found))
    return own, candidates


@dataclass(frozen=True, slots=True)
class ReplyLinkModel:
    """Weights of binary features; a candidate's score is the sum of the weights of its features."""

    weights: Mapping[str, float]
    source: str = ""

    @classmethod
    def load(cls, path: Path) -> ReplyLinkModel:
        """Read a weights file written by the training command."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(weights={str(k): float(v) for k, v in data["weights"].items()}, source=str(path))

    def score(self, found: list[str]) -> float:
        return sum(map(self.weights.get, found, repeat(0.0)))

    def choose(self, line: Said, own: list[str], candidates: list[tuple[Said, list[str]]]) -> Link:
        """The most probable conversation (a candidate's, or a new one) and its most probable line."""
        scores = [self.score(own)] + [self.score(found) for _, found in candidates]
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]
        total = sum(weights)
        by_conv: dict[str, float] = {line.id: weights[0]}
        best_line: dict[str, tuple[float, Said]] = {}
        for weight, (said, _) in zip(weights[1:], candidates, strict=True):
            by_conv[said.conv] = by_conv.get(said.conv, 0.0) + weight
            known = best_line.get(said.conv)
            if known is None or weight > known[0]:
                best_line[said.conv] = (weight, said)
        conv = max(by_conv, key=by_conv.__getitem__)
        parent = best_line[conv][1] if conv in best_line else None
        return Link(parent, conv if parent is not None else line.id, by_conv[conv] / total)


@cache
def reply_link_model() -> ReplyLinkModel:
    """The shipped model, or the one `STEWARD_REPLY_MODEL` names (read once per process)."""
    path = Path(os.environ.get(MODEL_ENV) or MODEL_PATH)
    model = ReplyLinkModel.load(path)
    logger.debug("reply-link model read from %s (%d weights)", path, len(model.weights))
    return model
