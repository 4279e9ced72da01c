"""Commitments and follow-up: what members promise the community, and one friendly question before it is due.

"I'll send the slides by Friday", "ich kümmere mich bis Freitag um die Raumbuchung" or `/steward commit TEXT by
DATE` records a commitment with its owner and due time, read in the owner's time zone (precision first: only a
clear promise in the first person with a due time; see facilitation_rules.text.commitments). Steward marks the
message with 📌 so the owner sees it was noted. Shortly before it is due, Steward asks the owner once, by direct
message and within the nudge etiquette (mute, quiet hours, the nudge budget; forgotten members never):
"Done", "Need help" (it becomes a question the expert routing takes up, in the thread it was promised in) or
"Later" (the due date moves once, by a few working days, and Steward asks again before the new one).

Commitments, their due times and the fact that an owner was asked are stored (the ask is a nudge row written with
the message itself), and the deadlines come back from the store after a restart, so a follow-up is neither
skipped nor sent twice. `/steward commit` alone lists the member's open commitments.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.changes import Change, DeadlinesMet, NewQuestion, Scheduled, Set
from bot.core.actions import Action, AddReaction, Button, PostEphemeral, PostMessage, SendDirectMessage
from bot.core.cocreation import COMMITMENT_NUDGE, CommitmentRecord, commitment_subject
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
from bot.i18n import local_datetime, translate
from bot.rules import Command, Decision, Errand, RuleBase, RuleContext
from bot.state import QuestionState
from facilitation_rules.etiquette import member_zone, nudge, nudge_refusal
from facilitation_rules.text.commitments import due_in, find_commitment
from facilitation_rules.text.due import Calendar
from facilitation_rules.unanswered import UnansweredQuestions, flag_buttons
from facilitation_rules.unanswered import working_hours as question_hours
from facilitation_rules.working_time import WorkingHours

logger = logging.getLogger(__name__)

ASK_BEFORE_HOURS = 2.0  # working hours before the due time that the owner is asked
SHORT_NOTICE = timedelta(hours=4)  # a commitment due sooner than this after it was made is asked about when due
LATER_WORKING_DAYS = 3  # "Later" moves the due date by this many working days, once
GIVE_UP_HOURS = 16.0  # an owner is not asked about a commitment overdue by more than two working days
STILL_LOADED = timedelta(days=14)  # after a restart, commitments due within this span before now are looked at
RETRY_HOURS = 2.0  # working hours to wait when the owner may not be messaged right now (quiet hours, budget)
MAX_TEXT = 300
ANSWERS = {"commitment_done": "done", "commitment_help": "help", "commitment_later": "later"}


class Commitments(RuleBase):
    """Notices and records commitments, and follows them up; the shell stores and reads them."""

    name = "commitments"
    reacts_to = (MessageUnderstood, InteractionClicked, TimePassed)

    def __init__(self, *, enabled: bool = False) -> None:
        self.enabled = enabled  # False until the app wires the commitment store in: the command says so

    def commands(self) -> Mapping[str, Command]:
        return {"commit": Command("commit", self.commit_command, "commit.help", usage="TEXT by DATE")}

    def next_due(self, ctx: RuleContext) -> datetime | None:
        return ctx.state.timers.next(self.name) if self.enabled else None

    def seed(self, ctx: RuleContext) -> Decision:
        """After a start, each workspace's pending follow-ups are loaded from the store at the next tick."""
        if not self.enabled:
            return ()
        return [Scheduled(self.name, ctx.now, "load", (ws,)) for ws in sorted(ctx.state.workspaces)]

    # --- events --------------------------------------------------------------------------------------------
    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if not self.enabled:
            return ()
        if isinstance(event, MessageUnderstood):
            return self.on_message(event, ctx)
        if isinstance(event, InteractionClicked) and event.action in ANSWERS:
            return [AnswerCommitment(workspace=event.workspace, click=event, answer=ANSWERS[event.action])]
        if isinstance(event, TimePassed):
            return self.on_time(ctx)
        return ()

    def on_message(self, understood: MessageUnderstood, ctx: RuleContext) -> Decision:
        message = understood.message
        if message.bot or ctx.backfill or understood.question_id is not None:
            return ()
        ws = message.workspace
        if not ctx.channel(ws, message.channel).watched:
            return ()
        cue = find_commitment(message.text, message.at, calendar(ctx, ws, message.user))
        if cue is None:
            return ()
        thread = message.thread if message.thread and message.thread != message.message_id else None
        return [
            RecordCommitment(
                workspace=ws, origin=f"message:{message.message_id}", owner=message.user, channel=message.channel,
                thread=thread, message_id=message.message_id, text=cue.text, language=cue.language, due=cue.due,
                ask_at=ask_time(ctx, ws, message.user, message.at, cue.due),
            )
        ]

    def on_time(self, ctx: RuleContext) -> Decision:
        due = ctx.state.timers.due(self.name, ctx.now)
        if not due:
            return ()
        decision: list[Change | Errand] = [DeadlinesMet(self.name, ctx.now)]
        seen: set[tuple[str, ...]] = set()
        for _, step, subject in due:
            if (step, *subject) in seen:
                continue
            seen.add((step, *subject))
            if step == "load":
                decision.append(LoadCommitments(workspace=subject[0]))
            elif step == "ask" and len(subject) == 3 and not ctx.backfill:
                decision.append(
                    FollowUpCommitment(workspace=subject[0], commitment_id=int(subject[1]), round=int(subject[2]))
                )
        return decision

    # --- commands ------------------------------------------------------------------------------------------
    def commit_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if not self.enabled:
            return [ctx.reply(event, "commit.unavailable")]
        words = " ".join(args).strip()
        if not words:
            return [ListCommitments(workspace=event.workspace, command=event)]
        due = due_in(words, event.at, calendar(ctx, event.workspace, event.user))
        if due is None:
            return [ctx.reply(event, "commit.usage")]
        what = _without_phrase(words, due.start, due.end)
        if len(what) < 2:
            return [ctx.reply(event, "commit.usage")]
        return [
            RecordCommitment(
                workspace=event.workspace, origin=event.key, owner=event.user, channel=event.channel,
                thread=event.thread, message_id=None, text=what[:MAX_TEXT],
                language=ctx.language(event.workspace, event.user), due=due.at,
                ask_at=ask_time(ctx, event.workspace, event.user, event.at, due.at), command=event,
            )
        ]


