"""Skills map errands: record a member's consent, and answer `/steward skills TOPIC` from the database."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.actions import Card
from bot.i18n import names, translate
from bot.rules import Decision, RuleContext
from facilitation_rules.skills import FindSkills, SetSkillsVisibility
from storage.skills import SkillHolder, holders, set_visible

logger = logging.getLogger(__name__)

LISTED = 5


class SkillsErrands:
    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    async def visibility(self, errand: SetSkillsVisibility, ctx: RuleContext) -> Decision:
        event = errand.command
        await set_visible(self.db, event.workspace, event.user, errand.visible, at=ctx.now)
        logger.info("skills map: %s in %s is %s", event.user, event.workspace,
                    "listed" if errand.visible else "not listed")
        return [ctx.reply(event, "skills.visible_on" if errand.visible else "skills.visible_off")]

    async def find(self, errand: FindSkills, ctx: RuleContext) -> Decision:
        event = errand.command
        found = await holders(self.db, event.workspace, errand.topic, limit=LISTED)
        if not found:
            return [ctx.reply(event, "skills.none", topic=errand.topic)]
        lang = ctx.language(event.workspace, event.user)
        card = Card(
            title=translate("skills.title", lang, topic=errand.topic),
            sections=tuple(_line(holder, lang) for holder in found),
            footer=translate("skills.footer", lang),
        )
        return [ctx.reply(event, "skills.found", card=card, topic=errand.topic)]


def _line(holder: SkillHolder, lang: str) -> str:
    parts = [f"• <@{holder.member}>"]
    if holder.registered:
        parts.append(translate("skills.registered", lang, topics=names(list(holder.registered), lang)))
    if holder.answers:
        parts.append(translate("skills.answered", lang, count=holder.answers,
                               questions=" · ".join(f"“{q}”" for q in holder.answered)))
    return " ".join(parts)
