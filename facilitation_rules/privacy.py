"""Forget me: a member can ask Steward to forget them.

Their message texts, reactions and nudges are deleted, they leave the expert registry and the learned
expertise, lessons stop crediting them, and Steward never nudges them again. Counts in metrics stay (a message
was posted), but nothing says what they wrote or who they are beyond the platform's member id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from bot.core.actions import Action
from bot.core.events import CommandInvoked
from bot.rules import Command, RuleBase, RuleContext

FOREVER = timedelta(days=365 * 100)


class ForgetMe(RuleBase):
    name = "privacy"

    def commands(self) -> Mapping[str, Command]:
        return {"forget": Command("forget", self.forget, "help.forget", usage="me")}

    def forget(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Sequence[Action]:
        if [a.lower() for a in args] != ["me"]:
            return [ctx.reply(event, "forget.usage")]
        ws, user = event.workspace, event.user
        member = ctx.member(ws, user)
        member.name = ""
        member.muted_until = ctx.now + FOREVER
        ctx.state.touch_member(member)
        if ctx.state.expert_topics.pop((ws, user), None):
            ctx.state.topic_changes.append(("remove", ws, user, set()))
        ctx.state.expertise_index(ws).forget(user)
        ctx.state.tracker(ws).register_name(user, user)
        ctx.state.forget_requests.append((ws, user))
        return [ctx.reply(event, "forget.done")]
