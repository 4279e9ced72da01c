"""Lessons contradicted by a newer decision: when a decision stands, the lessons it clearly bears on are offered to
their authors for review, naming the decision.

Precision first, since a wrong offer asks a busy author to re-read a lesson for nothing. A lesson is offered only
when all of this holds:

- the decision stands (agreed by consent, not superseded) and comes from a public channel, and the lesson is
  public too: a private channel's decision is never named to anyone outside it;
- the decision was recorded after the lesson's last verification (else its capture): an author who confirmed the
  lesson after the decision has seen it already;
- the two are about the same thing: at least `MIN_SHARED_WORDS` of the content words of what was decided (the
  decision's title and outcome, without the words that only say that something was decided) appear in the lesson,
  and they are at least `MIN_SHARE` of those words. The lesson search found the candidates (its related-lesson score
  is this share over search terms, with a floor of 0.5 and two words); the bar here is stricter on both.

Each author hears of one lesson and decision once, never twice: the offer's nudge row (kind "lesson_review",
subject `lesson-decision:LESSON:DECISION`) is written with the direct message, within the nudge etiquette. The
answers are the stale-lesson review's ("Still right", "Needs an update", "Retire"), handled by
facilitation_rules.lesson_review. Reading decisions and lessons is the shell's (bot.app.errands.paths).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.changes import Change
from bot.core.actions import Action, Button, SendDirectMessage
from bot.core.cocreation import AGREED, DecisionRecord
from bot.core.markup import defuse, excerpt
from bot.core.paths import REVIEW_NUDGE, LessonText, contradiction_subject
from bot.core.text.tokens import ENGLISH_STOP_WORDS, GERMAN_STOP_WORDS, stem, words
from bot.i18n import translate
from bot.rules import Errand, RuleContext
from facilitation_rules.etiquette import nudge
from facilitation_rules.lesson_review import authors_to_ask

logger = logging.getLogger(__name__)

MIN_SHARED_WORDS = 3  # two shared words ("Teams", "SharePoint") name a tool, not a topic
MIN_SHARE = 0.7  # of the decision's content words, found in the lesson
RECHECK_DAYS = 14  # a decision that stood this recently is looked at again for authors not yet asked
# How decisions are said, not what they are about ("let's go with", "one per session", "dann machen wir es so"),
# and German function words the shared stop list leaves in: they would make any two decisions look alike.
_DECIDING = frozenset({
    "go", "going", "goes", "let", "lets", "decide", "decided", "decision", "agree", "agreed", "settle", "settled",
    "per", "beschlossen", "entschieden", "entscheiden", "geeinigt", "einigen", "machen", "gut", "es", "ab", "ins",
    "kommt", "kommen",
})  # fmt: skip
_STOP = ENGLISH_STOP_WORDS | GERMAN_STOP_WORDS | _DECIDING


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewLessonsAgainst(Errand):
    """A decision stood: find the lessons it bears on and offer them to their authors (the shell reads both)."""

    decision_id: int


def content_words(text: str) -> list[frozenset[str]]:
    """Each distinct content word of a text as its English and German stems (communities mix both languages, so a
    word counts as shared when either stem is), stop words, numbers and single letters left out."""
    found: dict[frozenset[str], None] = {}
    for word in words(text):
        if len(word) < 2 or word.isdigit() or word in _STOP:
            continue
        found[frozenset((stem(word, "en"), stem(word, "de")))] = None
    return list(found)


def decided(decision: DecisionRecord) -> str:
    """What a decision settled, in its own words: its title and its outcome (not the options it turned down)."""
    return f"{decision.title}. {decision.outcome}"


def overlap(decision: DecisionRecord, lesson: LessonText) -> tuple[int, float]:
    """How many of the decision's content words the lesson holds, and their share of the decision's words."""
    wanted = content_words(decided(decision))
    if not wanted:
        return 0, 0.0
    have = {s for group in content_words(f"{lesson.title}. {lesson.body}") for s in group}
    shared = sum(1 for group in wanted if group & have)
    return shared, shared / len(wanted)


def bears_on(decision: DecisionRecord, lesson: LessonText) -> bool:
    """Whether the decision clearly bears on the lesson: a standing public decision, newer than the lesson's last
    check, about the same thing."""
    if decision.status != AGREED or decision.private or lesson.private:
        return False
    if decision.recorded_at <= lesson.checked_at:
        return False
    shared, share = overlap(decision, lesson)
    return shared >= MIN_SHARED_WORDS and share >= MIN_SHARE


def offers(
    decision: DecisionRecord,
    lessons: Sequence[LessonText],
    asked: set[tuple[str, str]],
    ctx: RuleContext,
    *,
    busy: Collection[str] = (),
) -> list[Action | Change]:
    """One offer per author (the nudge budget sees one at a time; `busy` authors had one already) for each lesson the
    decision bears on, to authors not asked about that lesson and decision yet who may be messaged now; the others
    at a later look."""
    ws = decision.workspace_id
    decision_out: list[Action | Change] = []
    offered: set[str] = set(busy)
    for lesson in lessons:
        if not bears_on(decision, lesson):
            continue
        subject = contradiction_subject(lesson.lesson_id, decision.id)
        for author in authors_to_ask(lesson.lesson_id, lesson.contributors, subject, offered, asked, ctx, ws):
            member = ctx.member(ws, author)
            logger.info(
                "lesson %s offered to %s for review: decision %s bears on it", lesson.lesson_id, author, decision.id
            )
            decision_out += [
                nudge(ctx, member, kind=REVIEW_NUDGE, question_id=subject, reason="newer decision"),
                offer(decision, lesson, author, ctx),
            ]
    return decision_out


def offer(decision: DecisionRecord, lesson: LessonText, author: str, ctx: RuleContext) -> SendDirectMessage:
    """The direct message: which decision, which lesson, and the review's three buttons."""
    ws = decision.workspace_id
    lang = ctx.language(ws, author)
    value = str(lesson.lesson_id)
    text = "\n".join(
        line
        for line in [
            translate(
                "review.contradicted",
                lang,
                id=lesson.lesson_id,
                title=defuse(excerpt(lesson.title, 120)),
                decision=decision.id,
                decision_title=defuse(excerpt(decision.title, 120)),
            ),
            translate("review.contradicted_outcome", lang, outcome=defuse(excerpt(decision.outcome, 300)))
            if decision.outcome
            else "",
            decision.permalink,
            lesson.link,
            translate("review.contradicted_why", lang),
        ]
        if line
    )
    return SendDirectMessage(
        key=f"lesson-decision:{ws}:{lesson.lesson_id}:{decision.id}:{author}",
        workspace=ws,
        user=author,
        text=text,
        buttons=(
            Button("review_still_right", translate("button.review_still_right", lang), value, "primary"),
            Button("review_needs_update", translate("button.review_needs_update", lang), value),
            Button("review_retire", translate("button.review_retire", lang), value, "danger"),
        ),
    )


def recheck_since(now: datetime) -> datetime:
    """Decisions that stood after this moment are looked at again at each look for stale lessons."""
    return now - timedelta(days=RECHECK_DAYS)
