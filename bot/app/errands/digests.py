"""Digest errands: claim a period, read its figures, let the narrator open it, and render it."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.core.actions import Card, PostMessage
from bot.core.digest_figures import WEEK, DigestSource, Figures, Narrator, Period, digest_key
from bot.i18n import time_of_day, weekday
from bot.rules import Decision, RuleContext
from bot.state import ChannelState
from facilitation_rules.digest import PublishDigest, ShowDigest, ShowStats
from facilitation_rules.digest_render import figures_summary, render_digest, render_stats

logger = logging.getLogger(__name__)


class DigestErrands:
    def __init__(self, source: DigestSource, narrator: Narrator | None = None) -> None:
        self.source = source
        self.narrator = narrator  # None: the template opening

    async def publish(self, errand: PublishDigest, ctx: RuleContext) -> Decision:
        """A channel that began in the second half of the period gets its first digest a week later: a few days
        of history make a misleading week (and "compared with last week" would compare with nothing)."""
        ws, period, key = errand.workspace, errand.period, errand.period_key
        if not await self.source.claim(ws, errand.channel, key, ctx.now):
            logger.debug("digest %s %s %s is someone else's", ws, errand.channel, key)
            return ()
        figures = await self.source.figures(ws, errand.channel, period)
        if (
            figures.first_message_at is None
            or figures.first_message_at > period.start + (period.end - period.start) / 2
        ):
            await self.source.skip(ws, errand.channel, key)
            return ()
        card = await self._card(ctx, ctx.channel(ws, errand.channel), figures, period)
        logger.debug("digest %s %s %s decided", ws, errand.channel, key)
        return [
            PostMessage(key=digest_key(errand.channel, key), workspace=ws, channel=errand.channel, text="", card=card)
        ]

    async def show(self, errand: ShowDigest, ctx: RuleContext) -> Decision:
        event, channel = errand.command, ctx.channel(errand.workspace, errand.channel)
        figures = await self.source.figures(channel.workspace_id, channel.id, Period(ctx.now - WEEK, ctx.now))
        card = await self._card(ctx, channel, figures, figures.period)
        if not errand.post:
            return [ctx.reply(event, "digest.preview_intro", card=card)]
        post = PostMessage(
            key=f"digest-now:{channel.id}:{event.at.isoformat()}",
            workspace=event.workspace,
            channel=channel.id,
            text="",
            card=card,
        )
        if errand.stands_in is None or not await self._stand_in(channel, errand.stands_in[1], ctx):
            return [post, ctx.reply(event, "digest.posted")]
        local = errand.stands_in[0].astimezone(ZoneInfo(ctx.workspace(event.workspace).timezone or "UTC"))
        lang = ctx.language(event.workspace, event.user)
        day, time = weekday(local.weekday(), lang), time_of_day(local.time(), lang)
        return [post, ctx.reply(event, "digest.posted_instead", day=day, time=time)]

    async def stats(self, errand: ShowStats, ctx: RuleContext) -> Decision:
        event = errand.command
        figures = await self.source.figures(
            event.workspace, None, Period(ctx.now - timedelta(days=errand.days), ctx.now)
        )
        lang = ctx.language(event.workspace, event.user)
        return [ctx.reply(event, "digest.stats_intro", card=render_stats(figures, lang, errand.days))]

    async def _stand_in(self, channel: ChannelState, period_key: str, ctx: RuleContext) -> bool:
        """Claim the scheduled period and mark it skipped, so no scheduler or replica posts it."""
        if not await self.source.claim(channel.workspace_id, channel.id, period_key, ctx.now):
            return False
        await self.source.skip(channel.workspace_id, channel.id, period_key)
        logger.debug("digest %s %s %s replaced by one posted on request", channel.workspace_id, channel.id, period_key)
        return True

    async def _card(self, ctx: RuleContext, channel: ChannelState, figures: Figures, period: Period) -> Card:
        previous = await self.source.figures(channel.workspace_id, channel.id, period.previous(), detail=False)
        return render_digest(
            ctx, channel, figures, previous, opening=await self._opening(ctx, channel, figures, previous)
        )

    async def _opening(self, ctx: RuleContext, channel: ChannelState, now: Figures, before: Figures) -> str | None:
        """The narrator's opening for a busy week; None (the template) without one, for a quiet week or an import.

        A failing narrator must not cost a digest whose period is already claimed, so any error means None.
        """
        if self.narrator is None or now.quiet or ctx.backfill:
            return None
        try:
            language = ctx.channel_language(channel.workspace_id, channel.id)
            return await self.narrator.opening(figures_summary(now, before), language)
        except Exception as exc:  # the optional opening never stops the digest; the reason goes to the log
            logger.warning("digest opening failed (%s: %s); using the template", type(exc).__name__, exc)
            return None
