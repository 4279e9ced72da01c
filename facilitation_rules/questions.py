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
from typing import Any

from bot.changes import AskedIn, Change, NewQuestion, NudgeAnswered, Set, TrackerForgets
from bot.core.actions import Action, PostEphemeral, SetForumSolved
from bot.core.events import (
    Answer,
    AnswerAccepted,
    CommandInvoked,
    Decided,
    Event,
    ForumTagChanged,
    InteractionClicked,
    MessageDeleted,
    MessagePosted,
    MessageUnderstood,
    QuestionResolved,
    ReactionAdded,
)
from bot.core.text.tokens import terms
from bot.rules import Command, Decision, RuleBase, RuleContext
from bot.state import EarlyReply, QuestionState
from facilitation_rules.text.answers import ChatLine, Response
from facilitation_rules.text.cues import is_thanks

logger = logging.getLogger(__name__)

# Buttons that change what a question is (solved, not a question, still open): the asker's or a facilitator's call.
# The unanswered rule acts on "still_open" itself; the refusal for everyone else is given here.
SETTLING = frozenset({"solved", "not_a_question", "still_open"})
REPEAT_OVERLAP = 0.3  # share of (stemmed) terms two questions must have in common to be "the same question"


def terms_of(text: str) -> frozenset[str]:
    return frozenset(terms(text))


def may_settle(question: QuestionState, event: CommandInvoked | InteractionClicked, ctx: RuleContext) -> bool:
    """Only the asker, or a facilitator, decides that a question is solved or was not a question at all:
    anyone else could otherwise silence a colleague's question before it is flagged or escalated."""
    return event.user == question.asker_id or ctx.is_facilitator(event.workspace, event.user, is_admin=event.is_admin)


def refusal(event: InteractionClicked, ctx: RuleContext, key: str) -> PostEphemeral:
    """A private, polite "not yours to change" to the member who clicked."""
    return PostEphemeral(
        key=f"reply:{event.channel}:{event.user}:{event.at.isoformat()}:{key}",
        workspace=event.workspace,
        channel=event.channel,
        user=event.user,
        text=ctx.t(event.workspace, key, for_member=event.user),
    )


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


def answers_before_asked(question: QuestionState, ctx: RuleContext) -> list[EarlyReply]:
    """Replies in the question's thread by others that reached Steward before the question did (a platform's retry,
    an event handed over between processes), earliest first."""
    return sorted(
        (early for early in ctx.state.replies_before_root(question.workspace_id, question.id)
         if not early.message.bot and early.message.user != question.asker_id
         and early.message.at >= question.asked_at),
        key=lambda early: (early.message.at, early.message_id),
    )


