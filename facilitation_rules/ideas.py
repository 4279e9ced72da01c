"""Ideas and proposals: what members suggest, who supports it, and how far it got.

`/steward idea TEXT` posts an idea card in the channel. Members support it with the "Support" button or a 👍
reaction on the card (one vote per member: a second vote changes nothing; "Withdraw" or removing the reaction
takes it back) and discuss it in the card's thread. Its author or a facilitator moves it forward: proposed →
accepted → in progress → done, or declined with a reason (buttons on the card, or `/steward idea status N
accepted|in-progress|done|declined REASON`). The card is edited in place on every change. `/steward ideas
[words]` lists the open ideas, most supported first; the weekly digest names the week's new ideas and the most
supported ones.

The ideas live in their own store, so the rule decides and leaves the reading and writing to the shell as
errands (bot.app.errands.ideas); the card's text and buttons are pure functions of the stored idea.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.actions import Action, Button, Card, PostEphemeral, PostMessage, UpdateMessage
from bot.core.events import (
    CommandInvoked,
    Event,
    InteractionClicked,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.ideas import ACCEPTED, DECLINED, DONE, IN_PROGRESS, PROPOSED, IdeaRecord, next_statuses
from bot.core.markup import defuse, excerpt
from bot.i18n import local_datetime, translate
from bot.rules import Command, Decision, Errand, RuleBase, RuleContext

logger = logging.getLogger(__name__)

MAX_TEXT = 500
MAX_REASON = 300
LISTED = 10
VOTE_EMOJI = frozenset({"+1", "thumbsup"})  # 👍 as Slack and Discord name it
SUPPORT = {"idea_vote": True, "idea_withdraw": False}
MOVES = {"idea_accept": ACCEPTED, "idea_start": IN_PROGRESS, "idea_done": DONE, "idea_decline": DECLINED}
STATUS_WORDS = {
    "accepted": ACCEPTED, "accept": ACCEPTED, "angenommen": ACCEPTED, "annehmen": ACCEPTED,
    "in-progress": IN_PROGRESS, "in_progress": IN_PROGRESS, "progress": IN_PROGRESS, "started": IN_PROGRESS,
    "in-arbeit": IN_PROGRESS, "begonnen": IN_PROGRESS,
    "done": DONE, "erledigt": DONE, "umgesetzt": DONE,
    "declined": DECLINED, "decline": DECLINED, "abgelehnt": DECLINED, "ablehnen": DECLINED,
}
STATUS_VERBS = ("status",)


class Ideas(RuleBase):
    """Decides what an idea command, click, reaction or reply asks for; the shell stores it and answers."""

    name = "ideas"
    reacts_to = (InteractionClicked, ReactionAdded, ReactionRemoved, MessagePosted)

    def __init__(self, *, enabled: bool = False) -> None:
        self.enabled = enabled  # False until the app wires the idea store in: the commands say so

    def commands(self) -> Mapping[str, Command]:
        return {
            "idea": Command("idea", self.idea_command, "idea.help", usage="TEXT | status N STATUS [REASON]"),
            "ideas": Command("ideas", self.list_command, "ideas.help", usage="[words]"),
        }

    # --- events --------------------------------------------------------------------------------------------
    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if not self.enabled:
            return ()
        if isinstance(event, InteractionClicked) and event.action in SUPPORT:
            return [SupportIdea(workspace=event.workspace, idea=event.value, member=event.user, origin=event.key,
                                support=SUPPORT[event.action], click=event)]
        if isinstance(event, InteractionClicked) and event.action in MOVES:
            return [MoveIdea(workspace=event.workspace, reply_to=event, idea=event.value, status=MOVES[event.action],
                             reason="", origin=event.key)]
        if isinstance(event, ReactionAdded | ReactionRemoved) and event.emoji in VOTE_EMOJI:
            if not self._may_be_a_card(ctx, event.workspace, event.message_id):
                return ()
            return [SupportIdea(workspace=event.workspace, idea=event.message_id, member=event.user,
                                origin=event.key, support=isinstance(event, ReactionAdded), by_reaction=True)]
        if isinstance(event, MessagePosted) and not event.bot and event.thread and event.thread != event.message_id:
            if ctx.backfill or not self._may_be_a_card(ctx, event.workspace, event.thread):
                return ()
            return [CountIdeaComments(workspace=event.workspace, thread=event.thread)]
        return ()

    @staticmethod
    def _may_be_a_card(ctx: RuleContext, workspace: str, message_id: str) -> bool:
        """Steward's own message, or one it does not remember: a member's recent message is never a card."""
        known = ctx.state.message(workspace, message_id)
        return known is None or known.bot

    # --- commands ------------------------------------------------------------------------------------------
    def idea_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if not self.enabled:
            return [ctx.reply(event, "idea.unavailable")]
        if not args:
            return [ctx.reply(event, "idea.usage")]
        if args[0].lower() in STATUS_VERBS:
            return self.status_command(event, args[1:], ctx)
        text = " ".join(" ".join(args).split())
        if len(text) < 3:
            return [ctx.reply(event, "idea.usage")]
        return [ProposeIdea(workspace=event.workspace, command=event, text=text[:MAX_TEXT])]

    def status_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        number = args[0].lstrip("#") if args else ""
        status = STATUS_WORDS.get(args[1].lower()) if len(args) > 1 else None
        if not number.isdigit() or len(number) > 9 or status is None:
            return [ctx.reply(event, "idea.status_usage")]
        reason = " ".join(" ".join(args[2:]).split())[:MAX_REASON]
        return [MoveIdea(workspace=event.workspace, reply_to=event, idea=number, status=status, reason=reason,
                         origin=event.key)]

    def list_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if not self.enabled:
            return [ctx.reply(event, "idea.unavailable")]
        return [ListIdeas(workspace=event.workspace, command=event, words=tuple(a for a in args if a.strip())[:10])]


def shortcut_command(text: str) -> str:
    """What the "Make an idea" shortcut on a message runs: `idea` with the message's words as the idea; quoted, so
    they are read as its text, never as a `status` change."""
    words = " ".join((text or "").split())[:MAX_TEXT]
    return f"idea {shlex.quote(words)}" if words else "idea"


# --- errands: what the shell does with the store ---------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ProposeIdea(Errand):
    """Store the idea and post its card in the channel."""

    command: CommandInvoked
    text: str

    def unserved(self, ctx: RuleContext) -> Decision:
        return [ctx.reply(self.command, "idea.failed")]


@dataclass(frozen=True, slots=True, kw_only=True)
class ListIdeas(Errand):
    """`/steward ideas [words]`, answered privately."""

    command: CommandInvoked
    words: tuple[str, ...]

    def unserved(self, ctx: RuleContext) -> Decision:
        return [ctx.reply(self.command, "idea.failed")]


@dataclass(frozen=True, slots=True, kw_only=True)
class SupportIdea(Errand):
    """A vote or its withdrawal: by button (`idea` is the idea's number) or by a 👍 on its card (the card's
    message)."""

    idea: str
    member: str
    origin: str
    support: bool
    click: InteractionClicked | None = None
    by_reaction: bool = False

    def unserved(self, ctx: RuleContext) -> Decision:
        return [private(self.click, ctx, "idea.failed")] if self.click is not None else ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveIdea(Errand):
    """The author or a facilitator moves an idea to a new status (declined needs a reason)."""

    reply_to: CommandInvoked | InteractionClicked
    idea: str
    status: str
    reason: str
    origin: str

    def unserved(self, ctx: RuleContext) -> Decision:
        return [private(self.reply_to, ctx, "idea.failed")]


@dataclass(frozen=True, slots=True, kw_only=True)
class CountIdeaComments(Errand):
    """A reply in a thread that may be an idea card's: count its comments again."""

    thread: str