# --- errands: what the shell does with the store ---------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class RecordCommitment(Errand):
    """Store a commitment and schedule its follow-up; acknowledge it (📌, or a private reply to the command)."""

    origin: str
    owner: str
    channel: str
    thread: str | None
    message_id: str | None
    text: str
    language: str
    due: datetime
    ask_at: datetime
    command: CommandInvoked | None = None

    def unserved(self, ctx: RuleContext) -> Decision:
        return [ctx.reply(self.command, "commit.failed")] if self.command is not None else ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ListCommitments(Errand):
    """`/steward commit` alone: the member's open commitments, privately."""

    command: CommandInvoked

    def unserved(self, ctx: RuleContext) -> Decision:
        return [ctx.reply(self.command, "commit.failed")]


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpCommitment(Errand):
    """A commitment falls due soon: ask its owner, unless done, asked already, or moved since."""

    commitment_id: int
    round: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerCommitment(Errand):
    """The owner's "Done", "Need help" or "Later" on a follow-up."""

    click: InteractionClicked
    answer: str

    def unserved(self, ctx: RuleContext) -> Decision:
        return [private(self.click, ctx, "commit.failed")]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadCommitments(Errand):
    """After a start: the follow-ups not yet asked, from the store, as deadlines."""


# --- the decisions the shell takes with a stored commitment in hand (pure) ---------------------------------------
def calendar(ctx: RuleContext, workspace: str, member: str) -> Calendar:
    """The member's clock: their time zone (else the community's) and the community's working hours."""
    settings = ctx.settings
    return Calendar(
        timezone=member_zone(ctx.member(workspace, member), ctx),
        start_hour=settings.work_start_hour,
        end_hour=settings.work_end_hour,
        weekdays=settings.working_weekdays,
    )


def working_hours(ctx: RuleContext, workspace: str, member: str) -> WorkingHours:
    zone = calendar(ctx, workspace, member)
    return WorkingHours(zone.timezone, zone.start_hour, zone.end_hour, zone.weekdays)