def answered_already(question: QuestionState, ctx: RuleContext) -> None:
    """A new question with such replies is answered by them: without this it would be flagged while answered."""
    replies = answers_before_asked(question, ctx)
    if replies:
        first = replies[0]
        question.first_response_id, question.first_responder_id = first.message_id, first.message.user
        question.first_response_at = first.message.at
        question.answered_how, question.status = "thread", "answered"
        question.responders = list(dict.fromkeys(early.message.user for early in replies))


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
    reacts_to = (MessagePosted, ReactionAdded, InteractionClicked, ForumTagChanged, MessageDeleted)

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
            if question is not None and question.status != "stale" and question.can_advance("withdrawn"):
                return [Set.question(question, status="withdrawn"), TrackerForgets(event.workspace, question.id)]
        return ()

    # --- messages ------------------------------------------------------------------------------------------
    def on_message(self, event: MessagePosted, ctx: RuleContext) -> Decision:
        """What the message is (the text models' perception, read before the rules ran) and what it changes."""
        if event.bot or not is_facilitated(ctx, event.workspace, event.channel):
            return [MessageUnderstood(workspace=event.workspace, at=event.at, message=event)]
        ws = event.workspace
        verdict, asks = ctx.perception.verdict, ctx.perception.asks
        response = self._causal(ctx.perception.response or self._explicit_link(event, ctx), event, ctx)
        decision: list[Action | Decided | Change] = []
        answer: Answer | None = None
        new_question: str | None = None
        asked_again = False
        answered_now: set[str] = set()  # answered by this message's decision (its changes are not applied yet)
        if response is not None:
            question = ctx.state.question(ws, response.question_id)
            if question is not None:
                answer = self.record_response(question, Responder.of(event, response), response.how, ctx, decision)
            for again in filter(None, (ctx.state.question(ws, qid) for qid in response.also)):
                if self.record_response(again, Responder.of(event, response), response.how, ctx, decision):
                    answered_now.add(again.id)
            if answer is not None:
                answered_now.add(answer.question_id)
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
            tracker = ctx.state.trackers.get(ws)
            repeated = tracker is not None and tracker.repeats(question.id) is not None
            question.followup = in_conversation or repeated
            asked_again = not question.followup and self._asks_again(question, ctx)
            answered_already(question, ctx)
            decision.append(NewQuestion(question))
            decision.append(AskedIn(ws, event.channel, verdict.language))
            new_question = question.id
        elif ctx.state.has_unresolved_question(ws, event.user) and is_thanks(event.text, ctx.workspace(ws).language):
            question = self._thanked_question(event, ctx, answered_now)
            if question is not None:
                decision.extend(self.resolve(question, ctx, how="thanks"))
        understood = MessageUnderstood(
            workspace=ws, at=event.at, message=event, question_id=new_question, asked_again=asked_again, answer=answer
        )
        # The changes first: the other rules hear of the message once the working set knows the question.
        changes = [c for c in decision if isinstance(c, Change)]
        return [*changes, understood, *(d for d in decision if not isinstance(d, Change))]

    def _causal(self, response: Response | None, event: MessagePosted, ctx: RuleContext) -> Response | None:
        """No line answers a question asked after it. Lines arrive in order on one connection, but with several
        replicas an event handed over through the inbox can reach the owner after later ones it received itself;
        the tracker may then link the late line to the newer question."""
        if response is None:
            return None
        question = ctx.state.question(event.workspace, response.question_id)
        if question is not None and Responder.of(event, response).at < question.asked_at:
            logger.debug("%s came before question %s; not an answer to it", event.message_id, question.id)
            return None
        return response

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
        self, question: QuestionState, responder: Responder, how: str, ctx: RuleContext, changes: list[Any]
    ) -> Answer | None:
        """Someone other than the asker responded; the earliest response is the first response."""
        if responder.user == question.asker_id:
            return None
        values: dict[str, Any] = {}
        if responder.user not in question.responders:
            values["responders"] = [*question.responders, responder.user]
        first = question.first_response_at is None or responder.at < question.first_response_at
        if first:
            values.update(
                first_response_id=responder.message_id,
                first_responder_id=responder.user,
                first_response_at=responder.at,
                answered_how=how,
            )
            if question.status in {"asked", "flagged", "escalated"}:
                values["status"] = "answered"
            if responder.user in question.nudged_experts:
                changes.append(NudgeAnswered(question.workspace_id, responder.user, question.id))
        if values:
            changes.append(Set.question(question, **values))
        is_first = first or question.first_response_id == responder.message_id
        return Answer(question.id, responder.user, responder.message_id, responder.at, how, is_first)

    def _thanked_question(
        self, event: MessagePosted, ctx: RuleContext, answered_now: set[str]
    ) -> QuestionState | None:
        """The asker's own answered question this thanks most likely refers to (same thread, else latest)."""
        ws = event.workspace
        if event.thread:
            question = ctx.state.question(ws, event.thread)
            answered = question is not None and (question.answered or question.id in answered_now)
            if question and question.asker_id == event.user and answered and not question.resolved:
                return question
            return None
        candidates = [
            q
            for q in ctx.state.unresolved_of(ws, event.user)
            if q.channel_id == event.channel
            and (q.answered or q.id in answered_now)
            and (event.at - q.asked_at).days < 2
        ]
        # The latest asked; of two asked in the same moment, the later one (candidates come in the order asked).
        return max(reversed(candidates), key=lambda q: q.asked_at, default=None)

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
        if event.action in SETTLING and not may_settle(question, event, ctx):
            logger.info("%s clicked %s on question %s: refused, not the asker or a facilitator",
                        event.user, event.action, question.id)
            return [refusal(event, ctx, f"{event.action}.not_yours")]
        if event.action == "solved":
            return self.resolve(question, ctx, how="button")
        if event.action == "not_a_question" and question.can_advance("not_a_question"):
            logger.info("question %s marked 'not a question' by %s", question.id, event.user)
            return [
                Set.question(
                    question, status="not_a_question", not_a_question_at=event.at, not_a_question_by=event.user
                ),
                TrackerForgets(event.workspace, question.id),
            ]
        return ()

    def resolve(self, question: QuestionState, ctx: RuleContext, *, how: str) -> list[Action | Decided | Change]:
        if question.resolved or question.status in {"not_a_question", "withdrawn"}:
            return []
        if not question.can_advance("resolved"):
            return []
        resolved = QuestionResolved(workspace=question.workspace_id, at=ctx.now, question_id=question.id, how=how)
        changed = Set.question(question, status="resolved", resolved_at=ctx.now, resolved_how=how)
        channel = ctx.channel(question.workspace_id, question.channel_id)
        if channel.kind == "forum" and how != "forum_tag":
            return [
                changed,
                resolved,
                SetForumSolved(
                    key=f"forum-solved:{question.id}",
                    workspace=question.workspace_id,
                    channel=question.channel_id,
                    thread=question.id,
                ),
            ]
        return [changed, resolved]

    def solved_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        ws = event.workspace
        question = ctx.state.question(ws, event.thread) if event.thread else None
        if question is None:
            mine = [q for q in ctx.state.unresolved_of(ws, event.user) if q.channel_id == event.channel]
            question = max(mine, key=lambda q: q.asked_at, default=None)
        if question is None:
            return [ctx.reply(event, "solved.none")]
        if not may_settle(question, event, ctx):
            return [ctx.reply(event, "solved.not_yours")]
        if question.resolved:
            return [ctx.reply(event, "solved.already")]
        return [*self.resolve(question, ctx, how="command"), ctx.reply(event, "solved.done")]
