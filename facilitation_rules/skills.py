"""The skills and resources map in chat: `/steward skills TOPIC`, and a member's consent to be listed in it.

Who can help with a topic is read from the database by the shell (`storage.skills`): registered topics and the
answers members gave in public channels, for members who said `/steward expert visible on` (nobody is listed
before that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.events import CommandInvoked
from bot.rules import Command, CommandErrand, Decision, RuleBase, RuleContext

TOPIC_CHARS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class FindSkills(CommandErrand):
    """Who can help with `topic`: consenting members, from the registry and their public answers."""

    topic: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetSkillsVisibility(CommandErrand):
    """A member says whether they may be listed in the skills map."""

    visible: bool


def visibility(event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
    """`/steward expert visible on|off` (the expert command hands its `visible` word here)."""
    choice = args[0].lower() if len(args) == 1 else ""
    if choice not in {"on", "off", "an", "aus"}:
        return [ctx.reply(event, "skills.visible_usage")]
    return [SetSkillsVisibility(workspace=event.workspace, command=event, visible=choice in {"on", "an"})]


class SkillsMap(RuleBase):
    name = "skills"
    reacts_to = ()

    def commands(self) -> Mapping[str, Command]:
        return {"skills": Command("skills", self.skills, "skills.help", usage="TOPIC")}

    def skills(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        topic = " ".join(" ".join(args).split())[:TOPIC_CHARS]
        if not topic:
            return [ctx.reply(event, "skills.usage")]
        return [FindSkills(workspace=event.workspace, command=event, topic=topic)]