def ask_time(ctx: RuleContext, workspace: str, member: str, made: datetime, due: datetime) -> datetime:
    """Shortly before it is due: `ASK_BEFORE_HOURS` working hours before, or when due if that is too soon."""
    if due - made < SHORT_NOTICE:
        return due
    before = working_hours(ctx, workspace, member).subtract(due, ASK_BEFORE_HOURS)
    return max(before, made + timedelta(minutes=30))


def follow_up_deadline(commitment: CommitmentRecord) -> Scheduled:
    return Scheduled(
        Commitments.name, commitment.ask_at, "ask",
        (commitment.workspace_id, str(commitment.id), str(commitment.round)),
    )


def recorded(commitment: CommitmentRecord, ctx: RuleContext, command: CommandInvoked | None) -> list[Action | Change]:
    """The follow-up's deadline, and the acknowledgement: 📌 on the message, or a private reply to the command."""
    decision: list[Action | Change] = [follow_up_deadline(commitment)]
    if command is not None:
        due = _when(commitment.due_at, commitment, ctx)
        decision.append(ctx.reply(command, "commit.recorded", text=_quoted(commitment.text), due=due))
    elif commitment.message_id is not None:
        decision.append(
            AddReaction(
                key=f"commitment-noted:{commitment.workspace_id}:{commitment.message_id}",
                workspace=commitment.workspace_id,
                channel=commitment.channel_id,
                message_id=commitment.message_id,
                emoji="pushpin",
            )
        )
    return decision


def follow_up(commitment: CommitmentRecord, ctx: RuleContext) -> list[Action | Change]:
    """The one question to the owner, if they may be messaged now; else a later try, or nothing.

    Mute, closed DMs and a forgotten member mean no question; quiet hours mean a try early in the owner's next
    working hours, a spent nudge budget one `RETRY_HOURS` working hours later, until the commitment is overdue by
    more than `GIVE_UP_HOURS` working hours (a weekend in between does not count)."""
    ws = commitment.workspace_id
    if ctx.backfill:
        return []
    member = ctx.member(ws, commitment.owner_id)
    if ctx.now > working_hours(ctx, ws, member.id).add(commitment.due_at, GIVE_UP_HOURS):
        logger.debug("commitment %s: overdue too long to ask about", commitment.id)
        return []
    refusal = nudge_refusal(member, ctx)
    if refusal in ("quiet hours", "daily budget spent", "weekly budget spent"):
        later = working_hours(ctx, ws, member.id).add(ctx.now, RETRY_HOURS if refusal != "quiet hours" else 0.5)
        logger.debug("commitment %s: not asking %s now (%s); trying again at %s", commitment.id, member.id, refusal,
                     later.isoformat())
        return [Scheduled(Commitments.name, later, "ask", (ws, str(commitment.id), str(commitment.round)))]
    if refusal is not None:
        logger.debug("commitment %s: not asking %s (%s)", commitment.id, member.id, refusal)
        return []
    lang = ctx.language(ws, member.id, otherwise=commitment.language)
    value = str(commitment.id)
    buttons = [
        Button("commitment_done", translate("button.commitment_done", lang), value, "primary"),
        Button("commitment_help", translate("button.commitment_help", lang), value),
    ]
    if not commitment.postponed:
        buttons.append(Button("commitment_later", translate("button.commitment_later", lang), value))
    text = "\n".join([
        translate("commit.ask", lang, text=_quoted(commitment.text), due=_when(commitment.due_at, commitment, ctx,
                                                                               lang)),
        translate("commit.why", lang, channel=f"<#{commitment.channel_id}>"),
    ])
    return [
        nudge(ctx, member, kind=COMMITMENT_NUDGE, question_id=commitment_subject(commitment.id, commitment.round),
              reason="commitment due"),
        SendDirectMessage(
            key=f"commitment-ask:{ws}:{commitment.id}:{commitment.round}",
            workspace=ws,
            user=member.id,
            text=text,
            buttons=tuple(buttons),
        ),
    ]


def later_due(commitment: CommitmentRecord, ctx: RuleContext) -> tuple[datetime, datetime]:
    """"Later": the due date `LATER_WORKING_DAYS` working days on (same time of day), and when to ask again."""
    hours = working_hours(ctx, commitment.workspace_id, commitment.owner_id)
    per_day = max(1, hours.end_hour - hours.start_hour)
    start = max(commitment.due_at, ctx.now)
    due = hours.add(start, LATER_WORKING_DAYS * per_day)
    return due, ask_time(ctx, commitment.workspace_id, commitment.owner_id, ctx.now, due)


