"""The decisions log: what the community decided in a thread, why, and whether everyone can live with it.

`/steward decide [title]` in a thread (outside one: the channel's latest thread), or the "Record decision" button
Steward offers when a thread sounds decided ("we decided", "let's go with", "wir machen das so", "beschlossen"),
records the thread's decision: its question, the options discussed, the outcome and the reasons, the people
involved, the date and a link. Steward posts the summary in the thread with "Agree" and "Object" buttons;
agreement is by consent: when nobody objects within 48 working hours, the decision stands. An objection opens it
again: the thread talks it through and records it again, which proposes it anew ("reopened"). A later decision
can supersede an earlier one (`/steward decide supersede ID [title]`, by the earlier one's recorder or a
facilitator); the chain is kept. `/steward decisions [words]` finds decisions; the weekly digest lists what was
decided that week and why.

The decisions live in their own store, so the rule decides and leaves the reading, distilling and storing to the
shell as errands (bot.app.errands.cocreation). The consent deadlines come back from the stored decisions after a
restart (`seed` asks the shell to load them), so a restart neither skips nor repeats a decision's closing.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.changes import Change, DeadlinesMet, Scheduled
from bot.core.actions import Action, Button, Card, PostEphemeral, PostMessage, UpdateMessage
from bot.core.cocreation import AGREED, OBJECTED, SUPERSEDED, DecisionDraft, DecisionRecord
from bot.core.events import CommandInvoked, Event, InteractionClicked, MessageUnderstood, TimePassed
from bot.core.lessons import ThreadMessage
from bot.core.markup import defuse, excerpt
from bot.i18n import local_datetime, translate
from bot.rules import Command, Decision, Errand, RuleBase, RuleContext
from facilitation_rules.text.decisions import decision_cue, distill_decision, message_title
from facilitation_rules.working_time import WorkingHours

logger = logging.getLogger(__name__)

CONSENT_HOURS = 48.0  # working hours in which anyone may object
SEARCH_RESULTS = 5
RECENT_LISTED = 8
THREAD_SCAN = 5000  # recent messages looked through for a thread's people, or the channel's latest thread
MIN_PARTICIPANTS = 2  # a thread one person wrote alone decided nothing together
ANNOUNCED_WITHIN = timedelta(days=7)  # after a restart, agreements this recent are announced if they were not
VOTES = {"decision_agree": "agree", "decision_object": "object"}


class DecisionDistiller(Protocol):
    async def distill(
        self, thread: Sequence[ThreadMessage], *, title: str | None = None, recorded_by: str | None = None
    ) -> DecisionDraft: ...


class OfflineDecisionDistiller:
    """The extractive method; no text leaves the process."""

    async def distill(
        self, thread: Sequence[ThreadMessage], *, title: str | None = None, recorded_by: str | None = None
    ) -> DecisionDraft:
        return distill_decision(thread, title=title, recorded_by=recorded_by)


class DecisionLog(RuleBase):
    """Decides when to record, offer, count consent and close it; the shell reads, distils and stores."""

    name = "decisions"
    reacts_to = (MessageUnderstood, InteractionClicked, TimePassed)

    def __init__(self, *, enabled: bool = False) -> None:
        self.enabled = enabled  # False until the app wires the decision store in: the commands say so

    def commands(self) -> Mapping[str, Command]:
        return {
            "decide": Command("decide", self.decide_command, "decide.help", usage="[title] | supersede ID [title]"),
            "decisions": Command("decisions", self.search_command, "decisions.help", usage="[words]"),
        }

    def next_due(self, ctx: RuleContext) -> datetime | None:
        return ctx.state.timers.next(self.name) if self.enabled else None

    def seed(self, ctx: RuleContext) -> Decision:
        """After a start, each workspace's open consent windows are loaded from the store at the next tick."""
        if not self.enabled:
            return ()
        return [Scheduled(self.name, ctx.now, "load", (ws,)) for ws in sorted(ctx.state.workspaces)]

    # --- events --------------------------------------------------------------------------------------------
    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if not self.enabled:
            return ()
        if isinstance(event, MessageUnderstood):
            return self.on_message(event, ctx)
        if isinstance(event, InteractionClicked) and event.action in VOTES:
            return [VoteOnDecision(workspace=event.workspace, click=event, vote=VOTES[event.action])]
        if isinstance(event, InteractionClicked) and event.action == "decision_record":
            return [
                RecordDecision(
                    workspace=event.workspace, reply_to=event, channel=event.channel, root=event.value, title=None,
                    by=event.user, origin=event.key,
                )
            ]
        if isinstance(event, TimePassed):
            return self.on_time(ctx)
        return ()

    def on_message(self, understood: MessageUnderstood, ctx: RuleContext) -> Decision:
        """A reply in a thread that states a decision: offer (once per thread, says the shell) to record it."""
        message = understood.message
        ws = message.workspace
        if message.bot or ctx.backfill or not message.thread or message.thread == message.message_id:
            return ()
        channel = ctx.channel(ws, message.channel)
        if not channel.watched or decision_cue(message.text) is None:
            return ()
        if len(thread_people(ctx, ws, message.thread) | {message.user}) < MIN_PARTICIPANTS:
            return ()
        return [
            OfferDecision(workspace=ws, channel=message.channel, thread=message.thread, message_id=message.message_id)
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
                decision.append(LoadDecisions(workspace=subject[0]))
            elif step == "consent" and len(subject) == 3:
                decision.append(
                    CloseConsent(workspace=subject[0], decision_id=int(subject[1]), round=int(subject[2]))
                )
        return decision

    # --- commands ------------------------------------------------------------------------------------------
    def decide_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if not self.enabled:
            return [ctx.reply(event, "decide.unavailable")]
        supersedes: int | None = None
        if args and args[0].lower() in ("supersede", "ersetze", "ersetzen"):
            number = args[1].lstrip("#") if len(args) > 1 else ""
            if not number.isdigit() or len(number) > 9:
                return [ctx.reply(event, "decide.usage")]
            supersedes, args = int(number), args[2:]
        root = event.thread or latest_thread(ctx, event.workspace, event.channel)
        known = ctx.state.message(event.workspace, root) if root else None
        if known is not None and known.thread:
            root = known.thread  # run on a reply: the decision is the whole thread's
        if root is None:
            return [ctx.reply(event, "decide.need_thread")]
        title = " ".join(args).strip()[:200] or None
        return [
            RecordDecision(
                workspace=event.workspace, reply_to=event, channel=event.channel, root=root, title=title,
                by=event.user, origin=event.key, supersedes=supersedes,
            )
        ]

    def search_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if not self.enabled:
            return [ctx.reply(event, "decide.unavailable")]
        return [SearchDecisions(workspace=event.workspace, command=event, query=" ".join(args).strip()[:200])]


def shortcut_command(text: str) -> str:
    """What the "Record decision" shortcut on a message runs (in the message's thread): `decide`, titled from the
    message's words; quoted, so they are read as the title, never as a `supersede`."""
    title = message_title(text)
    return f"decide {shlex.quote(title)}" if title else "decide"


# --- errands: what the shell does with the store ---------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class RecordDecision(Errand):
    """Distil the thread and store its decision (or propose it again after an objection); post it for consent."""

    reply_to: CommandInvoked | InteractionClicked  # who asked, to be told what happened
    channel: str
    root: str
    title: str | None
    by: str
    origin: str  # the event's key: the same event stores one decision, however often it is handled
    supersedes: int | None = None

    def unserved(self, ctx: RuleContext) -> Decision:
        return [private(self.reply_to, ctx, "decide.failed")]


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchDecisions(Errand):
    """`/steward decisions [words]`, answered privately (no words: the latest decisions)."""

    command: CommandInvoked
    query: str

    def unserved(self, ctx: RuleContext) -> Decision:
        return [private(self.command, ctx, "decide.failed")]


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferDecision(Errand):
    """A thread sounds decided: offer to record it, unless it was offered or recorded before."""

    channel: str
    thread: str
    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VoteOnDecision(Errand):
    """An "Agree" or "Object" click on a decision's card."""

    click: InteractionClicked
    vote: str

    def unserved(self, ctx: RuleContext) -> Decision:
        return [private(self.click, ctx, "decide.failed")]


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseConsent(Errand):
    """A decision's consent window ended: it stands unless someone objected (or it was proposed again since)."""

    decision_id: int
    round: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadDecisions(Errand):
    """After a start: the consent windows still open, from the store, as deadlines."""


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


def working_hours(ctx: RuleContext, workspace: str) -> WorkingHours:
    settings = ctx.settings
    return WorkingHours(
        timezone=ctx.workspace(workspace).timezone or "UTC",
        start_hour=settings.work_start_hour,
        end_hour=settings.work_end_hour,
        weekdays=settings.working_weekdays,
    )


def consent_until(ctx: RuleContext, workspace: str, start: datetime) -> datetime:
    """When a proposal stands if nobody objects: `CONSENT_HOURS` working hours after it was posted."""
    return working_hours(ctx, workspace).add(start, CONSENT_HOURS)


def card_key(workspace: str, decision_id: int, round_: int) -> str:
    """The outbox key of the card a decision's round is posted with (its updates name it)."""
    return f"decision:{workspace}:{decision_id}:{round_}"


def agreed_key(workspace: str, decision_id: int, round_: int) -> str:
    return f"decision-agreed:{workspace}:{decision_id}:{round_}"


def consent_deadline(decision: DecisionRecord) -> Scheduled:
    return Scheduled(
        DecisionLog.name, decision.consent_until, "consent",
        (decision.workspace_id, str(decision.id), str(decision.round)),
    )


def proposed(decision: DecisionRecord, ctx: RuleContext) -> list[Action | Change]:
    """The card in the thread, with "Agree" and "Object", and the deadline that closes its consent."""
    lang = _lang(decision, ctx)
    until = _moment(decision.consent_until, decision, ctx)
    intro = "decide.reproposed_post" if decision.round else "decide.proposed_post"
    post = PostMessage(
        key=decision.card_key,
        workspace=decision.workspace_id,
        channel=decision.channel_id,
        thread=decision.thread_id,
        text=translate(intro, lang, until=until),
        card=decision_card(decision, ctx),
        buttons=consent_buttons(decision, lang),
    )
    return [post, consent_deadline(decision)]


def consent_buttons(decision: DecisionRecord, lang: str) -> tuple[Button, ...]:
    return (
        Button("decision_agree", translate("button.decision_agree", lang), str(decision.id), "primary"),
        Button("decision_object", translate("button.decision_object", lang), str(decision.id), "danger"),
    )


def card_update(decision: DecisionRecord, ctx: RuleContext) -> UpdateMessage:
    """The card as it stands now (agreements counted, or its outcome), edited in place."""
    lang = _lang(decision, ctx)
    state = f"{decision.status}:{decision.round}:{len(decision.agreements)}:{decision.superseded_by or ''}"
    return UpdateMessage(
        key=f"decision-card:{decision.workspace_id}:{decision.id}:{state}",
        workspace=decision.workspace_id,
        channel=decision.channel_id,
        original_key=decision.card_key,
        text=translate("decide.card_status", lang, status=status_line(decision, ctx)),
        card=decision_card(decision, ctx),
        buttons=consent_buttons(decision, lang) if decision.open_for_consent else (),
    )


def agreed(decision: DecisionRecord, ctx: RuleContext) -> list[Action]:
    """The decision stands: said in the thread, and the card shows it."""
    lang = _lang(decision, ctx)
    return [
        PostMessage(
            key=agreed_key(decision.workspace_id, decision.id, decision.round),
            workspace=decision.workspace_id,
            channel=decision.channel_id,
            thread=decision.thread_id,
            text=translate("decide.agreed_post", lang, id=decision.id, title=defuse(decision.title)),
        ),
        card_update(decision, ctx),
    ]


def objected(decision: DecisionRecord, member: str, ctx: RuleContext) -> list[Action]:
    """Someone objected: the thread hears that the decision is open again, and how to record it anew."""
    lang = _lang(decision, ctx)
    return [
        PostMessage(
            key=f"decision-objected:{decision.workspace_id}:{decision.id}:{decision.round}",
            workspace=decision.workspace_id,
            channel=decision.channel_id,
            thread=decision.thread_id,
            text=translate("decide.objected_post", lang, member=f"<@{member}>", id=decision.id),
        ),
        card_update(decision, ctx),
    ]


def offer(workspace: str, channel: str, thread: str, ctx: RuleContext) -> PostMessage:
    lang = ctx.channel_language(workspace, channel)
    return PostMessage(
        key=f"decision-offer:{workspace}:{thread}",
        workspace=workspace,
        channel=channel,
        thread=thread,
        text=translate("decide.offer", lang),
        buttons=(Button("decision_record", translate("button.decision_record", lang), thread, "primary"),),
    )


def status_line(decision: DecisionRecord, ctx: RuleContext) -> str:
    lang = _lang(decision, ctx)
    if decision.status == AGREED and decision.agreed_at is not None:
        return translate("decide.status_agreed", lang, date=_moment(decision.agreed_at, decision, ctx))
    if decision.status == OBJECTED:
        who = f"<@{decision.objected_by}>" if decision.objected_by else "-"
        when = _moment(decision.objected_at or decision.recorded_at, decision, ctx)
        return translate("decide.status_objected", lang, member=who, date=when)
    if decision.status == SUPERSEDED:
        return translate("decide.status_superseded", lang, id=decision.superseded_by or "?")
    return translate(
        "decide.status_open", lang, until=_moment(decision.consent_until, decision, ctx),
        count=len(decision.agreements),
    )


def decision_card(decision: DecisionRecord, ctx: RuleContext) -> Card:
    """The decision as members see it: what was asked, the options, the outcome and why, each under its heading.
    All of it is member text (or a model's): it may quote, never mention or disguise a link."""
    lang = _lang(decision, ctx)

    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    sections = [
        _section(t("decide.heading_question"), defuse(decision.question)),
        _section(t("decide.heading_options"), *(f"• {defuse(o)}" for o in decision.options)),
        _section(t("decide.heading_outcome"), defuse(decision.outcome)),
        _section(t("decide.heading_reasons"), *(f"• {defuse(r)}" for r in decision.reasons)),
    ]
    fields: list[tuple[str, str]] = []
    if decision.participants:
        fields.append((t("decide.field_people"), ", ".join(f"<@{p}>" for p in decision.participants)))
    fields.append((t("decide.field_status"), status_line(decision, ctx)))
    fields.append((t("decide.field_date"), _moment(decision.recorded_at, decision, ctx)))
    if decision.supersedes:
        fields.append((t("decide.field_supersedes"), f"#{decision.supersedes}"))
    if decision.permalink:
        fields.append((t("decide.field_source"), decision.permalink))
    footer = t("decide.footer_open") if decision.open_for_consent else t("decide.footer", id=decision.id)
    return Card(
        title=f"🧭 #{decision.id} {defuse(decision.title)}",
        sections=tuple(s for s in sections if s),
        fields=tuple(fields),
        footer=footer,
    )


def found_reply(event: CommandInvoked, query: str, found: Sequence[DecisionRecord], ctx: RuleContext) -> Action:
    """`/steward decisions`: a private list, best match (or newest) first."""
    if not found:
        return ctx.reply(event, "decisions.none" if query else "decisions.empty", query=query)
    lines = []
    for decision in found:
        status = translate(f"decide.short_{decision.status}", ctx.language(event.workspace, event.user))
        link = f" {decision.permalink}" if decision.permalink else ""
        lines.append(f"#{decision.id} *{excerpt(decision.title, 100)}* ({status}){link}")
    title_key = "decisions.title" if query else "decisions.title_recent"
    card = Card(title=ctx.t(event.workspace, title_key, for_member=event.user, query=query), sections=tuple(lines))
    return ctx.reply(event, "decisions.found", card=card, count=len(found))


def thread_people(ctx: RuleContext, workspace: str, root: str) -> set[str]:
    """Who wrote in a thread, as far as the recent messages show (the root's author too); bots excluded."""
    people: set[str] = set()
    for index, ((ws, message_id), info) in enumerate(reversed(ctx.state.messages.items())):
        if index >= THREAD_SCAN:
            break
        if ws == workspace and not info.bot and (info.thread == root or message_id == root):
            people.add(info.user)
    return people


def latest_thread(ctx: RuleContext, workspace: str, channel: str) -> str | None:
    """Outside a thread (Slack runs slash commands in the channel), `decide` means the channel's latest thread."""
    for index, ((ws, _), info) in enumerate(reversed(ctx.state.messages.items())):
        if index >= THREAD_SCAN:
            break
        if ws == workspace and info.channel == channel and info.thread and not info.bot:
            return info.thread
    return None


def _lang(decision: DecisionRecord, ctx: RuleContext) -> str:
    return ctx.channel_language(decision.workspace_id, decision.channel_id)


def _moment(moment: datetime, decision: DecisionRecord, ctx: RuleContext) -> str:
    zone = ctx.workspace(decision.workspace_id).timezone or "UTC"
    return local_datetime(moment, zone, _lang(decision, ctx))


def _section(heading: str, *lines: str) -> str:
    body = [line for line in lines if line.strip()]
    return "\n".join([f"*{heading}*", *body]) if body else ""
