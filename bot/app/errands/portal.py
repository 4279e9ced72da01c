"""The portal errand: a one-time sign-in link, stored as a hash, sent to the member by direct message."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.actions import SendDirectMessage
from bot.i18n import duration
from bot.rules import Decision, RuleContext
from facilitation_rules.portal import SendPortalLink
from storage.portal import SIGN_IN_TTL, issue_sign_in

logger = logging.getLogger(__name__)

LOCAL_PLATFORMS = ("console", "replay")  # a link to this machine is useful only where the member sits at it


def portal_address(web_base_url: str, web_host: str, web_port: int | None) -> str:
    """Where members reach the portal: WEB_BASE_URL, else the address `steward web` listens on."""
    if web_base_url.strip():
        return web_base_url.strip().rstrip("/")
    host = web_host if web_host not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{web_port or 8080}"


class PortalErrands:
    def __init__(self, db: AsyncEngine, ttl: timedelta = SIGN_IN_TTL) -> None:
        self.db = db
        self.ttl = ttl

    async def send_link(self, errand: SendPortalLink, ctx: RuleContext) -> Decision:
        event, settings = errand.command, ctx.settings
        platform = event.workspace.partition(":")[0]
        if not (settings.web_base_url.strip() or settings.web_port) and platform not in LOCAL_PLATFORMS:
            return [ctx.reply(event, "portal.not_set_up")]
        token = await issue_sign_in(self.db, event.workspace, event.user, now=ctx.now, ttl=self.ttl)
        link = f"{portal_address(settings.web_base_url, settings.web_host, settings.web_port)}/signin/{token}"
        lang = ctx.language(event.workspace, event.user)
        logger.info("portal link made for %s in %s", event.user, event.workspace)
        return [
            SendDirectMessage(
                key=f"portal-link:{event.user}:{event.at.isoformat()}", workspace=event.workspace, user=event.user,
                text=ctx.t(event.workspace, "portal.link_dm", for_member=event.user, link=link,
                           valid=duration(self.ttl.total_seconds(), lang)),
            ),
            ctx.reply(event, "portal.link_sent"),
        ]