def need_help(
    commitment: CommitmentRecord, click: InteractionClicked, ctx: RuleContext
) -> list[Action | Decided | Change]:
    """"Need help": a question about it, in the thread it was promised in, that experts are asked about at once
    (as for any flagged question, within their budgets and hours), then the facilitators if nobody answers. A
    commitment made by command outside a thread has no place for a question: the facilitators hear of it."""
    ws, anchor = commitment.workspace_id, commitment.anchor
    lang = ctx.channel_language(ws, commitment.channel_id)
    existing = ctx.state.question(ws, anchor) if anchor else None
    if anchor is None or (existing is not None and existing.status not in ("asked", "flagged", "escalated")):
        return [
            PostMessage(
                key=f"commitment-help:{ws}:{commitment.id}",
                workspace=ws,
                channel=ctx.settings.facilitators_channel,
                text=translate("commit.help_facilitators", ctx.language(ws), member=f"<@{commitment.owner_id}>",
                               channel=f"<#{commitment.channel_id}>", text=_quoted(commitment.text)),
            ),
            private(click, ctx, "commit.help_asked_facilitators"),
        ]
    decision: list[Action | Decided | Change] = []
    question = existing
    if question is None:
        question = QuestionState(
            workspace_id=ws, id=anchor, channel_id=commitment.channel_id, asker_id=commitment.owner_id,
            asked_at=ctx.now, language=commitment.language, text=commitment.text,
        )
        decision.append(NewQuestion(question))
    if question.flagged_at is not None:
        return [private(click, ctx, "commit.help_asked")]
    escalate = question_hours(ctx, question).add(ctx.now, ctx.settings.escalation_hours)
    decision += [
        Set.question(question, status="flagged", flagged_at=ctx.now),
        PostMessage(
            key=f"commitment-help:{ws}:{commitment.id}",
            workspace=ws,
            channel=commitment.channel_id,
            thread=anchor,
            text=translate("commit.help_post", lang, member=f"<@{commitment.owner_id}>",
                           text=_quoted(commitment.text)),
            buttons=flag_buttons(ctx, question),
        ),
        QuestionsFlagged(workspace=ws, at=ctx.now, question_ids=(anchor,)),
        Scheduled(UnansweredQuestions.name, escalate, "escalate", (ws, anchor)),
        private(click, ctx, "commit.help_asked"),
    ]
    return decision


def open_list(command: CommandInvoked, found: Sequence[CommitmentRecord], ctx: RuleContext) -> Action:
    """`/steward commit` alone: what the member promised and by when."""
    if not found:
        return ctx.reply(command, "commit.none")
    lang = ctx.language(command.workspace, command.user)
    lines = "\n".join(
        f"• {excerpt(c.text, 160)} ({_when(c.due_at, c, ctx, lang)})" for c in found[:10]
    )
    return ctx.reply(command, "commit.list", count=len(found), lines=lines)


def private(event: InteractionClicked, ctx: RuleContext, key: str, **params: Any) -> PostEphemeral:
    """A private answer to the member who pressed a follow-up's button."""
    return PostEphemeral(
        key=f"reply:{event.channel}:{event.user}:{event.at.isoformat()}:{key}",
        workspace=event.workspace,
        channel=event.channel,
        user=event.user,
        text=ctx.t(event.workspace, key, for_member=event.user, **params),
    )


def _when(moment: datetime, commitment: CommitmentRecord, ctx: RuleContext, language: str | None = None) -> str:
    member = ctx.member(commitment.workspace_id, commitment.owner_id)
    lang = language or ctx.language(commitment.workspace_id, member.id, otherwise=commitment.language)
    return local_datetime(moment, member_zone(member, ctx), lang)


def _quoted(text: str) -> str:
    """A commitment quoted in Steward's words: one line, defused, without its closing full stop."""
    return excerpt(text, 240).rstrip(" .!")


def _without_phrase(words: str, start: int, end: int) -> str:
    """A command's text without its due phrase ("send the slides by Friday" -> "send the slides")."""
    kept = (words[:start] + " " + words[end:]).strip(" ,.;:-")
    return " ".join(kept.split())
