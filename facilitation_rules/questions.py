"""The question lifecycle: recognise questions, notice their answers, and know when they are resolved.

asked -> answered (first response by someone else: in the thread, by explicit reply, or inferred in a flat
channel) -> resolved (the asker's ✅, thanks, the "Solved" button, `/steward solved`, a forum "solved" tag).
Other rules learn what this rule understood from the facts it decides: `MessageUnderstood` for every posted
message (a new question, an answer, both or neither), `AnswerAccepted` and `QuestionResolved`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.actions import Action, SetForumSolved
from bot.core.events import (
    Answer,
    AnswerAccepted,
    CommandInvoked,
    Decided,
    Event,
    ForumTagChanged,
    InteractionClicked,
    MemberJoined,
    MessageDeleted,
    MessagePosted,
    MessageUnderstood,
    QuestionResolved,
    ReactionAdded,
)
from bot.rules import Command, Decision, RuleBase, RuleContext
from bot.state import QuestionState
from facilitation_rules.text.answers import ChatLine, Response
from facilitation_rules.text.cues import is_thanks
from facilitation_rules.text.questions import classify_question
from facilitation_rules.text.tokens import terms

logger = logging.getLogger(__name__)

REPEAT_OVERLAP = 0.3  # share of (stemmed) terms two questions must have in common to be "the same question"


def terms_of(text: str) -> frozenset[str]:
    return frozenset(terms(text))


def is_facilitated(ctx: RuleContext, workspace: str, channel: str) -> bool:
    """Steward facilitates watched community channels, not the facilitators' own channel."""
    ch = ctx.channel(workspace, channel)
    return ch.watched and ch.kind != "facilitators" and ch.name != ctx.settings.facilitators_channel


def chat_line(message: MessagePosted) -> ChatLine:
    """How a posted message is shown to the conversation tracker, live and when the tracker is taught again."""
    return ChatLine(
        id=message.message_id,
        channel=message.channel,
        user=message.user,
        text=message.text,
        at=message.at,
        thread=message.thread,
        reply_to=message.reply_to,
        bot=message.bot,
        user_name=message.user_name,
        mentions=message.mentions,
    )


@dataclass(frozen=True, slots=True)
class Responder:
    """The line that responded: usually the message just posted, sometimes an earlier one it revealed."""

    message_id: str
    user: str
    at: datetime

    @classmethod
    def of(cls, event: MessagePosted, response: Response) -> Responder:
        if response.line_id and response.user and response.at:
            return cls(response.line_id, response.user, response.at)
        return cls(event.message_id, event.user, event.at)


