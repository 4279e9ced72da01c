"""Onboarding: a newcomer is welcomed once, and invited once if they stay silent.

When a member Steward has not seen before joins a facilitated channel, they get one welcome by direct message:
the channel's purpose (a facilitator sets it with `/steward channel purpose TEXT`), up to three lessons to start
with (the shell looks them up in the knowledge store), who the facilitators are and how to ask. If they have not
posted ONBOARDING_INVITE_DAYS after joining, one gentle invitation follows, never a second.

Both are nudges: budgets, quiet hours and mute apply (a welcome or invitation held back by quiet hours or a spent
budget is tried again hourly for a while), and a member who asked to be forgotten gets neither. Whether and when
each went out is stored on the member's row (`welcomed_at`, `invited_at`), in the same transaction as the message;
after a start the deadlines are derived from those facts (`seed`), so a restart or a second replica neither skips
nor repeats one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.changes import Change, DeadlinesMet, Scheduled, Set
from bot.core.actions import Action, SendDirectMessage
from bot.core.events import CommandInvoked, Event, MemberJoined, MessagePosted, TimePassed
from bot.core.markup import clip, defuse
from bot.i18n import names, translate
from bot.rules import Command, Decision, Errand, LessonHit, RuleBase, RuleContext
from bot.state import MemberState
from facilitation_rules.etiquette import nudge, nudge_refusal
from facilitation_rules.questions import is_facilitated

logger = logging.getLogger(__name__)

RETRY = timedelta(hours=1)  # a welcome or invitation held back by quiet hours or a spent budget: tried again hourly
WELCOME_TRIES = timedelta(days=1)  # ... for a day after joining (a late welcome is worse than none)
INVITE_TRIES = timedelta(days=2)  # ... for two days after it fell due
RETRIED = frozenset({"quiet hours", "daily budget spent", "weekly budget spent"})  # refusals that pass
PURPOSE_CHARS = 500
FACILITATORS_NAMED = 5
CLEAR = frozenset({"off", "aus", "none", "-"})


def next_try(start: datetime, now: datetime, *, inclusive: bool = False) -> datetime:
    """The first moment of the retry grid (`start`, `start` + 1 h, ...) after `now` (or at it, if `inclusive`).

    Retries fall on a grid fixed by a stored moment, so the deadlines derived after a restart are the ones a process
    that never stopped would have kept.
    """
    if now < start:
        return start
    at = start + ((now - start) // RETRY) * RETRY
    return at if at > now or (inclusive and at == now) else at + RETRY


def joined_the_server(workspace: str, channel: str) -> bool:
    """A Discord server without a welcome channel names the join after the server itself."""
    return channel == workspace.partition(":")[2]


def facilitators_of(ctx: RuleContext, workspace: str) -> tuple[str, ...]:
    """Who facilitates, as far as Steward knows: members marked so, and those the settings name."""
    known = {
        m.id for (ws, _), m in ctx.state.members.items()
        if ws == workspace and m.is_facilitator and not m.is_bot
    }
    known |= ctx.settings.facilitator_ids
    named = sorted(known, key=lambda member: (ctx.member(workspace, member).name or member).lower())
    return tuple(named[:FACILITATORS_NAMED])


class Onboarding(RuleBase):
    name = "onboarding"
    reacts_to = (MemberJoined, MessagePosted, TimePassed)

    def commands(self) -> Mapping[str, Command]:
        return {
            "channel": Command(
                "channel", self.channel_command, "onboarding.help_channel", facilitators_only=True,
                usage="purpose TEXT",
            )
        }

    def next_due(self, ctx: RuleContext) -> datetime | None:
        return ctx.state.timers.next(self.name)

    def seed(self, ctx: RuleContext) -> Decision:
        """Welcomes still to try and invitations still due, from the stored facts of each newcomer."""
        if ctx.backfill:
            return ()
        days = ctx.settings.onboarding_invite_days
        decision: list[Change] = []
        for (ws, member_id), member in ctx.state.members.items():
            if member.joined_at is None or member.invited_at is not None or member.is_bot:
                continue
            if member.welcomed_at is None:
                if ctx.now - member.joined_at <= WELCOME_TRIES:
                    at = next_try(member.joined_at, ctx.now, inclusive=True)
                    decision.append(Scheduled(self.name, at, "welcome", (ws, member_id)))
            elif member.first_post_at is None and days > 0:
                due = member.joined_at + timedelta(days=days)
                decision.append(Scheduled(self.name, next_try(due, ctx.now, inclusive=True), "invite", (ws, member_id)))
        return decision

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if isinstance(event, MemberJoined):
            return self.on_join(event, ctx)
        if isinstance(event, MessagePosted):
            return self.on_post(event, ctx)
        if isinstance(event, TimePassed):
            return self.on_time(ctx)
        return ()

    # --- joining and posting --------------------------------------------------------------------------------
    def on_join(self, event: MemberJoined, ctx: RuleContext) -> Decision:
        """A newcomer (first seen now) joins a facilitated channel: remember it, and welcome them."""
        ws = event.workspace
        if not is_facilitated(ctx, ws, event.channel):
            return ()
        member = ctx.member(ws, event.user)
        if member.is_bot or member.joined_at is not None:
            return ()
        if member.first_seen_at is not None and member.first_seen_at < event.at:
            return ()  # Steward knew them before they joined: not a newcomer
        joined = Set.member(ws, event.user, joined_at=event.at, joined_channel=event.channel)
        if ctx.backfill:
            return [joined]  # history: counted for the newcomer figures, nobody is messaged
        return [joined, *self.welcome(member, event.channel, event.at, ctx)]

    def on_post(self, event: MessagePosted, ctx: RuleContext) -> Decision:
        """A newcomer's first post: no invitation for them."""
        if event.bot:
            return ()
        member = ctx.state.members.get((event.workspace, event.user))
        if member is None or member.joined_at is None or member.first_post_at is not None:
            return ()
        if event.at < member.joined_at or not is_facilitated(ctx, event.workspace, event.channel):
            return ()
        return [Set.member(event.workspace, event.user, first_post_at=event.at)]

    # --- the welcome and the invitation --------------------------------------------------------------------
    def welcome(
        self, member: MemberState, channel: str, joined_at: datetime, ctx: RuleContext
    ) -> list[Action | Errand | Change]:
        ws = member.workspace_id
        refusal = nudge_refusal(member, ctx)
        if refusal is not None:
            at = next_try(joined_at, ctx.now)
            if refusal in RETRIED and at - joined_at <= WELCOME_TRIES:
                logger.debug("welcome of %s held back (%s); tried again at %s", member.id, refusal, at)
                return [Scheduled(self.name, at, "welcome", (ws, member.id))]
            logger.debug("no welcome for %s: %s", member.id, refusal)
            return []
        days = ctx.settings.onboarding_invite_days
        invite = [Scheduled(self.name, joined_at + timedelta(days=days), "invite", (ws, member.id))] if days else []
        purpose = str(ctx.channel(ws, channel).settings.get("purpose") or "")
        return [
            Set.member(ws, member.id, welcomed_at=ctx.now),
            nudge(ctx, member, kind="welcome", question_id=None, reason="joined"),
            WelcomeMember(
                workspace=ws,
                user=member.id,
                channel=channel,
                server=joined_the_server(ws, channel),
                purpose=purpose,
                facilitators=tuple(f for f in facilitators_of(ctx, ws) if f != member.id),
                language=ctx.language(ws, member.id, otherwise=ctx.channel_language(ws, channel)),
            ),
            *invite,
        ]

    def on_time(self, ctx: RuleContext) -> Decision:
        due = ctx.state.timers.due(self.name, ctx.now)
        if not due:
            return ()
        decision: list[Action | Errand | Change] = [DeadlinesMet(self.name, ctx.now)]
        handled: set[tuple[str, str, str]] = set()  # a step is due once per sweep (a seeded and a live deadline)
        for _, step, (ws, member_id) in due:
            if (step, ws, member_id) in handled:
                continue
            handled.add((step, ws, member_id))
            member = ctx.state.members.get((ws, member_id))
            if member is None or member.joined_at is None or member.invited_at is not None:
                continue
            if step == "welcome" and member.welcomed_at is None and member.joined_channel:
                if ctx.now - member.joined_at <= WELCOME_TRIES:
                    decision.extend(self.welcome(member, member.joined_channel, member.joined_at, ctx))
            elif step == "invite":
                decision.extend(self.invite(member, ctx))
        return decision

    def invite(self, member: MemberState, ctx: RuleContext) -> list[Action | Change]:
        """The one invitation to a welcomed newcomer who has not posted yet."""
        ws, days = member.workspace_id, ctx.settings.onboarding_invite_days
        channel = member.joined_channel
        if member.welcomed_at is None or member.first_post_at is not None or not days or member.joined_at is None:
            return []
        if channel is None or not is_facilitated(ctx, ws, channel):
            return []
        due = member.joined_at + timedelta(days=days)
        if ctx.now < due:
            return [Scheduled(self.name, due, "invite", (ws, member.id))]
        refusal = nudge_refusal(member, ctx)
        if refusal is not None:
            at = next_try(due, ctx.now)
            if refusal in RETRIED and at - due <= INVITE_TRIES:
                logger.debug("invitation of %s held back (%s); tried again at %s", member.id, refusal, at)
                return [Scheduled(self.name, at, "invite", (ws, member.id))]
            logger.debug("no invitation for %s: %s", member.id, refusal)
            return []
        lang = ctx.language(ws, member.id, otherwise=ctx.channel_language(ws, channel))
        where = _where(ws, channel, lang)
        text = "\n".join([
            translate("onboarding.invite", lang, count=days, where=where),
            translate("onboarding.invite_how", lang, where=where),
            translate("onboarding.invite_why", lang),
        ])
        return [
            Set.member(ws, member.id, invited_at=ctx.now),
            nudge(ctx, member, kind="invite", question_id=None, reason="silent since joining"),
            SendDirectMessage(key=f"invite:{member.id}", workspace=ws, user=member.id, text=text),
        ]

    # --- the channel's purpose -----------------------------------------------------------------------------
    def channel_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        """`/steward channel purpose TEXT`: what the channel is for, as the welcome tells newcomers."""
        if not args or args[0].lower() not in {"purpose", "zweck"}:
            return [ctx.reply(event, "onboarding.channel_usage")]
        channel = ctx.channel(event.workspace, event.channel)
        here = f"<#{event.channel}>"
        text = " ".join(" ".join(args[1:]).split())
        if not text:
            current = str(channel.settings.get("purpose") or "")
            if not current:
                return [ctx.reply(event, "onboarding.purpose_none", channel=here)]
            return [ctx.reply(event, "onboarding.purpose_show", channel=here, purpose=current)]
        settings = dict(channel.settings)
        if text.lower() in CLEAR:
            settings.pop("purpose", None)
            reply = ctx.reply(event, "onboarding.purpose_cleared", channel=here)
        else:
            settings["purpose"] = clip(defuse(text), PURPOSE_CHARS)
            reply = ctx.reply(event, "onboarding.purpose_saved", channel=here, purpose=settings["purpose"])
        return [Set.channel(event.workspace, event.channel, settings=settings), reply]


