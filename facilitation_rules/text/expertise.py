"""Learned expertise: who is likely to answer a question like this one now, ranked incrementally.

Two kinds of evidence are kept. Every answer adds its question's and its own terms to the answerer's
answer statistics, weighted up when it was the first or the accepted answer. Every message a person
posts (``record_activity``) marks them as present and adds its terms to what they talk about, so asking
about a topic, or discussing it, counts as topical evidence too.

A new question is scored per person as a sum of log-scale evidence:

- presence: the person's rank among everyone by latest activity of any kind (someone who posted a
  minute ago is the likeliest to see the question), plus a slow decay with absolute time;
- willingness: how much they answered (decayed), and a penalty for people who never answered;
- topic: BM25 of the question against their answer statistics and against their own messages
  (people are the documents), each as a share of the best possible, plus registered topics.

In a young community presence and willingness dominate and topical evidence is thin; as history
grows, topical matches separate the people who are present. Everything decays with a half-life, so
people who moved on fade out.

Decay is kept incremental: stored values are scaled by ``2 ** (age / half_life)`` at the time they are
added, so old values never need rewriting, and one factor turns them into values "as of" a query time.
Memory grows with vocabulary and people (capped per person), never with the number of texts.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections import OrderedDict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from operator import itemgetter

from bot.core.text.tokens import terms_with_words

logger = logging.getLogger(__name__)

_MAX_GROWTH_EXPONENT = 900.0  # rebase scaled values well before floats overflow (2 ** 1024)
_REMEMBERED_QUESTIONS = 4096  # questions whose text was already credited to an answerer
_EXPLAINED_TERMS = 5
_MAX_TERMS_PER_PERSON = 1024  # beyond this a person's weakest terms are forgotten (bounds memory)
_KEPT_ON_PRUNE = 768
_RANKED_PRESENCE = 256  # people ranked by latest activity; everyone further back shares the last rank


MIN_IDF = 0.15
_TOPICAL_CANDIDATES = 64  # topical matches kept for the final ranking (besides the most present people)


@dataclass(frozen=True, slots=True)
class ExpertSuggestion:
    """One candidate expert, with what makes them a match (used to explain a nudge)."""

    user: str
    score: float
    matched_terms: tuple[str, ...]
    answers: int


@dataclass(frozen=True, slots=True)
class RankingWeights:
    """How presence, answering, topical match and the expert registry are blended (log-scale evidence)."""

    recency: float = 1.0
    volume: float = 0.5
    unproven: float = 1.0
    topic: float = 1.5
    said: float = 1.0
    registry: float = 3.0
    k1: float = 1.2
    b: float = 0.5
    question_text: float = 1.0
    answer_text: float = 0.5
    first_bonus: float = 1.0
    accepted_bonus: float = 1.0
    max_query_terms: int = 12
    said_query_terms: int = 6
    prior_candidates: int = 20


@dataclass(slots=True)
class _TermStat:
    """One person's decayed weight for a term, and how many of their texts contained it."""

    weight: float = 0.0
    texts: int = 0


@dataclass(slots=True)
class _Person:
    """Per-person activity (the decayed volume is scaled, see the module docstring)."""

    volume: float = 0.0
    answers: int = 0
    active_at: float = 0.0  # POSIX seconds of the latest message or answer