# --- what the shell's outcomes look like (pure) ---------------------------------------------------------------
def private(event: CommandInvoked | InteractionClicked, ctx: RuleContext, key: str, **params: Any) -> PostEphemeral:
    """A private answer to the member who ran the command or pressed the button."""
    return PostEphemeral(
        key=f"reply:{event.channel}:{event.user}:{event.at.isoformat()}:{key}",
        workspace=event.workspace,
        channel=event.channel,
        user=event.user,
        text=ctx.t(event.workspace, key, for_member=event.user, **params),
    )


def card_key(workspace: str, idea_id: int) -> str:
    """The outbox key of an idea's card (its updates name it; a reaction finds the idea through it)."""
    return f"idea:{workspace}:{idea_id}"


def posted(idea: IdeaRecord, ctx: RuleContext) -> PostMessage:
    """The card in the channel, with the buttons its status allows."""
    lang = _lang(idea, ctx)
    return PostMessage(
        key=idea.card_key,
        workspace=idea.workspace_id,
        channel=idea.channel_id,
        text=translate("idea.post", lang, id=idea.id, member=_author(idea, lang)),
        card=idea_card(idea, ctx),
        buttons=idea_buttons(idea, lang),
    )


def card_update(idea: IdeaRecord, ctx: RuleContext) -> UpdateMessage:
    """The card as the idea stands now, edited in place; keyed by its revision, so each change is sent once."""
    lang = _lang(idea, ctx)
    return UpdateMessage(
        key=f"idea-card:{idea.workspace_id}:{idea.id}:{idea.revision}",
        workspace=idea.workspace_id,
        channel=idea.channel_id,
        original_key=idea.card_key,
        text=translate("idea.card_status", lang, id=idea.id, status=status_text(idea, lang),
                       support=support_text(idea.votes, lang)),
        card=idea_card(idea, ctx),
        buttons=idea_buttons(idea, lang),
    )


