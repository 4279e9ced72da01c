"""Sponsor report errands: claim a month, write its report, post a summary with the HTML attached; keep notes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.sponsor.figures import SponsorReport, collect
from bot.app.sponsor.render import preview_card, render_html, summary
from bot.core.actions import PostFile
from bot.i18n import month_year
from bot.rules import Decision, RuleContext
from facilitation_rules.sponsor_report import (
    AddReportNote,
    PreviewSponsorReport,
    PublishSponsorReport,
    first_of,
    zone_of,
)
from storage.db import process_owner
from storage.sponsor_report import add_note, claim_month, mark_posted, report_key

logger = logging.getLogger(__name__)


class SponsorErrands:
    """`flush` writes the engine's pending batch first, so the figures include every event processed so far."""

    def __init__(
        self, db: AsyncEngine, *, flush: Callable[[], Awaitable[None]] | None = None, owner: str | None = None
    ) -> None:
        self.db = db
        self.flush = flush
        self.owner = owner or process_owner()

    async def publish(self, errand: PublishSponsorReport, ctx: RuleContext) -> Decision:
        """A month with no history before its end (Steward had just arrived) is claimed and left unposted."""
        ws = errand.workspace
        await mark_posted(self.db)
        if not await claim_month(self.db, ws, errand.month, owner=self.owner, at=ctx.now):
            logger.debug("sponsor report %s %s is someone else's", ws, errand.month)
            return ()
        if self.flush is not None:
            await self.flush()
        workspace = ctx.workspace(ws)
        report = await self.report_for(ctx, ws, errand.month)
        first = report.figures.first_message_at
        if first is None or first >= report.period.end:
            logger.info("sponsor report %s %s: no history in or before that month; not posted", ws, errand.month)
            return ()
        lang = workspace.language or ctx.settings.steward_language
        logger.info("sponsor report %s %s decided", ws, errand.month)
        return [PostFile(
            key=report_key(errand.month), workspace=ws, channel=errand.channel, text=summary(report, lang),
            filename=f"sponsor-report-{errand.month}.html", content=render_html(report, lang),
            title=ctx.t(ws, "sponsor.title", community=report.community, month=month_year(report.month, lang)),
        )]

    async def report_for(self, ctx: RuleContext, workspace: str, month: str) -> SponsorReport:
        ws = ctx.workspace(workspace)
        return await collect(
            self.db, ws.id, first_of(month), timezone=zone_of(ws), floor=ctx.settings.web_min_group,
            name=ws.name,
        )

    async def note(self, errand: AddReportNote, ctx: RuleContext) -> Decision:
        event = errand.command
        await add_note(self.db, event.workspace, errand.month, event.user, errand.text, at=ctx.now)
        lang = ctx.language(event.workspace, event.user)
        return [ctx.reply(event, "report.note_saved", month=month_year(first_of(errand.month), lang))]

    async def preview(self, errand: PreviewSponsorReport, ctx: RuleContext) -> Decision:
        """The month so far, privately to the facilitator who asked: the report's sections and anonymity floor."""
        event = errand.command
        if self.flush is not None:
            await self.flush()
        report = await self.report_for(ctx, event.workspace, errand.month)
        lang = ctx.language(event.workspace, event.user)
        logger.info("sponsor report %s %s previewed by %s", event.workspace, errand.month, event.user)
        return [ctx.reply(event, "report.preview", month=month_year(report.month, lang),
                          card=preview_card(report, lang, ctx.now))]
