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
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.actions import Action, Button, SendDirectMessage
from bot.core.events import Event, MessageUnderstood, TimePassed
from bot.core.markup import excerpt
from bot.i18n import translate
from bot.rules import RuleBase, RuleContext
from bot.state import QuestionState
from facilitation_rules.etiquette import nudge_refusal, record_nudge
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
        self._seed(ctx)
        return ctx.state.timers.next(self.name)

    def _seed(self, ctx: RuleContext) -> None:
        """After a start, schedule every open question not asked about yet (one that fell due while Steward was
        down is asked now, unless it is older than `GIVE_UP`)."""
        if not ctx.state.timers.needs_seeding(self.name):
            return
        for question in list(ctx.state.unresolved.values()):
            due = self._due(ctx, question)
            if due is not None and question.confirm_asked_at is None:
                ctx.state.timers.schedule(self.name, due, KIND, question.workspace_id, question.id)

    def _due(self, ctx: RuleContext, question: QuestionState) -> datetime | None:
        """When to ask: `confirm_after_hours` working hours after the first response (None: never)."""
        hours = ctx.settings.confirm_after_hours
        if not hours or question.first_response_at is None or question.followup:
            return None
        if question.answered_how not in EXPLICIT:
            return None
        return working_hours(ctx, question).add(question.first_response_at, hours)

    def handle(self, event: Event, ctx: RuleContext) -> Sequence[Action]:
        if isinstance(event, MessageUnderstood):
            answer = event.answer
            if answer is not None and answer.first and not ctx.backfill:  # history is never asked about
                question = ctx.state.question(event.workspace, answer.question_id)
                if question is not None:
                    self._seed(ctx)
                    due = self._due(ctx, question)
                    if due is not None:
                        ctx.state.timers.schedule(self.name, due, KIND, question.workspace_id, question.id)
            return ()
        if isinstance(event, TimePassed):
            self._seed(ctx)
            actions: list[Action] = []
            for _, _, (ws, qid) in ctx.state.timers.pop_due(self.name, ctx.now):
                question = ctx.state.question(ws, qid)
                if question is not None:
                    actions.extend(self.ask(question, ctx))
            return actions
        return ()

    def ask(self, question: QuestionState, ctx: RuleContext) -> list[Action]:
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
            ctx.state.timers.schedule(self.name, later, KIND, ws, question.id)
            return []
        if refusal is not None:
            logger.debug("not asking %s to confirm %s: %s", member.id, question.id, refusal)
            return []
        last = member.last_nudged.get(KIND)
        if last is not None and ctx.now - last < ONCE_PER:
            return []
        question.confirm_asked_at = ctx.now
        ctx.state.touch_question(question)
        record_nudge(ctx, member, kind=KIND, question_id=question.id, reason="answered, not confirmed")
        ctx.state.touch_member(member)
        lang = ctx.language(ws, member.id)
        return [
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