class _TermStore:
    """Decayed term statistics per person, searchable with BM25 (people are the documents)."""

    def __init__(self) -> None:
        self.postings: dict[str, dict[str, _TermStat]] = {}
        self.stats: dict[str, dict[str, _TermStat]] = {}
        self.lengths: dict[str, float] = {}
        self.total_length = 0.0

    def add(self, user: str, counts: dict[str, float], strength: float) -> None:
        """Add one text's term counts for a person, scaled by how much the text says about expertise."""
        stats = self.stats.setdefault(user, {})
        added = 0.0
        for term, count in counts.items():
            stat = stats.get(term)
            if stat is None:
                stat = stats[term] = _TermStat()
                self.postings.setdefault(term, {})[user] = stat
            stat.weight += count * strength
            stat.texts += 1
            added += count * strength
        self.lengths[user] = self.lengths.get(user, 0.0) + added
        self.total_length += added
        if len(stats) > _MAX_TERMS_PER_PERSON:
            self._prune(user, stats)

    def _prune(self, user: str, stats: dict[str, _TermStat]) -> None:
        """Forget a person's weakest terms; pruning a quarter at once keeps the cost amortised per term."""
        weakest = heapq.nsmallest(len(stats) - _KEPT_ON_PRUNE, stats.items(), key=lambda item: item[1].weight)
        for term, _ in weakest:
            del stats[term]
            holders = self.postings[term]
            del holders[user]
            if not holders:
                del self.postings[term]

    def remove(self, user: str) -> None:
        """Forget everything a person contributed."""
        for term in self.stats.pop(user, {}):
            holders = self.postings[term]
            del holders[user]
            if not holders:
                del self.postings[term]
        self.total_length -= self.lengths.pop(user, 0.0)

    def query(
        self, terms: Iterable[str], limit: int, registry: dict[str, set[str]], registered: int
    ) -> list[tuple[str, float]]:
        """The most informative of these terms with their idf; registered topics count as documents."""
        population = len(self.stats) + registered
        found: list[tuple[str, float]] = []
        for term in terms:
            frequency = len(self.postings.get(term, ())) + len(registry.get(term, ()))
            idf = math.log(1.0 + (population - frequency + 0.5) / (frequency + 0.5)) if frequency else 0.0
            if idf >= MIN_IDF:  # a term nearly everyone used says nothing about who knows the topic
                found.append((term, idf))
        found.sort(key=lambda item: -item[1])
        return found[:limit]

    def score(
        self,
        query: list[tuple[str, float]],
        decay: float,
        weights: RankingWeights,
        gain: float,
        scores: dict[str, float],
        present: Collection[str],
    ) -> None:
        """Add BM25 as a share of the best possible, so long and short questions weigh the same.

        Terms come rarest first. A term more people used than are kept as topical candidates cannot make
        anyone a strong match on its own, so it only adds to people already matched or present: the cost
        per question stays bounded as the community grows instead of scaling with everyone who used a word.
        """
        total_idf = sum(idf for _, idf in query)
        if not total_idf or not self.lengths:
            return
        average = (self.total_length * decay / len(self.lengths)) or 1.0
        k1, lengths, postings, current = weights.k1, self.lengths, self.postings, scores.get
        base, slope = k1 * (1.0 - weights.b), k1 * weights.b * decay / average
        for term, idf in query:
            holders = postings.get(term)
            if not holders:
                continue
            term_gain = gain * (idf / total_idf) * (k1 + 1.0)
            if len(holders) > _TOPICAL_CANDIDATES:
                held = holders.get
                candidates = [*scores, *(user for user in present if user not in scores)]  # in a stable order
                matched = [(user, stat) for user in candidates if (stat := held(user)) is not None]
            else:
                matched = list(holders.items())
            for user, stat in matched:  # the hot loop: locals only, no attribute look-ups per person
                tf = stat.weight * decay
                scores[user] = current(user, 0.0) + term_gain * tf / (tf + base + slope * lengths[user])

    def rescale(self, factor: float) -> None:
        """Multiply every stored mass (used when the time origin moves)."""
        self.total_length *= factor
        for user in self.lengths:
            self.lengths[user] *= factor
        for stats in self.stats.values():
            for stat in stats.values():
                stat.weight *= factor


