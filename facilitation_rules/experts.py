"""Expert routing: who could answer, learned from who answered what, plus the expert registry.

Suggestions for a question are computed when it is asked, from history only. When a question is flagged, the
best candidates who may be nudged (not the asker, not someone who replied, not muted, within working hours
and nudge budget) get one direct message that says why they were asked. Rotation: among comparable
candidates, the one nudged least recently goes first, so nobody is the only expert ever asked.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from zoneinfo import ZoneInfo

from bot.changes import ActivitySeen, AnswerLearned, Change, ExpertTopics, Set
from bot.core.actions import Action, SendDirectMessage
from bot.core.events import AnswerAccepted, CommandInvoked, Event, MessageUnderstood, QuestionsFlagged
from bot.core.markup import excerpt
from bot.core.text.topics import matching
from bot.i18n import names, translate
from bot.rules import Command, Decision, RuleBase, RuleContext
from bot.state import QuestionState
from facilitation_rules.etiquette import nudge, nudge_refusal, recent_nudges
from facilitation_rules.questions import answers_before_asked
from facilitation_rules.skills import visibility
from facilitation_rules.text.expertise import ExpertSuggestion
from facilitation_rules.unanswered import flag_buttons

logger = logging.getLogger(__name__)

SUGGESTIONS = 3
CANDIDATE_POOL = 12


class ExpertRouting(RuleBase):
    name = "experts"
    reacts_to = (MessageUnderstood, AnswerAccepted, QuestionsFlagged)

    def commands(self) -> Mapping[str, Command]:
        return {
            "expert": Command(
                "expert", self.expert_command, "help.expert", usage="add|remove TOPICS | visible on|off"
            ),
            "experts": Command("experts", self.experts_command, "help.experts", usage="[TOPIC]"),
        }

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if isinstance(event, MessageUnderstood):
            return self.learn(event, ctx)
        if isinstance(event, AnswerAccepted):
            if ctx.state.question(event.workspace, event.question_id) is None:
                return ()
            return [AnswerLearned(event.workspace, event.question_id, event.answerer, event.message_id, event.at,
                                  event.at, accepted=True)]
        if isinstance(event, QuestionsFlagged):
            decision: list[Action | Change] = []
            nudged: Counter[str] = Counter()  # nudges decided in this event, per member (budgets, rotation)
            for question_id in event.question_ids:
                flagged = ctx.state.question(event.workspace, question_id)
                if flagged is not None:
                    decision.extend(self.nudge_experts(flagged, ctx, nudged))
            return decision
        return ()

    def learn(self, understood: MessageUnderstood, ctx: RuleContext) -> list[Change]:
        """Every message shows who is around; questions show what people ask about; answers who knows what."""
        event = understood.message
        index = ctx.state.expertise_index(event.workspace, event.channel)
        new_question = ctx.state.question(event.workspace, understood.question_id) if understood.question_id else None
        changes: list[Change] = []
        if new_question is not None:
            # Every question gets suggestions, follow-ups too: whether a question is a follow-up is a guess (in a
            # flat channel a new question often reads as a reply to the running conversation), and suggestions
            # alone never reach anyone: nudges go only to flagged questions, and follow-ups are never flagged.
            found = index.suggest(new_question.text, at=event.at, exclude={new_question.asker_id}, limit=SUGGESTIONS)
            changes.append(Set.question(new_question, suggested_experts=[s.user for s in found]))
        if not event.bot:
            # Presence for every message; words only for questions (what people ask about is topical evidence).
            text = new_question.text if new_question is not None else ""
            changes.append(ActivitySeen(event.workspace, event.user, event.at, text, channel=event.channel))
        if new_question is not None and new_question.responders:
            changes.extend(self._answered_before_asked(new_question, ctx))
        answer = understood.answer
        if answer is not None and ctx.state.question(event.workspace, answer.question_id) is not None:
            changes.append(
                AnswerLearned(
                    event.workspace, answer.question_id, answer.responder, answer.message_id, answer.at, event.at,
                    answer_text=event.text if answer.message_id == event.message_id else "", first=answer.first,
                )
            )
        return changes

    @staticmethod
    def _answered_before_asked(question: QuestionState, ctx: RuleContext) -> list[Change]:
        """A question that came in after replies in its thread (events out of order) is answered by them: they
        are the same evidence of who knows what as if they had come after it."""
        return [
            AnswerLearned(question.workspace_id, question.id, early.message.user, early.message_id, early.message.at,
                          early.message.at, answer_text=early.text,
                          first=early.message_id == question.first_response_id)
            for early in answers_before_asked(question, ctx)
        ]

    def candidates(
        self, question: QuestionState, ctx: RuleContext, nudged: Counter[str] | None = None
    ) -> list[ExpertSuggestion]:
        """Experts who may be nudged about this question now, best first, rotated by recent load.

        `nudged`: nudges already decided in this event, which count as sent."""
        ws = question.workspace_id
        excluded = {question.asker_id, *question.responders, *question.nudged_experts}
        index = ctx.state.expertise_index(ws, question.channel_id)
        found = index.suggest(question.text, at=ctx.now, exclude=excluded, limit=CANDIDATE_POOL)
        allowed = []
        load: dict[str, int] = {}
        for suggestion in found:
            if not index.answered(suggestion.user) and not ctx.state.expert_topics.get((ws, suggestion.user)):
                continue  # a nudge must be able to say truthfully why this person was asked
            member = ctx.state.members.get((ws, suggestion.user))
            if member is None or not _working_now(member, ctx):
                continue
            pending = nudged[member.id] if nudged else 0
            if pending:
                member = replace(member, nudges_sent=[*member.nudges_sent, *[ctx.now] * pending])
            if nudge_refusal(member, ctx) is not None:
                continue
            load[suggestion.user] = recent_nudges(member, ctx.now)
            allowed.append(suggestion)
        if not allowed:
            return []
        best = allowed[0].score
        # Rotation: comparable candidates (within 30% of the best) are ordered by how often they were nudged lately.
        comparable = [s for s in allowed if s.score >= 0.7 * best]
        rest = [s for s in allowed if s.score < 0.7 * best]
        comparable.sort(key=lambda s: load[s.user])
        return comparable + rest

    def nudge_experts(
        self, question: QuestionState, ctx: RuleContext, nudged: Counter[str] | None = None
    ) -> list[Action | Change]:
        """Whom to ask about a flagged question, and the DMs (importing history decides the same, sends nothing)."""
        nudged = Counter() if nudged is None else nudged
        decision: list[Action | Change] = []
        experts: list[str] = []
        for suggestion in self.candidates(question, ctx, nudged)[: ctx.settings.experts_per_question]:
            member = ctx.state.members[(question.workspace_id, suggestion.user)]
            reason = self.reason(suggestion, ctx, member.id, question)
            decision.append(nudge(ctx, member, kind="expert", question_id=question.id, reason=reason))
            nudged[member.id] += 1
            experts.append(member.id)
            decision.append(
                SendDirectMessage(
                    key=f"nudge:{question.id}:{member.id}",
                    workspace=question.workspace_id,
                    user=member.id,
                    text=ctx.t(
                        question.workspace_id,
                        "nudge.expert",
                        for_member=member.id,
                        language=question.language,
                        member=member.id,
                        asker=f"<@{question.asker_id}>",
                        channel=f"<#{question.channel_id}>",
                        excerpt=excerpt(question.text),
                        reason=reason,
                    ),
                    buttons=flag_buttons(ctx, question, member.id),
                )
            )
        if experts:
            decision.append(Set.question(question, nudged_experts=[*question.nudged_experts, *experts]))
        return decision

    def reason(self, suggestion: ExpertSuggestion, ctx: RuleContext, member: str, question: QuestionState) -> str:
        """The "why you" line every nudge carries, in the member's language (else the question's).

        It names topics of the question a person would name ("SharePoint site", "Betriebsrat"), and only those
        the member's own answers or registered topics matched; members' names are never a topic."""
        ws = question.workspace_id
        language = ctx.language(ws, member, otherwise=question.language)
        registered = ctx.state.expert_topics.get((ws, member), set())
        people = [m.name for (w, _), m in ctx.state.members.items() if w == ws and m.name]
        matched = matching(question.text, suggestion.matched_terms, names=people, limit=3)
        if suggestion.answers and matched:
            topics = names(matched, language)
            return translate("nudge.reason_answers", language, count=suggestion.answers, topics=topics)
        signed_up = sorted(t for t in registered if any(_topic(t) in _topic(word) or _topic(word) in _topic(t)
                                                        for word in suggestion.matched_terms))
        if signed_up or (registered and not suggestion.answers):
            topics = names((signed_up or sorted(registered))[:3], language)
            return translate("nudge.reason_topics", language, topics=topics)
        return translate("nudge.reason_active", language)

    # --- registry ------------------------------------------------------------------------------------------
    def expert_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if args and args[0].lower() in {"visible", "sichtbar"}:  # consent to the skills map (default off)
            return visibility(event, args[1:], ctx)
        if not args or args[0].lower() not in {"add", "remove"}:
            return [ctx.reply(event, "expert.usage")]
        ws = event.workspace
        topics = frozenset(_topic(t) for t in " ".join(args[1:]).split(",") if _topic(t))
        current = frozenset(ctx.state.expert_topics.get((ws, event.user), ()))
        change: ExpertTopics
        if args[0].lower() == "add":
            if not topics:
                return [ctx.reply(event, "expert.usage")]
            change, current = ExpertTopics(ws, event.user, topics), current | topics
        else:
            current = current - topics if topics else frozenset()
            change = ExpertTopics(ws, event.user, current, op="replace")
        if not current:
            return [change, ctx.reply(event, "expert.none_left")]
        return [change, ctx.reply(event, "expert.now", topics=", ".join(sorted(current)))]

    def experts_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        ws = event.workspace
        wanted = _topic(" ".join(args)) if args else ""
        lines = []
        for (w, member), topics in sorted(ctx.state.expert_topics.items()):
            if w != ws or not topics:
                continue
            if wanted and not any(wanted in t or t in wanted for t in topics):
                continue
            lines.append(f"• <@{member}>: {', '.join(sorted(topics))}")
        learned = ctx.state.expertise_index(ws).suggest(wanted, at=ctx.now, limit=5) if wanted else []
        if learned:
            lang = ctx.language(ws, event.user)
            lines.append(translate("experts.learned", lang, members=names([f"<@{s.user}>" for s in learned], lang)))
        if not lines:
            return [ctx.reply(event, "experts.none", topic=wanted or "-")]
        return [ctx.reply(event, "experts.list", lines="\n".join(lines))]


def _topic(text: str) -> str:
    return " ".join(text.lower().split())


def _working_now(member: object, ctx: RuleContext) -> bool:
    """Members are nudged in their own working hours (their time zone, the community's working days)."""
    from bot.state import MemberState

    assert isinstance(member, MemberState)
    timezone = member.timezone or ctx.workspace(member.workspace_id).timezone
    local = ctx.now.astimezone(ZoneInfo(timezone))
    settings = ctx.settings
    return (
        local.weekday() in settings.working_weekdays and settings.work_start_hour <= local.hour < settings.work_end_hour
    )
