"""Forget me: a member can ask Steward to forget them.

Their message texts, reactions and nudges are deleted, they leave the expert registry and the learned
expertise, lessons stop crediting them, their own settings (quiet hours, time zone) go, and Steward never nudges
them again. Counts in metrics stay (a message was posted), but nothing says what they wrote or who they are
beyond the platform's member id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bot.changes import ExpertTopics, MemberForgotten, Set
from bot.core.events import CommandInvoked
from bot.rules import Command, Decision, RuleBase, RuleContext
from facilitation_rules.own_settings import ERASED

FOREVER = timedelta(days=365 * 100)


class ForgetMe(RuleBase):
    name = "privacy"

    def commands(self) -> Mapping[str, Command]:
        return {"forget": Command("forget", self.forget, "help.forget", usage="me")}

    def forget(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if [a.lower() for a in args] != ["me"]:
            return [ctx.reply(event, "forget.usage")]
        ws, user = event.workspace, event.user
        topics = [ExpertTopics(ws, user, frozenset(), op="replace")] if ctx.state.expert_topics.get((ws, user)) else []
        return [
            Set.member(ws, user, name="", muted_until=ctx.now + FOREVER, **ERASED),
            *topics,
            MemberForgotten(ws, user),
            ctx.reply(event, "forget.done"),
        ]