def _where(workspace: str, channel: str, lang: str) -> str:
    """The channel as a message names it, or "the community" for a Discord server without a welcome channel."""
    return translate("onboarding.the_community", lang) if joined_the_server(workspace, channel) else f"<#{channel}>"


@dataclass(frozen=True, slots=True, kw_only=True)
class WelcomeMember(Errand):
    """The welcome DM, once the shell has looked up the lessons a newcomer of the channel should see first."""

    user: str
    channel: str
    server: bool  # joined a Discord server without a welcome channel
    purpose: str
    facilitators: tuple[str, ...]
    language: str

    @property
    def key(self) -> str:
        return f"welcome:{self.user}"

    def unserved(self, ctx: RuleContext) -> Decision:
        return [self.message(())]  # without the store, the welcome still says the rest

    def message(self, lessons: Sequence[LessonHit]) -> SendDirectMessage:
        lang = self.language
        where = _where(self.workspace, self.channel, lang)
        lines = [translate("onboarding.welcome", lang, where=where)]
        if self.purpose:
            lines.append(translate("onboarding.purpose", lang, purpose=self.purpose))
        if lessons:
            lines.append(translate("onboarding.lessons", lang))
            lines.extend(f"• {defuse(hit.title)} {hit.link}".rstrip() for hit in lessons)
        if self.facilitators:
            people = names([f"<@{f}>" for f in self.facilitators], lang)
            lines.append(translate("onboarding.facilitators", lang, count=len(self.facilitators), people=people))
        lines.append(translate("onboarding.how_to_ask", lang, where=where))
        lines.append(translate("onboarding.why", lang, where=where))
        return SendDirectMessage(key=self.key, workspace=self.workspace, user=self.user, text="\n".join(lines))
