"""`/steward portal`: a member asks for a way into the web portal; the shell makes the one-time link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.events import CommandInvoked
from bot.rules import Command, CommandErrand, Decision, RuleBase, RuleContext


@dataclass(frozen=True, slots=True, kw_only=True)
class SendPortalLink(CommandErrand):
    """Make a one-time sign-in link for the member who asked and send it to them directly."""


class PortalAccess(RuleBase):
    name = "portal"
    reacts_to = ()

    def commands(self) -> Mapping[str, Command]:
        return {"portal": Command("portal", self.portal, "help.portal")}

    def portal(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        return [SendPortalLink(workspace=event.workspace, command=event)]
