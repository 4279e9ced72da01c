"""How sure Steward is that a question nobody answered is really unanswered.

In a thread, a question without a reply is unanswered beyond doubt. In a flat channel an answer may be a line
the conversation tracker did not link to the question: someone's short "try X" right after it, a line that
turns to the asker, the asker's own "thanks, that worked". Asking experts about an answered question is the
quickest way to get a bot muted, so before the unanswered rule nudges anyone it weighs that evidence here.

Evidence is gathered per question while the channel talks on (a few lines and minutes after it); a small
logistic model fitted on the CC BY reply-link corpus (answered gold, validated across its shards: see
`models/README.md`) turns it into the probability that the question is unanswered. The model file holds
named weights only; without it every unanswered question counts as certain, as before.
"""

from __future__ import annotations

import json
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from facilitation_rules.text.cues import is_thanks

logger = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).with_name("models") / "answer_doubt.json"
WINDOW_LINES = 12  # lines after a question that may hold an answer nobody linked
WINDOW = timedelta(minutes=30)
NEAR_LINES = 3  # "right after the question"
SIBLING_LINES = 30  # an asker's questions this close together are one request
_KEPT = 4096  # questions remembered (bounded memory; older ones were flagged or answered long ago)


@dataclass(slots=True)
class Evidence:
    """What followed one flat-channel question that might have answered it, unseen by the tracker."""

    channel: str
    asker: str
    at: datetime
    line: int  # the channel's line count when it was asked
    others_near: int = 0  # lines by others among the next NEAR_LINES that no question claimed
    others_far: int = 0  # ... further on, within the window
    claimed_elsewhere: int = 0  # lines by others in the window that answered another question
    to_asker: int = 0  # lines by others that turn to the asker, not linked to this question
    asker_thanks: bool = False  # the asker thanked or confirmed within the window
    asker_more: int = 0  # further lines by the asker within the window
    asker_turns: int = 0  # ... of them turned to someone (who may well have answered)
    answered: bool = False

    def features(self) -> dict[str, float]:
        """The model's inputs, named so that a weight can be read and checked."""
        return {
            "bias": 1.0,
            "others_near": math.log1p(self.others_near),
            "others_far": math.log1p(self.others_far),
            "claimed_elsewhere": math.log1p(self.claimed_elsewhere),
            "to_asker": 1.0 if self.to_asker else 0.0,
            "asker_thanks": 1.0 if self.asker_thanks else 0.0,
            "asker_more": math.log1p(self.asker_more),
            "asker_turns": 1.0 if self.asker_turns else 0.0,
        }


class AnswerDoubt:
    """Evidence of unseen answers, per open question in flat channels; part of the conversation tracker."""

    def __init__(self) -> None:
        self._open: OrderedDict[str, Evidence] = OrderedDict()
        self._lines: dict[str, int] = {}  # channel -> lines seen

    def observe(
        self,
        *,
        line_id: str,
        channel: str,
        speaker: str,
        text: str,
        at: datetime,
        flat: bool,
        addressees: frozenset[str],
        answered: frozenset[str],
        is_question: bool,
    ) -> None:
        """One line, after the tracker placed it: `answered` names the questions it was linked to.

        Only flat lines (not in a thread) count: a thread's replies belong to its own question."""
        for question_id in answered:
            evidence = self._open.get(question_id)
            if evidence is not None:
                evidence.answered = True
        if not flat:
            return
        count = self._lines[channel] = self._lines.get(channel, 0) + 1
        for evidence in self._window(channel, count, at):
            if evidence.answered:
                continue
            if speaker == evidence.asker:
                evidence.asker_more += 1
                evidence.asker_turns += 1 if addressees else 0
                evidence.asker_thanks = evidence.asker_thanks or is_thanks(text)
            elif answered:
                evidence.claimed_elsewhere += 1
            elif evidence.asker in addressees:
                evidence.to_asker += 1
            elif not is_question and not addressees:
                if count - evidence.line <= NEAR_LINES:
                    evidence.others_near += 1
                else:
                    evidence.others_far += 1
        if is_question:
            self._open[line_id] = Evidence(channel, speaker, at, count)
            if len(self._open) > _KEPT:
                self._open.popitem(last=False)

    def _window(self, channel: str, count: int, at: datetime) -> list[Evidence]:
        """Open questions of this channel that this line may still answer (newest last)."""
        found = []
        for evidence in reversed(self._open.values()):
            if at - evidence.at > WINDOW:
                break  # questions are kept in the order asked: everything older is out of the window too
            if evidence.channel == channel and 0 < count - evidence.line <= WINDOW_LINES:
                found.append(evidence)
        return found

    def siblings(self, question_id: str, at: datetime) -> list[str]:
        """The asker's other unanswered questions asked close to this one (a burst: the same request, reworded
        or continued), within SIBLING_LINES lines of it and the last WINDOW."""
        linked = self._open.get(question_id)
        if linked is None:
            return []
        found = []
        for other_id, evidence in reversed(self._open.items()):
            if at - evidence.at > WINDOW:
                break
            if (
                other_id != question_id
                and evidence.asker == linked.asker
                and evidence.channel == linked.channel
                and not evidence.answered
                and abs(evidence.line - linked.line) <= SIBLING_LINES
            ):
                found.append(other_id)
        return found

    def evidence(self, question_id: str) -> Evidence | None:
        return self._open.get(question_id)

    def unanswered_confidence(self, question_id: str) -> float:
        """The probability that the question is really unanswered; 1.0 when there is no doubt to weigh."""
        evidence = self._open.get(question_id)
        weights = doubt_weights()
        if evidence is None or evidence.answered or not weights:
            return 1.0
        features = evidence.features()
        score = sum(weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-score))

    def forget(self, question_id: str) -> None:
        self._open.pop(question_id, None)


@cache
def doubt_weights() -> dict[str, float]:
    """The fitted weights (`make train`); none when the file is missing, so a checkout without it still runs."""
    try:
        raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
        return {str(name): float(weight) for name, weight in raw["weights"].items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("answer-doubt model unreadable (%s); every unanswered question counts as certain", exc)
        return {}
