"""Facilitator commands: who facilitates, which channels Steward watches, and per-channel settings.

`/steward settings` is shared with every member: `settings quiet …` and `settings timezone …` are the member's
own (facilitation_rules.own_settings), `settings answer_time …` and `settings language …` the channel's, for
facilitators. Alone it shows the member's own settings, and a facilitator the channel's too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from bot.changes import Set
from bot.core.actions import PostEphemeral
from bot.core.events import CommandInvoked
from bot.core.markup import mentions
from bot.i18n import LANGUAGES, names
from bot.rules import Command, Decision, RuleBase, RuleContext
from facilitation_rules import own_settings

CHANNEL_SETTINGS = {"answer_time": ("answer_time_hours", 0.25, 24 * 14)}
CHANNEL_WORDS = frozenset({*CHANNEL_SETTINGS, "language"})  # `/steward settings WORD …` for the channel


class FacilitatorCommands(RuleBase):
    name = "admin"

    def commands(self) -> Mapping[str, Command]:
        return {
            "facilitator": Command(
                "facilitator", self.facilitator, "help.facilitator", facilitators_only=True, usage="add|remove @member"
            ),
            "watch": Command("watch", self.watch, "help.watch", facilitators_only=True),
            "unwatch": Command("unwatch", self.unwatch, "help.unwatch", facilitators_only=True),
            "settings": Command(
                "settings", self.settings, "help.settings",
                usage="[quiet 20-7|off | timezone ZONE|auto | answer_time HOURS | language en|de]",
            ),
        }

    def facilitator(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        who = [m for arg in args[1:] for m in (mentions(arg) or (arg.lstrip("@"),))]
        if len(args) < 2 or args[0].lower() not in {"add", "remove"} or not who:
            return [ctx.reply(event, "facilitator.usage")]
        adding = args[0].lower() == "add"
        key = "facilitator.added" if adding else "facilitator.removed"
        return [
            *(Set.member(event.workspace, member_id, is_facilitator=adding) for member_id in who),
            ctx.reply(event, key, count=len(who),
                      members=names([f"<@{m}>" for m in who], ctx.language(event.workspace, event.user))),
        ]

    def watch(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        return self._set_watched(event, ctx, watched=True)

    def unwatch(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        return self._set_watched(event, ctx, watched=False)

    def _set_watched(self, event: CommandInvoked, ctx: RuleContext, *, watched: bool) -> Decision:
        return [
            Set.channel(event.workspace, event.channel, watched=watched),
            ctx.reply(event, "watch.on" if watched else "watch.off", channel=f"<#{event.channel}>"),
        ]

    def settings(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        """The member's own settings for everyone; the channel's for facilitators."""
        facilitator = ctx.is_facilitator(event.workspace, event.user, is_admin=event.is_admin)
        if not args and facilitator:
            shown = self._shown(event, ctx)
            return [replace(shown, text=f"{shown.text}\n\n{own_settings.settings_text(event, ctx)}")]
        if not args or args[0].lower() in own_settings.WORDS:
            return own_settings.settings_command(event, args, ctx)
        if facilitator:
            return self.channel_settings(event, args, ctx)
        if args[0].lower() in CHANNEL_WORDS:
            return [ctx.reply(event, "command.not_allowed", name="settings")]
        return [ctx.reply(event, "own_settings.usage")]

    def _shown(self, event: CommandInvoked, ctx: RuleContext) -> PostEphemeral:
        """The channel's settings, as `/steward settings` shows them to a facilitator."""
        channel = ctx.channel(event.workspace, event.channel)
        hours = channel.settings.get("answer_time_hours", ctx.settings.answer_time_hours)
        return ctx.reply(
            event,
            "settings.show",
            channel=f"<#{event.channel}>",
            watched=ctx.t(event.workspace, "settings.yes" if channel.watched else "settings.no", for_member=event.user),
            count=float(hours),
            channel_language=ctx.channel_language(event.workspace, event.channel),
        )

    def channel_settings(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        channel = ctx.channel(event.workspace, event.channel)
        if not args:
            return [self._shown(event, ctx)]
        name, value = args[0].lower(), " ".join(args[1:])
        if name == "language":  # what flags, digests and help in this channel speak, whatever its questions
            if value.lower() not in LANGUAGES:
                return [ctx.reply(event, "settings.usage")]
            return [
                Set.channel(event.workspace, event.channel, settings={**channel.settings, "language": value.lower()}),
                ctx.reply(event, "settings.saved", name=name, value=value.lower(), channel=f"<#{event.channel}>"),
            ]
        if name not in CHANNEL_SETTINGS or not re.fullmatch(r"\d+(\.\d+)?", value):
            return [ctx.reply(event, "settings.usage")]
        field, low, high = CHANNEL_SETTINGS[name]
        number = float(value)
        if not low <= number <= high:
            return [ctx.reply(event, "settings.range", name=name, low=f"{low:g}", high=f"{high:g}")]
        return [
            Set.channel(event.workspace, event.channel, settings={**channel.settings, field: number}),
            ctx.reply(event, "settings.saved", name=name, value=f"{number:g}", channel=f"<#{event.channel}>"),
        ]
