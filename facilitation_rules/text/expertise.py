"""Learned expertise: who answered questions like this one before, ranked incrementally.

Every answer adds its question's and its own terms to the answerer's term statistics, weighted up when
it was the first or the accepted answer. A new question is matched against those statistics with BM25
(people are the documents) and blended with an activity prior, because in a young community most
questions go to the few people who answer a lot, and topical evidence is thin. Everything decays with
a half-life, so people who moved on fade out and recent helpers rise.

Decay is kept incremental: stored values are scaled by ``2 ** (age / half_life)`` at the time they are
added, so old values never need rewriting, and one factor turns them into values "as of" a query time.
Memory grows with vocabulary and people, never with the number of texts.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections import OrderedDict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from facilitation_rules.text.tokens import terms_with_words

logger = logging.getLogger(__name__)

_MAX_GROWTH_EXPONENT = 900.0  # rebase scaled values well before floats overflow (2 ** 1024)
_REMEMBERED_QUESTIONS = 4096  # questions whose text was already credited to an answerer
_EXPLAINED_TERMS = 5


MIN_IDF = 0.15


@dataclass(frozen=True, slots=True)
class ExpertSuggestion:
    """One candidate expert, with what makes them a match (used to explain a nudge)."""

    user: str
    score: float
    matched_terms: tuple[str, ...]
    answers: int


@dataclass(frozen=True, slots=True)
class RankingWeights:
    """How recency, answer volume, topical match and the expert registry are blended."""

    recency: float = 1.0
    volume: float = 0.5
    topic: float = 3.0
    registry: float = 3.0
    k1: float = 1.2
    b: float = 0.5
    question_text: float = 1.0
    answer_text: float = 0.5
    first_bonus: float = 1.0
    accepted_bonus: float = 1.0
    max_query_terms: int = 12
    prior_candidates: int = 20


@dataclass(slots=True)
class _TermStat:
    """One person's decayed weight for a term, and how many of their answers contained it."""

    weight: float = 0.0
    answers: int = 0


@dataclass(slots=True)
class _Person:
    """Per-person totals (decayed masses are scaled, see the module docstring)."""

    length: float = 0.0
    volume: float = 0.0
    active_at: float = 0.0  # POSIX seconds of the latest answer
    active_clock: int = 0
    stats: dict[str, _TermStat] = field(default_factory=dict)


