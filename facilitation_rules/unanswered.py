"""Unanswered questions: a gentle flag after the channel's answer time, then the facilitators, then stale.

Deadlines count working hours in the workspace's time zone, so nothing is flagged over a weekend. Each step
is decided from the question's stored timestamps, and its action's key names the question, so a restart or a
second replica never flags twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.changes import Change, DeadlinesMet, Scheduled, Set
from bot.core.actions import Action, Button, PostMessage
from bot.core.events import (
    CommandInvoked,
    Decided,
    Event,
    InteractionClicked,
    MessageUnderstood,
    QuestionsFlagged,
    TimePassed,
)
from bot.core.markup import excerpt
from bot.i18n import duration, translate
from bot.rules import Command, Decision, RuleBase, RuleContext
from bot.state import QuestionState
from facilitation_rules.working_time import WorkingHours

logger = logging.getLogger(__name__)

def working_hours(ctx: RuleContext, question: QuestionState) -> WorkingHours:
    settings = ctx.settings
    return WorkingHours(
        timezone=ctx.workspace(question.workspace_id).timezone,
        start_hour=settings.work_start_hour,
        end_hour=settings.work_end_hour,
        weekdays=settings.working_weekdays,
    )


def answer_time(ctx: RuleContext, question: QuestionState) -> float:
    """Hours to wait for an answer: the channel's own setting, else the default."""
    channel = ctx.channel(question.workspace_id, question.channel_id)
    return float(channel.settings.get("answer_time_hours", ctx.settings.answer_time_hours))


def flag_due(ctx: RuleContext, question: QuestionState, factor: float = 1.0) -> datetime:
    return working_hours(ctx, question).add(question.asked_at, answer_time(ctx, question) * factor)


def flag_buttons(ctx: RuleContext, question: QuestionState, member: str | None = None) -> tuple[Button, ...]:
    """The buttons on a flag (in the question's language) or a nudge (in the nudged member's, if known)."""
    lang = ctx.language(question.workspace_id, member, otherwise=question.language)
    return (
        Button("claim", translate("button.claim", lang), question.id, "primary"),
        Button("solved", translate("button.solved", lang), question.id),
        Button("not_a_question", translate("button.not_a_question", lang), question.id),
    )


