"""Recognition errands: keep credits in the store, and read a member's contributions back."""

from __future__ import annotations

import logging

from bot.core.events import HelpCredited
from bot.core.recognition import CreditBook
from bot.rules import Decision, RuleContext
from facilitation_rules.recognition import RecordCredits, ShowContributions, contributions_card

logger = logging.getLogger(__name__)


class RecognitionErrands:
    def __init__(self, book: CreditBook) -> None:
        self.book = book

    async def record(self, errand: RecordCredits, ctx: RuleContext) -> Decision:
        """Keep the credits, one by one, so the fact handed on names exactly those that are new."""
        added = tuple([credit for credit in errand.credits if await self.book.record(errand.workspace, (credit,))])
        if not added:
            return errand.then
        logger.debug("%d credit(s) kept in %s", len(added), errand.workspace)
        return [*errand.then, HelpCredited(workspace=errand.workspace, at=ctx.now, credits=added)]

    async def show(self, errand: ShowContributions, ctx: RuleContext) -> Decision:
        event = errand.command
        found = await self.book.contributions(event.workspace, event.user)
        return [ctx.reply(event, "recognition.me_intro", card=contributions_card(found, ctx, event.workspace,
                                                                                  event.user))]