class QuestionLifecycle(RuleBase):
    name = "questions"
    reacts_to = (MessagePosted, ReactionAdded, InteractionClicked, ForumTagChanged, MessageDeleted, MemberJoined)

    def commands(self) -> Mapping[str, Command]:
        return {"solved": Command("solved", self.solved_command, "help.solved")}

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if isinstance(event, MessagePosted):
            return self.on_message(event, ctx)
        if isinstance(event, ReactionAdded):
            return self.on_reaction(event, ctx)
        if isinstance(event, InteractionClicked):
            return self.on_click(event, ctx)
        if isinstance(event, ForumTagChanged) and event.solved:
            question = ctx.state.question(event.workspace, event.thread)
            return self.resolve(question, ctx, how="forum_tag") if question else ()
        if isinstance(event, MessageDeleted):
            question = ctx.state.question(event.workspace, event.message_id)
            if question is not None and question.status != "stale" and question.advance("withdrawn"):
                ctx.state.tracker(event.workspace).forget_question(question.id)
                ctx.state.touch_question(question)
        if isinstance(event, MemberJoined):
            ctx.state.tracker(event.workspace).observe_join(event.channel, event.user, event.at)
        return ()

    # --- messages ------------------------------------------------------------------------------------------
    def on_message(self, event: MessagePosted, ctx: RuleContext) -> list[Action | Decided]:
        if event.bot or not is_facilitated(ctx, event.workspace, event.channel):
            return [MessageUnderstood(workspace=event.workspace, at=event.at, message=event)]
        ws = event.workspace
        tracker = ctx.state.tracker(ws)
        if event.user_name:
            tracker.register_name(event.user, event.user_name)
        opens_thread = event.thread in (None, event.message_id)
        verdict = (
            classify_question(event.text, ctx.workspace(ws).language)
            if opens_thread and not event.text.startswith("/")
            else None
        )
        asks = verdict is not None and verdict.is_question
        response = tracker.observe(chat_line(event), is_question=asks) or self._explicit_link(event, ctx)
        decision: list[Action | Decided] = []
        answer: Answer | None = None
        new_question: str | None = None
        asked_again = False
        if response is not None:
            question = ctx.state.question(ws, response.question_id)
            if question is not None:
                answer = self.record_response(question, Responder.of(event, response), response.how, ctx)
            for again in filter(None, (ctx.state.question(ws, qid) for qid in response.also)):
                self.record_response(again, Responder.of(event, response), response.how, ctx)
        if verdict is not None and asks and ctx.state.question(ws, event.message_id) is None:
            question = QuestionState(
                workspace_id=ws,
                id=event.message_id,
                channel_id=event.channel,
                asker_id=event.user,
                asked_at=event.at,
                language=verdict.language,
                text=event.text,
            )
            in_conversation = response is not None and response.line_id is None
            question.followup = in_conversation or tracker.repeats(question.id) is not None
            asked_again = not question.followup and self._asks_again(question, ctx)
            ctx.state.add_question(question)
            new_question = question.id
        elif ctx.state.has_unresolved_question(ws, event.user) and is_thanks(event.text, ctx.workspace(ws).language):
            question = self._thanked_question(event, ctx)
            if question is not None:
                decision.extend(self.resolve(question, ctx, how="thanks"))
        understood = MessageUnderstood(
            workspace=ws, at=event.at, message=event, question_id=new_question, asked_again=asked_again, answer=answer
        )
        return [understood, *decision]

    def _explicit_link(self, event: MessagePosted, ctx: RuleContext) -> Response | None:
        """A reply in a question's thread, or an explicit reply to it, answers it however late it comes.

        The tracker only remembers recent conversation (it forgets a quiet question after its window), but a
        thread or a reply names its question outright, so the question's state is all that is needed.
        """
        target = event.reply_to or (event.thread if event.thread != event.message_id else None)
        question = ctx.state.question(event.workspace, target) if target else None
        if question is None or question.asker_id == event.user or question.status == "withdrawn":
            return None
        return Response(question.id, "reply" if event.reply_to else "thread", 1.0)

    def _asks_again(self, question: QuestionState, ctx: RuleContext) -> bool:
        """The asker asked much the same, still unanswered, in the past week: a sign of being stuck."""
        mine = terms_of(question.text)
        if len(mine) < 2:
            return False
        for earlier in ctx.state.unresolved_of(question.workspace_id, question.asker_id):
            if earlier.awaiting_answer and timedelta(minutes=30) < question.asked_at - earlier.asked_at < timedelta(
                days=7
            ):
                theirs = terms_of(earlier.text)
                if theirs and len(mine & theirs) / len(mine | theirs) >= REPEAT_OVERLAP:
                    return True
        return False

    def record_response(
        self, question: QuestionState, responder: Responder, how: str, ctx: RuleContext
    ) -> Answer | None:
        """Someone other than the asker responded; the earliest response is the first response."""
        if responder.user == question.asker_id:
            return None
        if responder.user not in question.responders:
            question.responders.append(responder.user)
        if question.first_response_at is None or responder.at < question.first_response_at:
            self._first_response(question, responder, how, ctx)
        first = question.first_response_id == responder.message_id
        return Answer(question.id, responder.user, responder.message_id, responder.at, how, first)

    def _first_response(self, question: QuestionState, responder: Responder, how: str, ctx: RuleContext) -> None:
        question.first_response_id = responder.message_id
        question.first_responder_id = responder.user
        question.first_response_at = responder.at
        question.answered_how = how
        if question.status in {"asked", "flagged", "escalated"}:
            question.advance("answered")
        if responder.user in question.nudged_experts:
            ctx.state.answered_nudges.append({"ws": question.workspace_id, "mid": responder.user, "qid": question.id})
        ctx.state.touch_question(question)

    def _thanked_question(self, event: MessagePosted, ctx: RuleContext) -> QuestionState | None:
        """The asker's own answered question this thanks most likely refers to (same thread, else latest)."""
        ws = event.workspace
        if event.thread:
            question = ctx.state.question(ws, event.thread)
            if question and question.asker_id == event.user and question.answered and not question.resolved:
                return question
            return None
        candidates = [
            q
            for q in ctx.state.unresolved_of(ws, event.user)
            if q.channel_id == event.channel and q.answered and (event.at - q.asked_at).days < 2
        ]
        return max(candidates, key=lambda q: q.asked_at, default=None)

    # --- resolution ----------------------------------------------------------------------------------------
    def on_reaction(self, event: ReactionAdded, ctx: RuleContext) -> Decision:
        if event.emoji != ctx.settings.resolve_emoji:
            return ()
        ws = event.workspace
        question = ctx.state.question(ws, event.message_id)
        target = ctx.state.message(ws, event.message_id)
        if question is None and target is not None and target.thread:
            question = ctx.state.question(ws, target.thread)
        if question is None or question.asker_id != event.user:
            return ()
        accepted: list[Decided] = []
        if target is not None and target.user != question.asker_id:
            accepted.append(
                AnswerAccepted(
                    workspace=ws, at=event.at, question_id=question.id, answerer=target.user,
                    message_id=event.message_id,
                )
            )
        return [*accepted, *self.resolve(question, ctx, how="reaction")]

    def on_click(self, event: InteractionClicked, ctx: RuleContext) -> Decision:
        question = ctx.state.question(event.workspace, event.value)
        if question is None:
            return ()
        if event.action == "solved":
            return self.resolve(question, ctx, how="button")
        if event.action == "not_a_question" and question.advance("not_a_question"):
            question.not_a_question_at = event.at
            question.not_a_question_by = event.user
            ctx.state.tracker(event.workspace).forget_question(question.id)
            ctx.state.touch_question(question)
            logger.info("question %s marked 'not a question' by %s", question.id, event.user)
        return ()

    def resolve(self, question: QuestionState, ctx: RuleContext, *, how: str) -> list[Action | Decided]:
        if question.resolved or question.status in {"not_a_question", "withdrawn"}:
            return []
        if not question.advance("resolved"):
            return []
        question.resolved_at = ctx.now
        question.resolved_how = how
        ctx.state.touch_question(question)
        resolved = QuestionResolved(workspace=question.workspace_id, at=ctx.now, question_id=question.id, how=how)
        channel = ctx.channel(question.workspace_id, question.channel_id)
        if channel.kind == "forum" and how != "forum_tag":
            return [
                resolved,
                SetForumSolved(
                    key=f"forum-solved:{question.id}",
                    workspace=question.workspace_id,
                    channel=question.channel_id,
                    thread=question.id,
                ),
            ]
        return [resolved]

    def solved_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        ws = event.workspace
        question = ctx.state.question(ws, event.thread) if event.thread else None
        if question is None:
            mine = [q for q in ctx.state.unresolved_of(ws, event.user) if q.channel_id == event.channel]
            question = max(mine, key=lambda q: q.asked_at, default=None)
        if question is None:
            return [ctx.reply(event, "solved.none")]
        if question.resolved:
            return [ctx.reply(event, "solved.already")]
        return [*self.resolve(question, ctx, how="command"), ctx.reply(event, "solved.done")]