class ExpertiseIndex:
    """Incremental expertise ranking over recorded answers, posted messages and registered topics."""

    def __init__(self, *, half_life: timedelta = timedelta(days=90), weights: RankingWeights | None = None) -> None:
        if half_life <= timedelta(0):
            raise ValueError("half_life must be positive")
        self._half_life_s = half_life.total_seconds()
        self._weights = weights or RankingWeights()
        self._origin: datetime | None = None
        self._people: dict[str, _Person] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._answered = _TermStore()
        self._said = _TermStore()
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
        strength = (1.0 + (w.first_bonus if first else 0.0) + (w.accepted_bonus if accepted else 0.0)) * growth
        person = self._present(answerer, at)
        person.volume += strength
        person.answers += 1
        counts: dict[str, float] = {}
        if self._credit_question(question_id, answerer):
            self._count(question_text, w.question_text, counts)
        self._count(answer_text, w.answer_text, counts)
        self._answered.add(answerer, counts, strength)

    def record_activity(self, user: str, at: datetime, text: str = "") -> None:
        """Learn that someone posted a message: they are present, and their words show what they know.

        Meant to be called for every message (questions included: who asks about a topic often answers
        it later). Cost is one pass over the text's terms.
        """
        growth = self._growth(at)
        self._present(user, at)
        counts: dict[str, float] = {}
        self._count(text, 1.0, counts)
        if counts:
            self._said.add(user, counts, growth)

    def answered(self, user: str) -> int:
        """How many answers this person has given (0: only asked or chatted so far)."""
        person = self._people.get(user)
        return person.answers if person is not None else 0

    def forget(self, user: str) -> None:
        """A member asked Steward to forget them: they are never suggested again and leave no trace here."""
        self.set_registered_topics(user, ())
        self._people.pop(user, None)
        self._recent.pop(user, None)
        self._answered.remove(user)
        self._said.remove(user)
        for credited in self._credited.values():
            credited.discard(user)

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

        The score adds up how present a person is (rank by latest activity, and time since), how much
        they answered (first and accepted answers count more), how well their answers and their own
        messages match the question's terms (BM25), and registered topics the question mentions.
        """
        if limit <= 0:
            return []
        excluded = set(exclude)
        terms = list(dict.fromkeys(term for term, _ in self._terms(question_text)))
        decay = 1.0 / self._growth(at) if self._origin is not None else 1.0
        w = self._weights
        query = self._answered.query(terms, w.max_query_terms, self._registry_postings, len(self._registered))
        ranks = self._presence_ranks(excluded)
        present = list(islice(ranks, w.prior_candidates))
        scores: dict[str, float] = {}
        self._answered.score(query, decay, w, w.topic, scores, present)
        said = self._said.query(terms, w.said_query_terms, {}, 0)
        self._said.score(said, decay, w, w.said, scores, present)
        self._add_registry(query, scores)
        for user in excluded:
            scores.pop(user, None)
        if len(scores) > _TOPICAL_CANDIDATES:  # the priors only reorder strong topical matches and present people
            scores = dict(heapq.nlargest(_TOPICAL_CANDIDATES, scores.items(), key=itemgetter(1)))
        for user in present:
            scores.setdefault(user, 0.0)
        self._add_priors(scores, ranks, at, decay)
        best = heapq.nlargest(limit, scores.items(), key=itemgetter(1, 0))
        return [self._explain(user, score, query, decay) for user, score in best]

    def _add_registry(self, query: list[tuple[str, float]], scores: dict[str, float]) -> None:
        """Registered topics the question mentions, as a share of the question's information."""
        total_idf = sum(idf for _, idf in query)
        for term, idf in query:
            for user in self._registry_postings.get(term, ()):
                scores[user] = scores.get(user, 0.0) + self._weights.registry * idf / total_idf

    def _presence_ranks(self, excluded: set[str]) -> dict[str, int]:
        """The most recently active people (not excluded), most recent first, with their rank."""
        # Excluded people can only displace that many of the most recent, so this slice always suffices.
        kept = list(islice(reversed(self._recent), _RANKED_PRESENCE + len(excluded)))
        for user in excluded:
            if user in kept:
                kept.remove(user)
        del kept[_RANKED_PRESENCE:]
        return dict(zip(kept, range(len(kept)), strict=True))

    def _add_priors(self, scores: dict[str, float], ranks: dict[str, int], at: datetime, decay: float) -> None:
        """Add log-scale evidence that each person is around and answers: presence and decayed volume.

        Rank rather than elapsed time measures presence because communities differ in pace by orders
        of magnitude. People who only registered topics get no prior: there is no evidence either way.
        """
        w, people, log1p, rank_of = self._weights, self._people, math.log1p, ranks.get
        volume, unproven, recency = w.volume, w.unproven, w.recency
        now = at.timestamp()
        per_second = math.log(2.0) / self._half_life_s
        for user in scores:
            person = people.get(user)
            if person is None:
                continue
            staleness = log1p(rank_of(user, _RANKED_PRESENCE)) + per_second * max(now - person.active_at, 0.0)
            willingness = volume * log1p(person.volume * decay) - (unproven if not person.answers else 0.0)
            scores[user] += willingness - recency * staleness

    def _explain(self, user: str, score: float, query: list[tuple[str, float]], decay: float) -> ExpertSuggestion:
        """Name the answered terms that made this person a match, strongest first, and count those answers."""
        stats = self._answered.stats.get(user, {})
        registered = self._registered.get(user, frozenset())
        weighted: list[tuple[float, str]] = []
        answers = 0
        for term, idf in query:
            stat = stats.get(term)
            if stat is not None:
                weighted.append((idf * stat.weight * decay, term))
                answers = max(answers, stat.texts)
            elif term in registered:
                weighted.append((idf * self._weights.registry, term))
        weighted.sort(reverse=True)
        matched = tuple(self._surface.get(term, term) for _, term in weighted[:_EXPLAINED_TERMS])
        return ExpertSuggestion(user=user, score=round(score, 6), matched_terms=matched, answers=answers)

    # -- helpers ----------------------------------------------------------------------------------

    def _present(self, user: str, at: datetime) -> _Person:
        """Mark a person as the most recently active one."""
        person = self._people.setdefault(user, _Person())
        person.active_at = max(at.timestamp(), person.active_at)
        self._recent[user] = None
        self._recent.move_to_end(user)
        return person

    def _terms(self, text: str) -> Iterable[tuple[str, str]]:
        """Stemmed terms of a text, remembering a readable word for each stem."""
        pairs = terms_with_words(text) if text else []
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
        for person in self._people.values():
            person.volume *= factor
        self._answered.rescale(factor)
        self._said.rescale(factor)
