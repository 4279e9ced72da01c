"""Stale lessons: a lesson nobody verified for `STALE_LESSON_MONTHS` is offered to its authors for a review.

Each author is asked once per staleness, by direct message and within the nudge etiquette: "Still right" (the
lesson counts as verified by them), "Needs an update" (the facilitators hear of it) or "Retire" (the lesson is
deleted, and leaves every learning path). A verification starts the count again, so a lesson may be offered again
months later, never twice for the same staleness: the offer's nudge row (kind "lesson_review", subject
`lesson-review:ID:CHECKED`) is written with the direct message itself. Steward looks for stale lessons every few
working hours; an author it may not message now is asked at a later look.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.changes import Change, DeadlinesMet, Scheduled
from bot.core.actions import Action, Button, PostMessage, SendDirectMessage
from bot.core.events import Event, InteractionClicked, TimePassed
from bot.core.markup import defuse
from bot.core.paths import REVIEW_NUDGE, StaleLesson, review_subject
from bot.i18n import translate
from bot.rules import Decision, Errand, RuleBase, RuleContext
from facilitation_rules.etiquette import nudge, nudge_refusal
from facilitation_rules.paths import private
from facilitation_rules.working_time import WorkingHours

logger = logging.getLogger(__name__)

LOOK_EVERY_HOURS = 4.0  # working hours between two looks for stale lessons
ANSWERS = {"review_still_right": "still_right", "review_needs_update": "needs_update", "review_retire": "retire"}


def months_before(moment: datetime, months: int) -> datetime:
    """The same moment `months` calendar months earlier (the 31st becomes the month's last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    days = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30,
            31, 30, 31][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, days))


def stale_before(ctx: RuleContext) -> datetime | None:
    """Lessons last checked before this moment are stale; None when the review is off (0 months)."""
    months = ctx.settings.stale_lesson_months
    return months_before(ctx.now, months) if months > 0 else None


class LessonReview(RuleBase):
    """Looks for stale lessons now and then and hears the authors' answers; the shell reads and writes lessons."""

    name = "lesson_review"
    reacts_to = (InteractionClicked, TimePassed)

    def __init__(self, *, enabled: bool = False) -> None:
        self.enabled = enabled  # False until the app wires the knowledge store in

    def next_due(self, ctx: RuleContext) -> datetime | None:
        return ctx.state.timers.next(self.name) if self.enabled else None

    def seed(self, ctx: RuleContext) -> Decision:
        if not self.enabled or ctx.settings.stale_lesson_months <= 0:
            return ()
        return [Scheduled(self.name, ctx.now, "look", ())]

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if not self.enabled:
            return ()
        if isinstance(event, InteractionClicked) and event.action in ANSWERS:
            return [AnswerLessonReview(workspace=event.workspace, click=event, answer=ANSWERS[event.action])]
        if isinstance(event, TimePassed):
            return self.on_time(ctx)
        return ()

    def on_time(self, ctx: RuleContext) -> Decision:
        if not ctx.state.timers.due(self.name, ctx.now):
            return ()
        hours = WorkingHours(ctx.settings.steward_timezone or "UTC", ctx.settings.work_start_hour,
                             ctx.settings.work_end_hour, ctx.settings.working_weekdays)
        decision: list[Change | Errand] = [
            DeadlinesMet(self.name, ctx.now),
            Scheduled(self.name, max(hours.add(ctx.now, LOOK_EVERY_HOURS), ctx.now + timedelta(hours=1)), "look", ()),
        ]
        cutoff = stale_before(ctx)
        if cutoff is None or ctx.backfill:
            return decision
        decision.extend(OfferLessonReviews(workspace=ws, stale_before=cutoff) for ws in sorted(ctx.state.workspaces))
        return decision


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferLessonReviews(Errand):
    """Find the workspace's stale lessons and offer each to its authors who were not asked for this staleness."""

    stale_before: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerLessonReview(Errand):
    """An author's "Still right", "Needs an update" or "Retire"."""

    click: InteractionClicked
    answer: str

    def unserved(self, ctx: RuleContext) -> Decision:
        return [private(self.click, ctx, "review.failed")]


def authors_to_ask(
    lesson_id: int, authors: Iterable[str], subject: str, offered: set[str], asked: set[tuple[str, str]],
    ctx: RuleContext, workspace: str,
) -> Iterator[str]:
    """The authors to offer a review of `subject` now: none offered one in this look already (the nudge budget sees
    one at a time), none asked about this subject before, and only those the nudge etiquette lets Steward message
    now (the others at a later look). Each one yielded counts as offered."""
    for author in authors:
        if author in offered or (author, subject) in asked:
            continue
        refusal = nudge_refusal(ctx.member(workspace, author), ctx)
        if refusal is not None:
            logger.debug("lesson %s: not offering the review to %s now (%s)", lesson_id, author, refusal)
            continue
        offered.add(author)
        yield author


def offers(
    lessons: Sequence[StaleLesson], asked: set[tuple[str, str]], ctx: RuleContext, workspace: str
) -> list[Action | Change]:
    """One offer per author and look (the nudge budget sees one at a time), to authors not asked yet for the
    lesson's current staleness and who may be messaged now; the others are asked at a later look."""
    decision: list[Action | Change] = []
    offered: set[str] = set()
    for lesson in lessons:
        subject = review_subject(lesson.lesson_id, lesson.checked_at)
        for author in authors_to_ask(lesson.lesson_id, lesson.contributors, subject, offered, asked, ctx, workspace):
            member = ctx.member(workspace, author)
            decision += [
                nudge(ctx, member, kind=REVIEW_NUDGE, question_id=subject, reason="stale lesson"),
                offer(lesson, author, ctx, workspace),
            ]
    return decision


def offer(lesson: StaleLesson, author: str, ctx: RuleContext, workspace: str) -> SendDirectMessage:
    lang = ctx.language(workspace, author)
    value = str(lesson.lesson_id)
    months = ctx.settings.stale_lesson_months
    text = "\n".join(line for line in [
        translate("review.ask", lang, title=defuse(lesson.title), id=lesson.lesson_id, count=months),
        lesson.link,
        translate("review.why", lang),
    ] if line)
    return SendDirectMessage(
        key=f"lesson-review:{workspace}:{lesson.lesson_id}:{int(lesson.checked_at.timestamp())}:{author}",
        workspace=workspace,
        user=author,
        text=text,
        buttons=(
            Button("review_still_right", translate("button.review_still_right", lang), value, "primary"),
            Button("review_needs_update", translate("button.review_needs_update", lang), value),
            Button("review_retire", translate("button.review_retire", lang), value, "danger"),
        ),
    )


def tell_facilitators(
    workspace: str, lesson_id: int, title: str, author: str, answer: str, checked_at: datetime, ctx: RuleContext
) -> PostMessage:
    """The facilitators hear that an author wants a lesson updated, or retired it: once per lesson and staleness,
    however often the button is pressed."""
    return PostMessage(
        key=f"lesson-review-{answer}:{workspace}:{lesson_id}:{int(checked_at.timestamp())}",
        workspace=workspace,
        channel=ctx.settings.facilitators_channel,
        text=ctx.t(workspace, f"review.facilitators_{answer}", member=f"<@{author}>", id=lesson_id,
                   title=defuse(title)),
    )
