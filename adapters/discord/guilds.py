"""Servers coming and going: one setup message when Steward is added to a server, and what a removal leaves behind.

The setup message goes out once per server, ever: whether it went is a durable fact in the workspace's settings
(`SETUP_SENT`), written before the message is sent, so neither a restart nor the gateway replaying the server
sends it twice. A removal (GUILD_DELETE without `unavailable`; an outage only marks the server unavailable and is
no business of Steward's) fails the server's unsent messages and keeps or purges its data as DISCORD_REMOVAL says.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from adapters.discord import translate
from adapters.discord.sender import log_http_error
from bot.i18n import supported
from bot.i18n import translate as catalog_text
from storage.workspaces import fail_waiting

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

logger = logging.getLogger(__name__)

SETUP_SENT = "discord_setup_sent_at"  # workspace setting: when the setup message was sent (ISO 8601)
REMOVED = "Steward was removed from this Discord server"


def setup_language(guild: discord.Guild) -> str:
    """The server's preferred locale as a catalog language ("de-DE"-style locales are German; anything else,
    English)."""
    locale = getattr(guild.preferred_locale, "value", guild.preferred_locale)
    return supported(str(locale or "en").split("-")[0].lower())


def postable_system_channel(guild: discord.Guild) -> discord.TextChannel | None:
    """The server's system channel, if Steward may post there (seeing and writing in it)."""
    channel = guild.system_channel
    me = guild.me
    if channel is None or me is None:
        return None
    allowed = channel.permissions_for(me)
    return channel if allowed.view_channel and allowed.send_messages else None


async def greet(adapter: DiscordAdapter, guild: discord.Guild) -> None:
    """Steward was just added to `guild`: tell the server what Steward does and how to start, once."""
    engine = adapter.engine
    workspace = engine.state.workspace(translate.workspace_id(guild.id))
    if workspace.settings.get(SETUP_SENT):
        logger.debug("Discord server %s added Steward again: its setup message went before", guild.id)
        return
    workspace.settings = {**workspace.settings, SETUP_SENT: adapter.now().isoformat()}
    engine.state.touch_workspace(workspace)
    await engine.flush()  # the fact first: a crash from here on loses one message rather than sending two
    language = setup_language(guild)
    text = catalog_text("discord.setup", language, server=guild.name,
                        role=adapter.settings.discord_facilitator_role)
    channel = postable_system_channel(guild)
    try:
        if channel is not None:
            await channel.send(text)
            where = f"its system channel {channel.id}"
        else:
            assert adapter.client is not None
            dm = await adapter.client.create_dm(discord.Object(id=guild.owner_id or 0))
            await dm.send(f"{catalog_text('discord.setup_owner', language, server=guild.name)}\n\n{text}")
            where = "a direct message to its owner"
    except discord.HTTPException as exc:
        log_http_error(exc, f"sending the setup message to Discord server {guild.id}")
        return
    logger.info("Discord server %s (%s) added Steward: setup message sent to %s (%s)", guild.id, guild.name,
                where, language)


async def removed(adapter: DiscordAdapter, guild: discord.Guild) -> None:
    """The server removed Steward (kicked or banned, or the server deleted): its unsent messages fail, its data is
    kept or purged as DISCORD_REMOVAL says, and one line tells the operator."""
    engine = adapter.engine
    workspace = translate.workspace_id(guild.id)
    purge = adapter.settings.discord_removal == "purge"
    await engine.flush()  # what is pending for the server is written first, so its waiting rows fail with it
    failed = await fail_waiting(engine.db, workspace, REMOVED)
    removed_rows = await engine.forget_workspace(workspace) if purge else 0
    kept = f"its community data purged ({removed_rows} rows)" if purge else "its community data kept"
    logger.warning("Discord server %s (%s) removed Steward: %d unsent messages failed, %s (DISCORD_REMOVAL=%s)",
                   guild.id, guild.name, failed, kept, adapter.settings.discord_removal)
