"""`/steward` subcommands: parse, check permission, dispatch to the rule that offers the command.

Every reply is private to the member who asked. A wrong command gets the help text, never silence.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Sequence

from bot.core.actions import Action, Card
from bot.core.events import CommandInvoked
from bot.core.markup import excerpt
from bot.i18n import translate
from bot.rules import Command, Decision, Rule, RuleContext

logger = logging.getLogger(__name__)

ECHOED_NAME_CHARS = 40  # an unknown command is quoted back on one short line, whatever was typed


def split_args(text: str) -> list[str]:
    """Split like a shell, but forgive an unbalanced quote instead of failing."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


class CommandRouter:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self.commands: dict[str, Command] = {}
        self.aliases: dict[str, str] = {}  # another word -> the command it runs
        for rule in rules:
            offered = getattr(rule, "commands", None)
            for name, command in (offered() if callable(offered) else {}).items():
                if name in self.commands:
                    raise ValueError(f"two rules offer the command '{name}'")
                self.commands[name] = command
                self.aliases.update((alias, name) for alias in command.aliases)
        if clash := set(self.aliases) & set(self.commands):
            raise ValueError(f"an alias is also a command: {sorted(clash)}")

    def dispatch(self, event: CommandInvoked, ctx: RuleContext) -> Decision:
        words = split_args(event.args)
        if not words or not words[0].strip() or words[0].lower() in {"help", "hilfe", "?"}:
            return [self.help(event, ctx)]
        name, args = words[0].lower(), words[1:]
        name = self.aliases.get(name, name)
        command = self.commands.get(name)
        if command is None:
            shown = excerpt(name, ECHOED_NAME_CHARS).replace("`", "'")
            return [ctx.reply(event, "command.unknown", name=shown), self.help(event, ctx)]
        if command.facilitators_only and not ctx.is_facilitator(event.workspace, event.user, is_admin=event.is_admin):
            return [ctx.reply(event, "command.not_allowed", name=name)]
        try:
            return list(command.handler(event, args, ctx))
        except Exception:
            logger.exception("command %s failed", name)
            return [ctx.reply(event, "command.failed", name=name)]

    def help(self, event: CommandInvoked, ctx: RuleContext) -> Action:
        language = ctx.language(event.workspace, event.user)
        lines = []
        for name in sorted(self.commands):
            command = self.commands[name]
            usage = f"/steward {name} {command.usage}".rstrip()
            marker = translate("command.facilitators_marker", language) if command.facilitators_only else ""
            lines.append(f"`{usage}` {translate(command.help_key, language)}{marker}")
        card = Card(title=translate("command.help_title", language), sections=tuple(lines))
        return ctx.reply(event, "command.help_intro", card=card)
