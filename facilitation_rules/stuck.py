"""Stuck members: nobody should stay stuck.

A member is stuck when their question waits past twice the answer time, when they ask again what they asked
before, or when they say so. Steward then DMs them once (not again within the cool-down) with related lessons,
people who could help, and a button to bring in a facilitator. `/steward stuck` asks for that help directly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.changes import Change, DeadlinesMet, Scheduled
from bot.core.actions import Action, Button, PostMessage, SendDirectMessage
from bot.core.events import CommandInvoked, Event, InteractionClicked, MessageUnderstood, TimePassed
from bot.core.markup import excerpt
from bot.i18n import names, translate
from bot.rules import Command, Decision, Errand, LessonHit, RuleBase, RuleContext
from bot.state import MemberState, QuestionState
from facilitation_rules.etiquette import nudge, nudge_refusal
from facilitation_rules.questions import is_facilitated
from facilitation_rules.text.cues import is_stuck
from facilitation_rules.unanswered import flag_due

logger = logging.getLogger(__name__)


class StuckMembers(RuleBase):
    name = "stuck"
    reacts_to = (MessageUnderstood, TimePassed, InteractionClicked)

    def commands(self) -> Mapping[str, Command]:
        return {"stuck": Command("stuck", self.stuck_command, "help.stuck", usage="[what you are stuck on]")}

    def next_due(self, ctx: RuleContext) -> datetime | None:
        return ctx.state.timers.next(self.name)

    def seed(self, ctx: RuleContext) -> Decision:
        return [self._waiting(ctx, question) for question in ctx.state.awaiting_answer()]

    def _waiting(self, ctx: RuleContext, q: QuestionState) -> Scheduled:
        return Scheduled(self.name, flag_due(ctx, q, factor=2.0), "waiting", (q.workspace_id, q.id))

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if isinstance(event, MessageUnderstood) and not event.message.bot:
            return self.on_message(event, ctx)
        if isinstance(event, TimePassed):
            due = ctx.state.timers.due(self.name, ctx.now)
            decision: list[Action | Errand | Change] = [DeadlinesMet(self.name, ctx.now)] if due else []
            helped: set[tuple[str, str]] = set()  # once per sweep and member (the cool-down, before it is applied)
            for _, _, (ws, qid) in due:
                question = ctx.state.question(ws, qid)
                if question is None or not question.awaiting_answer or question.followup:
                    continue
                if (ws, question.asker_id) not in helped:
                    help_ = self.help_member(ws, question.asker_id, ctx, question, "waiting", cause=qid)
                    if help_:
                        helped.add((ws, question.asker_id))
                    decision.extend(help_)
            return decision
        if isinstance(event, InteractionClicked) and event.action == "call_facilitator":
            return self.call_facilitator(event.workspace, event.user, event.value, ctx, at=event.at)
        return ()

    def on_message(self, understood: MessageUnderstood, ctx: RuleContext) -> Decision:
        event = understood.message
        if not is_facilitated(ctx, event.workspace, event.channel):
            return ()
        question = ctx.state.question(event.workspace, understood.question_id) if understood.question_id else None
        decision: list[Action | Errand | Change] = []
        if question is not None:
            if not question.followup:
                decision.append(self._waiting(ctx, question))
            if understood.asked_again:
                return [*decision, *self.help_member(
                    event.workspace, event.user, ctx, question, "asked_again", cause=event.message_id
                )]
        if is_stuck(event.text, ctx.workspace(event.workspace).language):
            decision.extend(self.help_member(
                event.workspace, event.user, ctx, question, "said", cause=event.message_id, text=event.text
            ))
        return decision

    def help_member(
        self,
        ws: str,
        user: str,
        ctx: RuleContext,
        question: QuestionState | None,
        why: str,
        *,
        cause: str,
        text: str = "",
        on_request: bool = False,
    ) -> list[Action | Errand | Change]:
        """The stuck DM: lessons, people, and the offer to bring in a facilitator.

        `cause` names what led to it (the question, the message or the command), so the same cause never yields
        a second DM, however often it is decided. The related lessons are the store's: the shell looks them up.
        """
        member = ctx.member(ws, user)
        if not on_request and not self._may_nudge(member, ctx):
            return []
        sent = [] if on_request else [nudge(ctx, member, kind="stuck", question_id=question.id if question else None,
                                            reason=why)]
        if ctx.backfill:
            return [*sent]  # history: it counts against the member's budgets as it would have; nobody is messaged
        topic = question.text if question is not None else text
        exclude = {user, *(question.responders if question else ())}
        index = ctx.state.expertise_index(ws, question.channel_id if question is not None else None)
        people = index.suggest(topic, at=ctx.now, exclude=exclude, limit=3) if topic else []
        subject = question.id if question is not None else ""
        help_ = HelpStuckMember(
            workspace=ws,
            user=user,
            why=why,
            topic=topic,
            people=tuple(p.user for p in people),
            subject=subject,
            key=f"stuck:{user}:{subject or cause}",
            language=ctx.language(ws, user),
        )
        return [*sent, help_ if topic else help_.message(())]

    def _may_nudge(self, member: MemberState, ctx: RuleContext) -> bool:
        cooldown = timedelta(days=ctx.settings.stuck_nudge_cooldown_days)
        last = member.last_nudged.get("stuck")
        if last is not None and ctx.now - last < cooldown:
            return False
        # Help is not a request for work: the member's nudge budget does not apply, mute and quiet hours do.
        return nudge_refusal(member, ctx, budgeted=False) is None

    def call_facilitator(self, ws: str, user: str, question_id: str, ctx: RuleContext, *, at: datetime) -> list[Action]:
        """The facilitators hear of it once per question, or once a day for a member stuck without one."""
        question = ctx.state.question(ws, question_id) if question_id else None
        about = excerpt(question.text) if question is not None else "-"
        where = f"<#{question.channel_id}>" if question is not None else "-"
        return [
            PostMessage(
                key=f"stuck-call:{user}:{question_id or at.date().isoformat()}",
                workspace=ws,
                channel=ctx.settings.facilitators_channel,
                text=ctx.t(ws, "stuck.facilitators", member=f"<@{user}>", channel=where, excerpt=about),
            )
        ]

    def stuck_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        ws = event.workspace
        question = ctx.state.question(ws, event.thread) if event.thread else None
        text = " ".join(args)
        help_dm = self.help_member(ws, event.user, ctx, question, "asked", cause=event.key, text=text, on_request=True)
        return [
            *help_dm,
            *self.call_facilitator(ws, event.user, question.id if question else "", ctx, at=event.at),
            ctx.reply(event, "stuck.ack"),
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpStuckMember(Errand):
    """The stuck DM, once the shell has looked up the lessons related to what the member is stuck on."""

    user: str
    why: str
    topic: str
    people: tuple[str, ...]
    subject: str  # the question it is about, or ""
    key: str
    language: str

    def unserved(self, ctx: RuleContext) -> Decision:
        return [self.message(())]  # without the store, the DM still offers people and a facilitator

    def message(self, lessons: Sequence[LessonHit]) -> SendDirectMessage:
        lang = self.language
        lines = [translate(f"stuck.why_{self.why}", lang)]
        if lessons:
            lines.append(translate("stuck.lessons", lang))
            lines.extend(f"• {hit.title} {hit.link}".rstrip() for hit in lessons)
        if self.people:
            lines.append(translate("stuck.people", lang, people=names([f"<@{p}>" for p in self.people], lang)))
        lines.append(translate("stuck.offer", lang))
        return SendDirectMessage(
            key=self.key,
            workspace=self.workspace,
            user=self.user,
            text="\n".join(lines),
            buttons=(Button("call_facilitator", translate("button.call_facilitator", lang), self.subject, "primary"),),
        )