class ExpertiseIndex:
    """Incremental expertise ranking over recorded answers and registered topics."""

    def __init__(
        self, *, half_life: timedelta = timedelta(days=90), weights: RankingWeights | None = None
    ) -> None:
        if half_life <= timedelta(0):
            raise ValueError("half_life must be positive")
        self._half_life_s = half_life.total_seconds()
        self._weights = weights or RankingWeights()
        self._origin: datetime | None = None
        self._clock = 0
        self._people: dict[str, _Person] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._postings: dict[str, dict[str, _TermStat]] = {}
        self._total_length = 0.0
        self._surface: dict[str, str] = {}
        self._registered: dict[str, frozenset[str]] = {}
        self._registry_postings: dict[str, set[str]] = {}
        self._credited: OrderedDict[str, set[str]] = OrderedDict()

    # -- learning ---------------------------------------------------------------------------------

    def record_answer(
        self,
        *,
        question_id: str,
        question_text: str,
        answer_text: str,
        answerer: str,
        at: datetime,
        first: bool = False,
        accepted: bool = False,
    ) -> None:
        """Learn from one answer (called as the community talks, and when history is imported)."""
        w = self._weights
        growth = self._growth(at)
        strength = (
            1.0 + (w.first_bonus if first else 0.0) + (w.accepted_bonus if accepted else 0.0)
        ) * growth
        person = self._people.setdefault(answerer, _Person())
        self._clock += 1
        person.volume += strength
        person.active_clock = self._clock
        person.active_at = max(at.timestamp(), person.active_at)
        self._recent[answerer] = None
        self._recent.move_to_end(answerer)
        counts: dict[str, float] = {}
        if self._credit_question(question_id, answerer):
            self._count(question_text, w.question_text, counts)
        self._count(answer_text, w.answer_text, counts)
        for term, count in counts.items():
            stat = person.stats.get(term)
            if stat is None:
                stat = person.stats[term] = _TermStat()
                self._postings.setdefault(term, {})[answerer] = stat
            stat.weight += count * strength
            stat.answers += 1
            person.length += count * strength
            self._total_length += count * strength

    def set_registered_topics(self, user: str, topics: Collection[str]) -> None:
        """Replace the topics a person registered as their expertise (an empty collection removes them)."""
        for term in self._registered.pop(user, frozenset()):
            holders = self._registry_postings[term]
            holders.discard(user)
            if not holders:
                del self._registry_postings[term]
        registered = frozenset(term for topic in topics for term, _ in self._terms(topic))
        if registered:
            self._registered[user] = registered
            for term in registered:
                self._registry_postings.setdefault(term, set()).add(user)

    # -- ranking ----------------------------------------------------------------------------------

    def suggest(
        self, question_text: str, *, at: datetime, exclude: Collection[str] = (), limit: int = 3
    ) -> list[ExpertSuggestion]:
        """Best candidates first, using only what was recorded before (never the answers to this question).

        The score adds up how recently a person answered (in community answers and in time), how much
        they answered (first and accepted answers count more), how well their past answers match the
        question's terms (BM25, people as documents), and registered topics the question mentions.
        """
        if limit <= 0:
            return []
        excluded = set(exclude)
        query = self._query_terms(question_text)
        decay = 1.0 / self._growth(at) if self._origin is not None else 1.0
        scores = self._topical_scores(query, decay, excluded)
        for user in self._recently_active(excluded):
            scores.setdefault(user, 0.0)
        self._add_priors(scores, at, decay)
        best = heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], item[0]))
        return [self._explain(user, score, query, decay) for user, score in best]

    def _query_terms(self, text: str) -> list[tuple[str, float]]:
        """The question's most informative known terms with their idf (people are the documents)."""
        population = len(self._people) + len(self._registered)
        found: dict[str, float] = {}
        for term, _ in self._terms(text):
            if term in found:
                continue
            frequency = len(self._postings.get(term, ())) + len(self._registry_postings.get(term, ()))
            idf = math.log(1.0 + (population - frequency + 0.5) / (frequency + 0.5)) if frequency else 0.0
            if idf >= MIN_IDF:  # a term nearly everyone used says nothing about who knows the topic
                found[term] = idf
        ranked = sorted(found.items(), key=lambda item: -item[1])
        return ranked[: self._weights.max_query_terms]

    def _topical_scores(
        self, query: list[tuple[str, float]], decay: float, excluded: set[str]
    ) -> dict[str, float]:
        """BM25 of past answers and registered topics against the question, as a share of the best possible.

        Normalising by the query's total idf keeps long and short questions on the same scale as the prior.
        """
        w = self._weights
        scores: dict[str, float] = {}
        total_idf = sum(idf for _, idf in query)
        if not total_idf:
            return scores
        average = (self._total_length * decay / len(self._people) if self._people else 0.0) or 1.0
        k1, people = w.k1, self._people
        base, slope = k1 * (1.0 - w.b), k1 * w.b * decay / average
        for term, idf in query:
            share = idf / total_idf
            gain = w.topic * share * (k1 + 1.0)
            for user, stat in self._postings.get(term, {}).items():
                if user not in excluded:
                    tf = stat.weight * decay
                    scores[user] = scores.get(user, 0.0) + gain * tf / (
                        tf + base + slope * people[user].length
                    )
            for user in self._registry_postings.get(term, ()):
                if user not in excluded:
                    scores[user] = scores.get(user, 0.0) + w.registry * share
        return scores

    def _recently_active(self, excluded: set[str]) -> list[str]:
        """The people who answered most recently, so someone is suggested even when nothing matches."""
        wanted = self._weights.prior_candidates
        found: list[str] = []
        for user in reversed(self._recent):
            if len(found) >= wanted:
                break
            if user not in excluded:
                found.append(user)
        return found

    def _add_priors(self, scores: dict[str, float], at: datetime, decay: float) -> None:
        """Add log-scale evidence that each person answers at all, now: recency and decayed volume.

        People who only registered topics get no prior: there is no evidence either way.
        """
        w, people, clock = self._weights, self._people, self._clock
        now = at.timestamp()
        per_second = math.log(2.0) / self._half_life_s
        for user in scores:
            person = people.get(user)
            if person is not None:
                staleness = math.log1p(clock - person.active_clock) + per_second * max(
                    now - person.active_at, 0.0
                )
                scores[user] += w.volume * math.log1p(person.volume * decay) - w.recency * staleness

    def _explain(
        self, user: str, score: float, query: list[tuple[str, float]], decay: float
    ) -> ExpertSuggestion:
        """Name the terms that made this person a match, strongest first, and count their matching answers."""
        person = self._people.get(user)
        stats = person.stats if person is not None else {}
        registered = self._registered.get(user, frozenset())
        weighted: list[tuple[float, str]] = []
        answers = 0
        for term, idf in query:
            stat = stats.get(term)
            if stat is not None:
                weighted.append((idf * stat.weight * decay, term))
                answers = max(answers, stat.answers)
            elif term in registered:
                weighted.append((idf * self._weights.registry, term))
        weighted.sort(reverse=True)
        matched = tuple(self._surface.get(term, term) for _, term in weighted[:_EXPLAINED_TERMS])
        return ExpertSuggestion(user=user, score=round(score, 6), matched_terms=matched, answers=answers)

    # -- helpers ----------------------------------------------------------------------------------

    def _terms(self, text: str) -> Iterable[tuple[str, str]]:
        """Stemmed terms of a text, remembering a readable word for each stem."""
        pairs = terms_with_words(text)
        for term, word in pairs:
            known = self._surface.get(term)
            if known is None or len(word) < len(known):
                self._surface[term] = word
        return pairs

    def _count(self, text: str, weight: float, counts: dict[str, float]) -> None:
        """Add a text's term frequencies, scaled by how much that part of a thread says about expertise."""
        for term, _ in self._terms(text):
            counts[term] = counts.get(term, 0.0) + weight

    def _credit_question(self, question_id: str, answerer: str) -> bool:
        """True the first time this person answers this question, so follow-ups don't recount its text."""
        answerers = self._credited.get(question_id)
        if answerers is None:
            answerers = self._credited[question_id] = set()
            if len(self._credited) > _REMEMBERED_QUESTIONS:
                self._credited.popitem(last=False)
        else:
            self._credited.move_to_end(question_id)
        if answerer in answerers:
            return False
        answerers.add(answerer)
        return True

    def _growth(self, at: datetime) -> float:
        """Scale factor for values added at ``at``; rebases stored values if the factor would overflow."""
        if self._origin is None:
            self._origin = at
        exponent = max((at - self._origin).total_seconds() / self._half_life_s, -_MAX_GROWTH_EXPONENT)
        if exponent > _MAX_GROWTH_EXPONENT:
            self._rebase(at, 2.0**-exponent)
            exponent = 0.0
        return float(2.0**exponent)

    def _rebase(self, origin: datetime, factor: float) -> None:
        """Move the time origin, rescaling every stored mass so decayed values stay the same."""
        logger.debug("rebasing expertise statistics to %s", origin.isoformat())
        self._origin = origin
        self._total_length *= factor
        for person in self._people.values():
            person.length *= factor
            person.volume *= factor
            for stat in person.stats.values():
                stat.weight *= factor
