"""Facilitator commands: who facilitates, which channels Steward watches, and per-channel settings."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.changes import Set
from bot.core.events import CommandInvoked
from bot.core.markup import mentions
from bot.i18n import LANGUAGES, names
from bot.rules import Command, Decision, RuleBase, RuleContext

CHANNEL_SETTINGS = {"answer_time": ("answer_time_hours", 0.25, 24 * 14)}


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
                "settings", self.channel_settings, "help.settings", facilitators_only=True,
                usage="[answer_time HOURS | language en|de]",
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

    def channel_settings(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        channel = ctx.channel(event.workspace, event.channel)
        if not args:
            hours = channel.settings.get("answer_time_hours", ctx.settings.answer_time_hours)
            return [
                ctx.reply(
                    event,
                    "settings.show",
                    channel=f"<#{event.channel}>",
                    watched=ctx.t(event.workspace, "settings.yes" if channel.watched else "settings.no",
                                  for_member=event.user),
                    count=float(hours),
                    channel_language=ctx.channel_language(event.workspace, event.channel),
                )
            ]
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