def idea_buttons(idea: IdeaRecord, lang: str) -> tuple[Button, ...]:
    """Support and withdraw while it is open; the next steps its author or a facilitator may take."""
    if not idea.open:
        return ()
    value = str(idea.id)
    steps = next_statuses(idea.status)
    buttons = [
        Button("idea_vote", translate("button.idea_vote", lang), value, "primary"),
        Button("idea_withdraw", translate("button.idea_withdraw", lang), value),
    ]
    if ACCEPTED in steps:
        buttons.append(Button("idea_accept", translate("button.idea_accept", lang), value))
    if IN_PROGRESS in steps:
        buttons.append(Button("idea_start", translate("button.idea_start", lang), value))
    if idea.status != PROPOSED and DONE in steps:
        buttons.append(Button("idea_done", translate("button.idea_done", lang), value))
    buttons.append(Button("idea_decline", translate("button.idea_decline", lang), value, "danger"))
    return tuple(buttons)


def idea_card(idea: IdeaRecord, ctx: RuleContext) -> Card:
    """The idea as members see it: its words (member text: it may quote, never mention), who proposed it, its
    status, its support and its comments."""
    lang = _lang(idea, ctx)

    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    fields = [
        (t("idea.field_by"), _author(idea, lang)),
        (t("idea.field_status"), status_text(idea, lang)),
        (t("idea.field_support"), support_text(idea.votes, lang)),
        (t("idea.field_comments"), t("idea.comments", count=idea.comments)),
        (t("idea.field_date"), _moment(idea.created_at, idea, ctx)),
    ]
    footer = t("idea.footer_open", id=idea.id) if idea.open else t("idea.footer_closed", id=idea.id)
    return Card(
        title=t("idea.card_title", id=idea.id),
        sections=(defuse(idea.text),),
        fields=tuple(fields),
        footer=footer,
    )


def status_text(idea: IdeaRecord, lang: str) -> str:
    label = translate(f"idea.short_{idea.status}", lang)
    if idea.status == DECLINED and idea.reason:
        return translate("idea.declined_because", lang, status=label, reason=excerpt(idea.reason, MAX_REASON))
    return label


def support_text(votes: int, lang: str) -> str:
    return translate("idea.support", lang, count=votes)


def found_reply(event: CommandInvoked, words: Sequence[str], found: Sequence[IdeaRecord], ctx: RuleContext) -> Action:
    """`/steward ideas [words]`: the open ideas, most supported first, privately."""
    query = " ".join(words)
    if not found:
        return ctx.reply(event, "ideas.none" if words else "ideas.empty", query=query)
    lang = ctx.language(event.workspace, event.user)
    lines = [
        translate("ideas.item", lang, id=idea.id, text=excerpt(idea.text, 140), status=status_text(idea, lang),
                  support=support_text(idea.votes, lang))
        for idea in found
    ]
    title_key = "ideas.title" if words else "ideas.title_open"
    card = Card(title=ctx.t(event.workspace, title_key, for_member=event.user, query=query), sections=tuple(lines))
    return ctx.reply(event, "ideas.found", card=card, count=len(found))


def _author(idea: IdeaRecord, lang: str) -> str:
    return f"<@{idea.author_id}>" if idea.author_id else translate("idea.former_member", lang)


def _lang(idea: IdeaRecord, ctx: RuleContext) -> str:
    return ctx.channel_language(idea.workspace_id, idea.channel_id)


def _moment(moment: datetime, idea: IdeaRecord, ctx: RuleContext) -> str:
    zone = ctx.workspace(idea.workspace_id).timezone or "UTC"
    return local_datetime(moment, zone, _lang(idea, ctx))
