"""Answered but never confirmed: ask the asker, once, whether the answers solved it.

Most askers never mark a question solved, so "answered" and "solved" drift apart: the digest's resolution
figure means little, lessons miss their best threads, and an asker who is still stuck after a first reply
falls out of sight (the stuck rule only watches questions nobody answered). A working day after the first
response, if the question is still open, Steward sends the asker one direct message with a "Solved" button and
the offer to bring in a facilitator. It is help, not work: mute and quiet hours hold, the nudge budget does not.

Only questions answered in their thread or by an explicit reply are asked about (an answer inferred in a flat
channel is often banter), and a member is asked at most once a week, however many questions they ask. Both
facts are stored (the question's `confirm_asked_at`, the member's confirmation nudges), so a restart neither
repeats a question nor forgets one that fell due while Steward was down.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.changes import Change, DeadlinesMet, Scheduled, Set
from bot.core.actions import Action, Button, SendDirectMessage
from bot.core.events import Event, MessageUnderstood, TimePassed
from bot.core.markup import excerpt
from bot.i18n import translate
from bot.rules import Decision, RuleBase, RuleContext
from bot.state import QuestionState
from facilitation_rules.etiquette import nudge, nudge_refusal
from facilitation_rules.unanswered import working_hours

logger = logging.getLogger(__name__)

KIND = "confirm"
GIVE_UP = timedelta(days=7)  # never ask about an answer older than this
ONCE_PER = timedelta(days=7)  # at most one such question per member in this span
EXPLICIT = frozenset({"thread", "reply"})


class AnswerConfirmation(RuleBase):
    name = "confirm"
    reacts_to = (MessageUnderstood, TimePassed)

    def next_due(self, ctx: RuleContext) -> datetime | None:
        return ctx.state.timers.next(self.name)

    def seed(self, ctx: RuleContext) -> Decision:
        """After a start, every open question not asked about yet (one that fell due while Steward was down is
        asked now, unless it is older than `GIVE_UP`)."""
        decision = []
        for question in ctx.state.unresolved.values():
            due = self._due(ctx, question)
            if due is not None and question.confirm_asked_at is None:
                decision.append(Scheduled(self.name, due, KIND, (question.workspace_id, question.id)))
        return decision

    def _due(self, ctx: RuleContext, question: QuestionState) -> datetime | None:
        """When to ask: `confirm_after_hours` working hours after the first response (None: never)."""
        hours = ctx.settings.confirm_after_hours
        if not hours or question.first_response_at is None or question.followup:
            return None
        if question.answered_how not in EXPLICIT:
            return None
        return working_hours(ctx, question).add(question.first_response_at, hours)

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if isinstance(event, MessageUnderstood):
            answer = event.answer
            if answer is not None and answer.first and not ctx.backfill:  # history is never asked about
                question = ctx.state.question(event.workspace, answer.question_id)
                due = self._due(ctx, question) if question is not None else None
                if question is not None and due is not None:
                    return [Scheduled(self.name, due, KIND, (question.workspace_id, question.id))]
            return ()
        if isinstance(event, TimePassed):
            due_now = ctx.state.timers.due(self.name, ctx.now)
            decision: list[Action | Change] = [DeadlinesMet(self.name, ctx.now)] if due_now else []
            asked: set[tuple[str, str]] = set()  # once per sweep and member (the weekly cap, before it is applied)
            for _, _, (ws, qid) in due_now:
                question = ctx.state.question(ws, qid)
                if question is not None and (ws, question.asker_id) not in asked:
                    step = self.ask(question, ctx)
                    if any(isinstance(item, SendDirectMessage) for item in step):
                        asked.add((ws, question.asker_id))
                    decision.extend(step)
            return decision
        return ()

    def ask(self, question: QuestionState, ctx: RuleContext) -> list[Action | Change]:
        """The one question to the asker, if their question is still open and they may be messaged now."""
        if ctx.backfill or question.status != "answered" or question.first_response_at is None:
            return []
        if question.confirm_asked_at is not None:
            return []  # asked already (before a restart, or by another replica)
        if ctx.now - question.first_response_at > GIVE_UP:
            return []  # their quiet hours kept covering the community's working hours: let it rest
        ws = question.workspace_id
        member = ctx.member(ws, question.asker_id)
        refusal = nudge_refusal(member, ctx, budgeted=False)
        if refusal == "quiet hours":  # ask in their next working hour instead
            later = working_hours(ctx, question).add(ctx.now, 1.0)
            return [Scheduled(self.name, later, KIND, (ws, question.id))]
        if refusal is not None:
            logger.debug("not asking %s to confirm %s: %s", member.id, question.id, refusal)
            return []
        last = member.last_nudged.get(KIND)
        if last is not None and ctx.now - last < ONCE_PER:
            return []
        lang = ctx.language(ws, member.id)
        return [
            Set.question(question, confirm_asked_at=ctx.now),
            nudge(ctx, member, kind=KIND, question_id=question.id, reason="answered, not confirmed"),
            SendDirectMessage(
                key=f"confirm:{question.id}",
                workspace=ws,
                user=member.id,
                text=translate(
                    "confirm.ask", lang, channel=f"<#{question.channel_id}>", excerpt=excerpt(question.text)
                ),
                buttons=(
                    Button("solved", translate("button.solved", lang), question.id, "primary"),
                    Button("call_facilitator", translate("button.still_stuck", lang), question.id),
                ),
            )
        ]