class UnansweredQuestions(RuleBase):
    name = "unanswered"
    reacts_to = (MessageUnderstood, InteractionClicked, TimePassed)

    def commands(self) -> Mapping[str, Command]:
        return {"unanswered": Command("unanswered", self.list_command, "help.unanswered")}

    def next_due(self, ctx: RuleContext) -> datetime | None:
        return ctx.state.timers.next(self.name)

    def seed(self, ctx: RuleContext) -> Decision:
        """After a start, the next step of every question still waiting."""
        return [step for q in ctx.state.awaiting_answer() if not q.followup for step in self._next_step(ctx, q)]

    def _next_step(
        self, ctx: RuleContext, q: QuestionState, *, flagged_at: datetime | None = None,
        escalated_at: datetime | None = None,
    ) -> list[Scheduled]:
        """The question's next deadline; `flagged_at`/`escalated_at`: a step decided just now."""
        flagged_at, escalated_at = flagged_at or q.flagged_at, escalated_at or q.escalated_at
        subject = (q.workspace_id, q.id)
        if flagged_at is None:
            if q.checked_at is not None:
                return []  # the asker was asked whether it was answered: their answer decides
            return [Scheduled(self.name, flag_due(ctx, q), "flag", subject)]
        if escalated_at is None:
            due = working_hours(ctx, q).add(flagged_at, ctx.settings.escalation_hours)
            return [Scheduled(self.name, due, "escalate", subject)]
        if q.stale_at is None:
            return [Scheduled(self.name, q.asked_at + timedelta(days=ctx.settings.stale_after_days), "stale", subject)]
        return []

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if isinstance(event, MessageUnderstood):
            question = ctx.state.question(event.workspace, event.question_id) if event.question_id else None
            if question is not None and not question.followup:
                return self._next_step(ctx, question)
            return ()
        if isinstance(event, InteractionClicked) and event.action == "claim":
            return self.claim(event, ctx)
        if isinstance(event, InteractionClicked) and event.action == "still_open":
            return self.still_open(event, ctx)
        if isinstance(event, TimePassed):
            return self.sweep(ctx)
        return ()

    def sweep(self, ctx: RuleContext) -> list[Action | Decided | Change]:
        """Flag, escalate or retire what fell due; the flagged questions are told to the other rules."""
        due = ctx.state.timers.due(self.name, ctx.now)
        if not due:
            return []
        decision: list[Action | Decided | Change] = [DeadlinesMet(self.name, ctx.now)]
        flagged: dict[str, list[str]] = {}  # workspace -> question ids, in the order flagged
        for _, step, (ws, qid) in due:
            question = ctx.state.question(ws, qid)
            if question is None or not question.awaiting_answer:
                continue
            if step == "flag" and question.flagged_at is None:
                confidence = ctx.state.tracker(ws).doubts.unanswered_confidence(question.id)
                if confidence < ctx.settings.flag_confidence:
                    decision.extend(self.check_with_asker(question, ctx, confidence))
                    continue
                decision.extend(self.flag(question, ctx, confidence))
                flagged.setdefault(ws, []).append(question.id)
                decision.extend(self._next_step(ctx, question, flagged_at=ctx.now))
            elif step == "escalate" and question.escalated_at is None and question.claimed_by is None:
                decision.extend(self.escalate(question, ctx))
                decision.extend(self._next_step(ctx, question, escalated_at=ctx.now))
            elif step == "stale":
                decision.append(Set.question(question, status="stale", stale_at=ctx.now))
            else:
                decision.extend(self._next_step(ctx, question))
        for ws, ids in flagged.items():
            decision.append(QuestionsFlagged(workspace=ws, at=ctx.now, question_ids=tuple(ids)))
        return decision

    def flag(self, q: QuestionState, ctx: RuleContext, confidence: float | None = None) -> list[Action | Change]:
        hours = answer_time(ctx, q)
        known = {"unanswered_confidence": round(confidence, 3)} if confidence is not None else {}
        return [
            Set.question(q, status="flagged", flagged_at=ctx.now, **known),
            PostMessage(
                key=f"flag:{q.id}",
                workspace=q.workspace_id,
                channel=q.channel_id,
                thread=q.id,
                text=ctx.t(
                    q.workspace_id, "flag.unanswered", language=q.language, asker=f"<@{q.asker_id}>", count=hours
                ),
                buttons=flag_buttons(ctx, q),
            ),
        ]

    def check_with_asker(self, q: QuestionState, ctx: RuleContext, confidence: float) -> list[Action | Change]:
        """Steward is unsure the question is unanswered (someone may have answered in the flow of the channel):
        it asks the asker, in the question's thread, instead of flagging it and nudging experts."""
        logger.info("question %s: unanswered with probability %.2f only; asking the asker", q.id, confidence)
        lang = ctx.language(q.workspace_id, q.asker_id, otherwise=q.language)
        return [
            Set.question(q, checked_at=ctx.now, unanswered_confidence=round(confidence, 3)),
            PostMessage(
                key=f"check:{q.id}",
                workspace=q.workspace_id,
                channel=q.channel_id,
                thread=q.id,
                text=translate("check.asker", lang, asker=f"<@{q.asker_id}>"),
                buttons=(
                    Button("solved", translate("button.answered", lang), q.id, "primary"),
                    Button("still_open", translate("button.still_open", lang), q.id),
                ),
            ),
        ]

    def still_open(self, event: InteractionClicked, ctx: RuleContext) -> list[Action | Decided | Change]:
        """The asker says nobody answered: flag it now, and the experts are asked as for any flag."""
        q = ctx.state.question(event.workspace, event.value)
        if q is None or not q.awaiting_answer or q.flagged_at is not None:
            return []
        if event.user != q.asker_id and not ctx.is_facilitator(event.workspace, event.user, is_admin=event.is_admin):
            return []  # only the asker (or a facilitator) knows; the questions rule gives the refusal
        return [
            *self.flag(q, ctx, q.unanswered_confidence),
            QuestionsFlagged(workspace=q.workspace_id, at=ctx.now, question_ids=(q.id,)),
            *self._next_step(ctx, q, flagged_at=ctx.now),
        ]

    def escalate(self, q: QuestionState, ctx: RuleContext) -> list[Action | Change]:
        """To the facilitators' channel: who waits where, for how long, and what (unless the channel is private:
        its words stay in it, and the link takes a facilitator who belongs there to the question)."""
        waited = (ctx.now - q.asked_at).total_seconds()
        lang = ctx.language(q.workspace_id)  # the facilitators' channel speaks the workspace's language
        private = ctx.channel(q.workspace_id, q.channel_id).private
        quoted = translate("escalate.private_question", lang) if private else excerpt(q.text)
        return [
            Set.question(q, status="escalated", escalated_at=ctx.now),
            PostMessage(
                key=f"escalate:{q.id}",
                workspace=q.workspace_id,
                channel=ctx.settings.facilitators_channel,
                text=translate(
                    "escalate.question",
                    lang,
                    asker=f"<@{q.asker_id}>",
                    channel=f"<#{q.channel_id}>",
                    waited=duration(waited, lang),
                    excerpt=quoted,
                    experts=(
                        translate("escalate.private_experts", lang, count=len(q.nudged_experts)) if private
                        else ", ".join(f"<@{e}>" for e in q.nudged_experts) or "-"
                    ),
                ),
                buttons=flag_buttons(ctx, q),
            ),
        ]

    def claim(self, event: InteractionClicked, ctx: RuleContext) -> list[Action | Change]:
        q = ctx.state.question(event.workspace, event.value)
        if q is None or q.resolved:
            return []
        return [
            Set.question(q, claimed_by=event.user),
            PostMessage(
                key=f"claim:{q.id}:{event.user}",
                workspace=q.workspace_id,
                channel=q.channel_id,
                thread=q.id,
                text=ctx.t(
                    q.workspace_id, "flag.claimed", language=q.language, member=f"<@{event.user}>",
                    asker=f"<@{q.asker_id}>",
                ),
            )
        ]

    def list_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        """The questions still waiting: every public channel's, and a private channel's only when asked in it
        (whoever runs the command there belongs there)."""
        waiting = sorted(
            (
                q for q in ctx.state.awaiting_answer()
                if q.workspace_id == event.workspace
                and (q.channel_id == event.channel or not ctx.channel(q.workspace_id, q.channel_id).private)
            ),
            key=lambda q: q.asked_at,
        )
        if not waiting:
            return [ctx.reply(event, "unanswered.none")]
        lines = "\n".join(f"• <#{q.channel_id}> <@{q.asker_id}>: {excerpt(q.text, 120)}" for q in waiting[:10])
        return [ctx.reply(event, "unanswered.list", count=len(waiting), lines=lines)]
