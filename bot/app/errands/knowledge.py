"""Errands that look up related lessons in the knowledge store for a rule's message."""

from __future__ import annotations

from bot.rules import Decision, KnowledgeBase, RuleContext
from facilitation_rules.stuck import HelpStuckMember

RELATED_FOR_STUCK = 3


class KnowledgeErrands:
    def __init__(self, knowledge: KnowledgeBase) -> None:
        self.knowledge = knowledge

    async def help_stuck(self, errand: HelpStuckMember, ctx: RuleContext) -> Decision:
        lessons = await self.knowledge.related(errand.workspace, errand.topic, limit=RELATED_FOR_STUCK)
        return [errand.message(lessons)]
