"""`steward discord ...`: invite the bot and publish its slash commands."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bot.settings import Settings

discord_app = typer.Typer(help="Discord: invite link and slash commands.", no_args_is_help=True)


def invite_url(application_id: str) -> str:
    """The OAuth2 link that adds the bot with the scopes and exactly the permissions Steward uses."""
    import discord

    from adapters.discord.adapter import steward_permissions

    return discord.utils.oauth_url(
        application_id, permissions=steward_permissions(), scopes=("bot", "applications.commands")
    )


@discord_app.command("invite-url")
def invite_url_command() -> None:
    """Print the link a server admin opens to add Steward to a Discord server."""
    from bot.cli_support import fail, load_settings

    settings = load_settings()
    application_id = (settings.discord_application_id or "").strip()
    if not application_id.isdigit():
        fail("set DISCORD_APPLICATION_ID (Developer Portal > General Information > Application ID)")
    typer.echo(invite_url(application_id))


@discord_app.command("sync-commands")
def sync_commands_command() -> None:
    """Publish `/steward` globally (each start syncs it per server; global changes take a while)."""
    from bot.cli_support import fail, load_settings, setup_logging

    settings = load_settings()
    setup_logging(settings.log_level)
    if settings.discord_token is None:
        fail("set DISCORD_TOKEN first")
    try:
        count = asyncio.run(_sync_globally(settings))
    except RuntimeError as exc:
        fail(str(exc))
    typer.echo(f"published {count} command(s) globally")


async def _sync_globally(settings: Settings) -> int:
    """Log in over HTTP only (no gateway), register the commands and sync them."""
    import discord

    from adapters.discord.adapter import DiscordAdapter, StewardClient, apply_base_urls
    from bot.app.wiring import build_engine
    from bot.core.clock import SystemClock

    assert settings.discord_token is not None
    apply_base_urls(settings)
    engine = await build_engine(settings, SystemClock())
    client = StewardClient(DiscordAdapter(settings, engine))
    try:
        await client.login(settings.discord_token.get_secret_value())
        return len(await client.tree.sync())
    except discord.LoginFailure as exc:
        raise RuntimeError("Discord refused DISCORD_TOKEN") from exc
    finally:
        await client.close()
        await engine.close()
