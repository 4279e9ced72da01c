"""Nudge etiquette: budgets, quiet hours, mute. The sharpest tool Steward has, used gently.

Every nudge path asks `nudge_refusal` first and returns the nudge as a change with `nudge`, so budgets, quiet hours
and "never the same nudge twice" hold for experts and stuck members alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.changes import NudgeSent, Set
from bot.core.clock import parse_duration
from bot.core.events import CommandInvoked
from bot.i18n import local_datetime
from bot.rules import Command, Decision, RuleBase, RuleContext
from bot.settings import Settings
from bot.state import MemberState
from facilitation_rules.working_time import in_quiet_hours


def member_zone(member: MemberState, ctx: RuleContext) -> str:
    """The time zone the member chose (`/steward settings timezone`), else the platform's, else the community's."""
    return member.chosen_timezone or member.timezone or ctx.workspace(member.workspace_id).timezone or "UTC"


def quiet_hours(member: MemberState, settings: Settings) -> tuple[int, int]:
    """The member's own quiet hours (`/steward settings quiet`), else the community's: (start, end) hours in their
    time zone, which may wrap midnight."""
    if member.quiet_start is None or member.quiet_end is None:
        return settings.quiet_start_hour, settings.quiet_end_hour
    return member.quiet_start, member.quiet_end


def nudge_refusal(member: MemberState, ctx: RuleContext, *, budgeted: bool = True) -> str | None:
    """Why this member must not be nudged now (a short reason for logs and tests), or None."""
    now, settings = ctx.now, ctx.settings
    if member.is_bot:
        return "bot"
    if member.dm_closed:
        return "dms closed"
    if member.muted_until is not None and member.muted_until > now:
        return "muted"
    if in_quiet_hours(now, member_zone(member, ctx), *quiet_hours(member, settings)):
        return "quiet hours"
    if budgeted:
        day = sum(1 for sent in member.nudges_sent if now - sent < timedelta(days=1))
        week = sum(1 for sent in member.nudges_sent if now - sent < timedelta(days=7))
        if day >= settings.nudges_per_day:
            return "daily budget spent"
        if week >= settings.nudges_per_week:
            return "weekly budget spent"
    return None


def recent_nudges(member: MemberState, now: datetime, days: int = 7) -> int:
    return sum(1 for sent in member.nudges_sent if now - sent < timedelta(days=days))


def nudge(ctx: RuleContext, member: MemberState, *, kind: str, question_id: str | None, reason: str) -> NudgeSent:
    """The change that counts a nudge against the member's budgets and cool-downs, and stores it.

    While history is imported nothing is sent, yet the nudge counts in memory exactly as it would have: whom
    Steward asks about later history then agrees with what it would have done live."""
    return NudgeSent(member.workspace_id, member.id, kind, question_id, reason, ctx.now, sent=not ctx.backfill)


class MuteCommands(RuleBase):
    """`/steward mute [days]` and `/steward unmute`: anyone can make Steward leave them alone."""

    name = "mute"

    def commands(self) -> Mapping[str, Command]:
        return {
            "mute": Command("mute", self.mute, "help.mute", usage="[7d]"),
            "unmute": Command("unmute", self.unmute, "help.unmute"),
        }

    def mute(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        try:
            span = _mute_span(args)
        except ValueError:
            return [ctx.reply(event, "mute.bad_duration", value=" ".join(args))]
        until = ctx.now + span
        zone = member_zone(ctx.member(event.workspace, event.user), ctx)
        shown = local_datetime(until, zone, ctx.language(event.workspace, event.user))
        return [
            Set.member(event.workspace, event.user, muted_until=until),
            ctx.reply(event, "mute.done", until=shown),
        ]

    def unmute(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        return [Set.member(event.workspace, event.user, muted_until=None), ctx.reply(event, "mute.undone")]


def _mute_span(args: list[str]) -> timedelta:
    """`mute` alone is a week; a bare number is days; `3d`, `2w`, `12h` work too."""
    if not args:
        return timedelta(days=7)
    value = args[0]
    if value.isdigit():
        days = int(value)
        if not 1 <= days <= 365:
            raise ValueError(value)
        return timedelta(days=days)
    return parse_duration(value)
