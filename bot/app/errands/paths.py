"""Learning-path and lesson-review errands: read and write the path store and the lessons, and answer with the
rules' actions (facilitation_rules.paths, facilitation_rules.lesson_review, facilitation_rules.lesson_contradictions).

Each write is guarded by the member's round, so an event handled again after a crash changes nothing twice, and
the actions it yields again carry the same outbox keys.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.core.cocreation import AGREED, DecisionRecord
from bot.core.paths import FINISHED, Enrolment, LessonText, PathRecord
from bot.i18n import translate
from bot.rules import Decision, RuleContext
from facilitation_rules import lesson_contradictions as contradiction_rule
from facilitation_rules import lesson_review as review_rule
from facilitation_rules import paths as path_rule
from facilitation_rules.lesson_contradictions import ReviewLessonsAgainst
from facilitation_rules.lesson_review import AnswerLessonReview, LessonReview, OfferLessonReviews
from facilitation_rules.paths import (
    AnswerPathLesson,
    DeliverPathLesson,
    LearningPaths,
    LoadPaths,
    PathCommand,
    next_step,
)
from storage.decisions import DecisionStore
from storage.lesson_model import Lesson
from storage.lesson_reviews import StaleLessons
from storage.lessons import LessonStore
from storage.paths import PathStore

if TYPE_CHECKING:
    from bot.app.engine import Engine

logger = logging.getLogger(__name__)

Flush = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


class PathErrands:
    def __init__(self, store: PathStore, *, before: Flush | None = None) -> None:
        self.store = store
        self.before = before or _nothing  # the engine's pending writes first: "delivered" nudge rows

    async def for_member(self, path: PathRecord, member: str) -> PathRecord:
        """The path as a member may see it: a lesson from a private channel only if they have written there."""
        if not any(step.private for step in path.steps):
            return path
        seen = await self.store.visible_channels(path.workspace_id, member)
        return dataclasses.replace(
            path, steps=tuple(s for s in path.steps if not s.private or s.channel_id in seen)
        )

    # --- commands --------------------------------------------------------------------------------------------
    async def command(self, errand: PathCommand, ctx: RuleContext) -> Decision:
        event, ws, verb, name = errand.command, errand.workspace, errand.verb, errand.name
        if verb == "list":
            found = [await self.for_member(p, event.user) for p in await self.store.all(ws)]
            if not found:
                return [ctx.reply(event, "paths.none")]
            return [ctx.reply(event, "paths.title", card=path_rule.paths_card(found, ctx, ws, event.user))]
        if verb == "new":
            path, created = await self.store.create(ws, name, errand.goal, by=event.user, now=ctx.now)
            if created:
                logger.info("learning path %s (%s) created in %s", path.id, name, ws)
            return [ctx.reply(event, "path.created" if created else "path.exists", name=name)]
        stored = await self.store.get(ws, name)
        if stored is None:
            return [ctx.reply(event, "path.not_found", name=name)]
        if verb in ("add", "remove", "delete"):
            return await self._edit(errand, stored, ctx)
        path = await self.for_member(stored, event.user)
        enrolment = await self.store.enrolment(ws, path.id, event.user)
        if verb == "show":
            card = path_rule.path_card(path, enrolment, ctx, ws, event.user)
            return [ctx.reply(event, "paths.title", card=card)]
        if verb == "stop":
            stopped = await self.store.stop(ws, path.id, event.user, ctx.now)
            return [ctx.reply(event, "path.stopped" if stopped else "path.not_following", name=name)]
        if verb == "start":
            return await self._start(errand, path, enrolment, ctx)
        return await self._next(errand, path, enrolment, ctx)

    async def _edit(self, errand: PathCommand, path: PathRecord, ctx: RuleContext) -> Decision:
        event, ws, name = errand.command, errand.workspace, errand.name
        if errand.verb == "delete":
            await self.store.delete_path(ws, name)
            logger.info("learning path %s (%s) deleted in %s", path.id, name, ws)
            return [ctx.reply(event, "path.deleted", name=name)]
        lesson_id = errand.lesson_id
        assert lesson_id is not None
        if errand.verb == "remove":
            removed = await self.store.remove_lesson(ws, path.id, lesson_id)
            return [ctx.reply(event, "path.removed" if removed else "path.not_on_path", name=name, id=lesson_id)]
        outcome = await self.store.add_lesson(ws, path.id, lesson_id, errand.position)
        if outcome == "no_lesson":
            return [ctx.reply(event, "path.no_lesson", id=lesson_id)]
        after = await self.store.by_id(ws, path.id)
        position = next((n for n, s in enumerate(after.steps, start=1) if s.lesson_id == lesson_id), 0) if after else 0
        return [ctx.reply(event, f"path.{outcome}", name=name, id=lesson_id, position=position)]

    async def _start(
        self, errand: PathCommand, path: PathRecord, enrolment: Enrolment | None, ctx: RuleContext
    ) -> Decision:
        event, ws, name = errand.command, errand.workspace, errand.name
        if enrolment is not None and enrolment.status == FINISHED and next_step(path, enrolment) is None:
            return [ctx.reply(event, "path.nothing_left", name=name)]
        lang = ctx.language(ws, event.user)
        pace = path_rule.pace_words(errand.pace, lang)
        after, fresh = await self.store.start(ws, path.id, event.user, pace=errand.pace, now=ctx.now, due=ctx.now)
        if not fresh:
            return [ctx.reply(event, "path.pace_changed", name=name, pace=pace)]
        logger.info("%s follows learning path %s in %s", event.user, path.id, ws)
        if not path.steps:
            return [path_rule.round_deadline(after), ctx.reply(event, "path.empty", name=name)]
        lessons = translate("path.n_lessons", lang, count=len(path.steps))
        started = ctx.reply(event, "path.started", name=name, lessons=lessons, pace=pace)
        return [path_rule.round_deadline(after), started]

    async def _next(
        self, errand: PathCommand, path: PathRecord, enrolment: Enrolment | None, ctx: RuleContext
    ) -> Decision:
        event, ws, name = errand.command, errand.workspace, errand.name
        if enrolment is None or not enrolment.active:
            return [ctx.reply(event, "path.not_following", name=name)]
        if next_step(path, enrolment) is None:
            return [ctx.reply(event, "path.nothing_left", name=name)]
        advanced = await self.store.advance(ws, path.id, event.user, from_round=enrolment.round, due=ctx.now,
                                            now=ctx.now, delivered=True)
        if advanced is None:  # moved on meanwhile (another replica, a click): the member asks again
            return [ctx.reply(event, "path.failed")]
        return [*path_rule.deliver(path, advanced, ctx, asked=True), ctx.reply(event, "path.next_sent", name=name)]

    # --- deliveries and answers ------------------------------------------------------------------------------
    async def deliver(self, errand: DeliverPathLesson, ctx: RuleContext) -> Decision:
        await self.before()  # a delivery decided moments ago must be seen as delivered
        ws, member = errand.workspace, errand.member
        enrolment = await self.store.enrolment(ws, errand.path_id, member)
        if enrolment is None or not enrolment.active or enrolment.round != errand.round:
            return ()
        if await self.store.delivered(enrolment):
            return ()
        stored = await self.store.by_id(ws, errand.path_id)
        if stored is None:
            return ()
        path = await self.for_member(stored, member)
        if next_step(path, enrolment) is not None:
            return path_rule.deliver(path, enrolment, ctx)
        if path.steps and await self.store.finish(ws, path.id, member, ctx.now):
            return [path_rule.congratulation(path, member, ctx)]
        # Nothing on the path yet: look again after the member's pace, when facilitators may have added lessons.
        later = path_rule.next_round_at(ctx, ws, member, enrolment.pace_days, ctx.now)
        return [dataclasses.replace(path_rule.round_deadline(enrolment), at=later)]

    async def answer(self, errand: AnswerPathLesson, ctx: RuleContext) -> Decision:
        click, ws = errand.click, errand.workspace
        parsed = path_rule.parse_button(click.value)
        stored = await self.store.by_id(ws, parsed[0]) if parsed else None
        if parsed is None or stored is None:
            return [path_rule.private(click, ctx, "path.gone")]
        _, lesson_id, round_ = parsed
        path = await self.for_member(stored, click.user)
        enrolment = await self.store.enrolment(ws, path.id, click.user)
        if enrolment is None or not enrolment.active:
            return [path_rule.private(click, ctx, "path.not_following", name=path.name)]
        if errand.answer == "later":
            return await self._later(errand, path, enrolment, round_, ctx)
        if lesson_id not in {s.lesson_id for s in path.steps}:
            return [path_rule.private(click, ctx, "path.gone")]
        if not await self.store.mark_done(ws, path.id, click.user, lesson_id, ctx.now):
            return [path_rule.private(click, ctx, "path.already_done")]
        enrolment = await self.store.enrolment(ws, path.id, click.user)
        assert enrolment is not None
        done = sum(1 for s in path.steps if s.lesson_id in enrolment.done)
        if next_step(path, enrolment) is None:
            finished = await self.store.finish(ws, path.id, click.user, ctx.now)
            logger.info("%s finished learning path %s in %s", click.user, path.id, ws)
            return [path_rule.congratulation(path, click.user, ctx)] if finished else ()
        due = path_rule.next_round_at(ctx, ws, click.user, enrolment.pace_days, ctx.now)
        advanced = await self.store.advance(ws, path.id, click.user, from_round=enrolment.round, due=due, now=ctx.now)
        decision: list[Any] = [path_rule.round_deadline(advanced)] if advanced is not None else []
        shown = path_rule.when(advanced.due_at if advanced else enrolment.due_at, ctx, ws, click.user)
        return [*decision, path_rule.private(click, ctx, "path.done_noted", done=done, total=len(path.steps),
                                             when=shown)]

    async def _later(
        self, errand: AnswerPathLesson, path: PathRecord, enrolment: Enrolment, round_: int, ctx: RuleContext
    ) -> Decision:
        click, ws = errand.click, errand.workspace
        if round_ != enrolment.round:  # an older message's button, or pressed twice: the plan stands
            shown = path_rule.when(enrolment.due_at, ctx, ws, click.user)
            return [path_rule.private(click, ctx, "path.later_noted", when=shown)]
        due = path_rule.next_round_at(ctx, ws, click.user, enrolment.pace_days, ctx.now)
        advanced = await self.store.advance(ws, path.id, click.user, from_round=round_, due=due, now=ctx.now)
        if advanced is None:
            return [path_rule.private(click, ctx, "path.failed")]
        return [path_rule.round_deadline(advanced),
                path_rule.private(click, ctx, "path.later_noted", when=path_rule.when(due, ctx, ws, click.user))]

    async def load(self, errand: LoadPaths, ctx: RuleContext) -> Decision:
        await self.before()
        return [path_rule.round_deadline(e) for e in await self.store.pending(errand.workspace)]


CONTRADICTION_CANDIDATES = 5  # lessons the search brings for a decision, best first, before the rule's stricter bar


class ReviewErrands:
    def __init__(
        self, lessons: LessonStore, stale: StaleLessons, decisions: DecisionStore | None = None, *,
        before: Flush | None = None,
    ) -> None:
        self.lessons, self.stale, self.decisions = lessons, stale, decisions
        self.before = before or _nothing  # offers decided moments ago must be seen as made

    async def offer(self, errand: OfferLessonReviews, ctx: RuleContext) -> Decision:
        """Stale lessons first; then lessons that decisions which stood lately bear on, for authors not asked yet
        (held back by quiet hours or the nudge budget when the decision stood)."""
        await self.before()
        ws = errand.workspace
        asked = await self.stale.asked(ws)
        found = await self.stale.stale(ws, errand.stale_before)
        decision: list[Any] = list(review_rule.offers(found, asked, ctx, ws)) if found else []
        if self.decisions is None:
            return decision
        busy = {getattr(item, "user", "") for item in decision}  # one offer per author and look
        for recent in await self.decisions.agreed_since(ws, contradiction_rule.recheck_since(ctx.now)):
            more = contradiction_rule.offers(recent, await self._candidates(recent.workspace_id, recent), asked, ctx,
                                             busy=busy)
            busy |= {getattr(item, "user", "") for item in more}
            decision += more
        return decision

    async def against_decision(self, errand: ReviewLessonsAgainst, ctx: RuleContext) -> Decision:
        """A decision just stood: offer the lessons it clearly bears on to their authors."""
        if ctx.backfill or self.decisions is None:  # importing history: nobody is asked about the past
            return ()
        await self.before()
        decision = await self.decisions.get(errand.workspace, errand.decision_id)
        if decision is None or decision.status != AGREED or decision.private:
            return ()
        candidates = await self._candidates(errand.workspace, decision)
        if not candidates:
            return ()
        return contradiction_rule.offers(decision, candidates, await self.stale.asked(errand.workspace), ctx)

    async def _candidates(self, workspace: str, decision: DecisionRecord) -> list[LessonText]:
        """The lessons the search relates to what the decision settled (public ones only), as the rule weighs them."""
        hits = await self.lessons.related(workspace, contradiction_rule.decided(decision),
                                          limit=CONTRADICTION_CANDIDATES)
        found = []
        for hit in hits:
            lesson = await self.lessons.get(workspace, int(hit.id)) if hit.id.isdigit() else None
            if lesson is not None and lesson.id is not None:
                found.append(_as_text(lesson))
        return found

    async def answer(self, errand: AnswerLessonReview, ctx: RuleContext) -> Decision:
        click, ws = errand.click, errand.workspace
        value = click.value
        lesson = await self.lessons.get(ws, int(value)) if value.isdigit() and len(value) <= 9 else None
        if lesson is None or lesson.id is None:
            return [path_rule.private(click, ctx, "review.gone")]
        if click.user not in lesson.contributors and not ctx.is_facilitator(ws, click.user, is_admin=click.is_admin):
            logger.info("%s answered the review of lesson %s, not theirs: refused", click.user, lesson.id)
            return [path_rule.private(click, ctx, "review.not_yours")]
        checked = lesson.verified_at or lesson.created_at
        if errand.answer == "still_right":
            await self.lessons.verify(ws, lesson.id, by=click.user, now=ctx.now)
            return [path_rule.private(click, ctx, "review.still_right_noted", id=lesson.id)]
        told = review_rule.tell_facilitators(ws, lesson.id, lesson.title, click.user, errand.answer, checked, ctx)
        if errand.answer == "needs_update":
            return [told, path_rule.private(click, ctx, "review.update_noted")]
        await self.lessons.delete(ws, lesson.id)
        logger.info("lesson %s retired by %s in %s", lesson.id, click.user, ws)
        return [told, path_rule.private(click, ctx, "review.retired", id=lesson.id)]


def _as_text(lesson: Lesson) -> LessonText:
    assert lesson.id is not None
    return LessonText(
        lesson_id=lesson.id, title=lesson.title,
        body=" ".join([lesson.summary, lesson.solution, *lesson.steps, *lesson.tips, *lesson.tags]),
        link=lesson.permalink or "",
        contributors=tuple(lesson.contributors or ()), checked_at=lesson.verified_at or lesson.created_at,
        private=lesson.private,
    )


def attach_paths(engine: Engine) -> PathStore:
    """Run the learning-path and lesson-review errands against their stores; forget-me takes a member's paths."""
    store = PathStore(engine.db)
    paths = PathErrands(store, before=engine.flush)
    engine.errands.register(PathCommand, paths.command)
    engine.errands.register(DeliverPathLesson, paths.deliver)
    engine.errands.register(AnswerPathLesson, paths.answer)
    engine.errands.register(LoadPaths, paths.load)
    reviews = ReviewErrands(LessonStore(engine.db), StaleLessons(engine.db), DecisionStore(engine.db),
                            before=engine.flush)
    engine.errands.register(OfferLessonReviews, reviews.offer)
    engine.errands.register(ReviewLessonsAgainst, reviews.against_decision)
    engine.errands.register(AnswerLessonReview, reviews.answer)
    engine.on_forget.append(store.forget_member)
    for rule in engine.rules:
        if isinstance(rule, LearningPaths | LessonReview):
            rule.enabled = True
    return store
