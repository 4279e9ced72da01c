"""The Discord adapter: discord.py's client in Steward's event loop, events in, actions out.

Inbound, every gateway event is translated (adapters.discord.translate) and handed to the engine one at a
time; a message id seen before (a RESUME replays events) is dropped. Interactions (the `/steward` group, the
"Save as lesson" context menu, flag buttons) are deferred at once, so Discord's 3 seconds never run out, and
answered privately with a follow-up. Outbound, `DiscordSender` renders actions (adapters.discord.render) and
sends them; discord.py sleeps through rate limits, so a 429 delays a message but never loses it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

import discord
import yarl
from discord import app_commands

from adapters.discord import guilds, render, translate
from adapters.discord.sender import DiscordSender, log_http_error, message_kwargs
from bot.app.delivery import Sender
from bot.app.engine import Engine
from bot.core.actions import (
    Action,
)
from bot.core.events import Event
from bot.core.markup import clip
from bot.core.ports import AdapterStartError
from bot.i18n import translate as catalog_text
from bot.settings import Settings

logger = logging.getLogger(__name__)

START_TIMEOUT = 60.0
RATE_LIMIT_WAIT = 10.0  # the longest Retry-After discord.py sleeps through; longer ones go to the outbox
SEEN_LIMIT = 10_000
LESSON_COMMAND = "lesson"
GROUP_LIMIT = 25  # subcommands Discord takes in one group; further commands stand alone as /steward-NAME
MESSAGE_MENU_LIMIT = 5  # message context-menu commands Discord takes per application


def steward_intents() -> discord.Intents:
    """Exactly what Steward reads: servers, their messages with content, reactions and member joins."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True
    intents.guild_reactions = True
    intents.members = True
    return intents


def steward_permissions() -> discord.Permissions:
    """Exactly what Steward does: read and write (also in threads), embed, react, pin, tag forum posts."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        read_message_history=True,
        add_reactions=True,
        pin_messages=True,
        manage_threads=True,  # applying the "solved" tag to other members' forum posts
    )


def apply_base_urls(settings: Settings) -> None:
    """Point discord.py at the configured REST API and gateway (proxies in production, fakes in tests)."""
    if settings.discord_api_url:
        discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def fixed_shards(settings: Settings) -> int | None:
    """DISCORD_SHARDS as a number of shards, or None for `auto` (Discord's recommendation, asked at start)."""
    return None if settings.discord_shards == "auto" else int(settings.discord_shards)


class StewardClient(discord.AutoShardedClient):
    """discord.py's sharded client with Steward's handlers; each event is passed to the adapter.

    Events reach the same handlers whichever shard carries them (Discord puts a server on shard
    `(guild_id >> 22) % shards`); with one shard it behaves as discord.py's plain client does."""

    def __init__(self, adapter: DiscordAdapter) -> None:
        super().__init__(
            shard_count=fixed_shards(adapter.settings),
            intents=steward_intents(),
            chunk_guilds_at_startup=False,
            max_ratelimit_timeout=RATE_LIMIT_WAIT,
            guild_ready_timeout=adapter.guild_ready_timeout,
            allowed_mentions=render.ALLOWED_MENTIONS,
        )
        self.adapter = adapter
        self.tree: app_commands.CommandTree[StewardClient] = app_commands.CommandTree(self)
        self.steward_click = adapter.on_click

    async def setup_hook(self) -> None:
        self.add_dynamic_items(render.StewardButton)
        self.adapter.add_commands(self.tree)

    async def on_ready(self) -> None:
        await self.adapter.on_ready()

    async def on_shard_connect(self, shard_id: int) -> None:
        self.adapter.shards_ready.discard(shard_id)  # a new session: ready again once its servers arrived

    async def on_shard_ready(self, shard_id: int) -> None:
        self.adapter.shards_ready.add(shard_id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.adapter.on_guild_join(guild)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.adapter.on_guild_remove(guild)

    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        self.adapter.remember_channel(channel)

    async def on_guild_channel_update(
        self, _: discord.abc.GuildChannel, channel: discord.abc.GuildChannel
    ) -> None:
        self.adapter.remember_channel(channel)

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        event = translate.message_edited(
            payload.guild_id,
            payload.message_id,
            payload.message.channel,
            dict(payload.data),
            self.adapter.now(),
        )
        await self.adapter.handle(event)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        event = translate.message_deleted(
            payload.guild_id, payload.message_id, payload.channel_id, self.adapter.now()
        )
        await self.adapter.handle(event)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.on_reaction(payload)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.on_reaction(payload)

    async def on_member_join(self, member: discord.Member) -> None:
        await self.adapter.handle(translate.member_joined(member, self.adapter.now()))

    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None:
        await self.adapter.on_thread_update(before, after)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        logger.exception("Discord handler %s failed", event_method)


class DiscordAdapter:
    """Connects one bot to Discord for all the servers it is in; workspaces are "discord:<guild id>"."""

    platform = "discord"

    def __init__(self, settings: Settings, engine: Engine, *, guild_ready_timeout: float = 2.0) -> None:
        self.settings = settings
        self.engine = engine
        self.guild_ready_timeout = guild_ready_timeout  # how long discord.py waits for servers before READY
        self.client: StewardClient | None = None
        self.sender: Sender = DiscordSender(self)
        self._ready = asyncio.Event()
        self.shards_ready: set[int] = set()  # the shards whose servers all arrived since their last IDENTIFY
        self._connection: asyncio.Task[None] | None = None
        self.ended: str | None = None  # why the gateway connection ended for good (a refused token, say)
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._stopping = False  # stop() was called: the connection ending is no news
        self._lock = asyncio.Lock()

    # --- life cycle ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Log in and connect; a wrong token or missing privileged intents end in AdapterStartError."""
        if self.settings.discord_token is None:
            raise AdapterStartError("DISCORD_TOKEN is not set")
        apply_base_urls(self.settings)
        self.client = StewardClient(self)
        try:
            await self.client.login(self.settings.discord_token.get_secret_value())
        except discord.LoginFailure as exc:
            await self.client.close()
            raise AdapterStartError(
                "Discord refused DISCORD_TOKEN: copy the bot token again from the Developer Portal "
                "(Bot > Reset Token)"
            ) from exc
        await self._choose_shards(self.client)
        self._connection = asyncio.create_task(self.client.connect(), name="discord-gateway")
        self._connection.add_done_callback(self._connection_ended)
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {self._connection, ready}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        ready.cancel()
        if self._connection in done:
            await self._connection_failed(self._connection.exception())
        elif not done:
            await self.stop()
            raise AdapterStartError(
                f"Discord did not get ready within {START_TIMEOUT:.0f} s; check the network"
            )
        logger.info("connected to Discord as %s in %d server(s) on %d shard(s)", self.client.user,
                    len(self.client.guilds), self.client.shard_count or 1)

    async def _choose_shards(self, client: StewardClient) -> None:
        """With DISCORD_SHARDS=auto, as many shards as Discord recommends for the bot's servers (GET /gateway/bot);
        the shards then connect to DISCORD_GATEWAY_URL when it is set, as the unsharded client did."""
        if client.shard_count is not None:
            return
        try:
            client.shard_count, _, _ = await client.http.get_bot_gateway()
        except discord.GatewayNotFound as exc:
            await self.stop()
            raise AdapterStartError(
                "Discord did not say how many gateway shards to use (GET /gateway/bot failed); check the network "
                "or set DISCORD_SHARDS to a number"
            ) from exc

    async def _connection_failed(self, exc: BaseException | None) -> None:
        """Turn why the gateway closed into the setting or portal switch to fix."""
        await self.stop()
        if isinstance(exc, discord.PrivilegedIntentsRequired):
            raise AdapterStartError(
                "Discord refused the privileged intents: enable 'Server Members Intent' and 'Message Content "
                "Intent' for the bot in the Developer Portal (Bot > Privileged Gateway Intents)"
            ) from exc
        raise AdapterStartError(f"the Discord gateway closed at start: {exc}") from exc

    def _connection_ended(self, task: asyncio.Task[None]) -> None:
        """The gateway loop ended (discord.py reconnects by itself, so this is for good): say why, in one line.

        The delivery worker then fails Discord's rows instead of waiting for a connection that will not come.
        """
        if task.cancelled() or self._stopping or not self._ready.is_set():
            return  # stopped on purpose, or failed while starting (start() says why)
        exc = task.exception()
        if exc is None:
            return
        code = getattr(exc, "code", None)
        self.ended = f"{type(exc).__name__}{f' {code}' if code is not None else ''}"
        if code == 4004:
            logger.error(
                "Discord closed the gateway: the bot token was refused (4004); set DISCORD_TOKEN to a valid token "
                "and restart Steward"
            )
        else:
            logger.error("the Discord gateway connection ended for good (%s); restart Steward", self.ended)

    async def ready(self) -> bool:
        """Whether the gateway connection is up (readiness): every shard received READY and its servers, the
        connection has not ended for good, and every shard's websocket is open (it is closed while discord.py
        reconnects)."""
        client = self.client
        if client is None or self.ended is not None or not self._ready.is_set() or client.is_closed():
            return False
        shards = client.shards
        if client.shard_count is None or len(shards) < client.shard_count or len(self.shards_ready) < len(shards):
            return False
        return not any(shard.is_closed() for shard in shards.values())

    async def stop(self) -> None:
        self._stopping = True
        if self.client is not None and not self.client.is_closed():
            await self.client.close()
        if self._connection is not None and not self._connection.done():
            self._connection.cancel()
            await asyncio.gather(self._connection, return_exceptions=True)

    async def on_ready(self) -> None:
        assert self.client is not None
        try:
            for guild in self.client.guilds:
                await self.sync_guild(guild)
        finally:
            self._ready.set()

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Steward was added to a server (not one replayed at start): learn it, then send its setup message."""
        await self.sync_guild(guild)
        async with self._lock:
            await guilds.greet(self, guild)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """The server removed Steward (an outage only makes it unavailable and never arrives here)."""
        async with self._lock:
            await guilds.removed(self, guild)

    async def sync_guild(self, guild: discord.Guild) -> None:
        """Learn the server's channels (names, forums) and offer the `/steward` commands there."""
        assert self.client is not None
        workspace = self.engine.state.workspace(translate.workspace_id(guild.id))
        if workspace.name != guild.name:
            workspace.name = guild.name
            self.engine.state.touch_workspace(workspace)
        for channel in guild.channels:
            self.remember_channel(channel)
        self.client.tree.copy_global_to(guild=guild)
        try:
            await self.client.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log_http_error(exc, f"syncing commands for server {guild.id}")

    def remember_channel(self, channel: Any) -> None:
        """Keep the channel's name and kind in the state: rules tell forums and facilitators apart."""
        guild = getattr(channel, "guild", None)
        if guild is None:
            return
        state = self.engine.state
        stored = state.channel(translate.workspace_id(guild.id), str(channel.id))
        kind = translate.channel_kind(channel)
        if channel.name == self.settings.facilitators_channel.lstrip("#"):
            kind = "facilitators"
        private = not channel.permissions_for(guild.default_role).view_channel
        if (stored.name, stored.kind, stored.private) != (channel.name, kind, private):
            stored.name, stored.kind, stored.private = channel.name, kind, private
            state.touch_channel(stored)

    def now(self) -> Any:
        return self.engine.clock.now()

    # --- inbound -------------------------------------------------------------------------------------------
    async def handle(self, event: Event | None) -> list[Action]:
        """One event at a time into the engine; returns its private replies."""
        if event is None:
            return []
        async with self._lock:
            return await self.engine.handle(event)

    async def on_message(self, message: discord.Message) -> None:
        if self.first_time(message.id):
            await self.handle(translate.message_posted(message))

    def first_time(self, message_id: int) -> bool:
        """False for a message already handled (the gateway replays events after a RESUME)."""
        if message_id in self._seen:
            return False
        self._seen[message_id] = None
        if len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)
        return True

    async def on_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        if (
            self.client is not None
            and self.client.user is not None
            and payload.user_id == self.client.user.id
        ):
            return
        await self.handle(translate.reaction(payload, self.now()))

    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None:
        forum = after.parent
        if not isinstance(forum, discord.ForumChannel):
            return
        solved = translate.solved_tag_ids(forum.available_tags, self.settings.discord_solved_tag)
        event = translate.forum_tag_changed(
            [t.id for t in before.applied_tags],
            [t.id for t in after.applied_tags],
            solved,
            guild_id=after.guild.id,
            forum_id=forum.id,
            thread_id=after.id,
            user_id=after.owner_id,
            at=self.now(),
        )
        await self.handle(event)

    # --- interactions --------------------------------------------------------------------------------------
    def add_commands(self, tree: app_commands.CommandTree[Any]) -> None:
        """The `/steward` group (one subcommand per rule command, plus help) and the message menus: "Save as
        lesson", "Record decision" and "Make an idea" (of `MESSAGE_MENU_LIMIT`).

        Discord holds at most `GROUP_LIMIT` subcommands in a group: the rules' first commands (in the order the
        rules offer them) go there, and each further one becomes a command of its own, `/steward-NAME`, which
        runs exactly as `/steward NAME` would."""
        group = app_commands.Group(name="steward", description=catalog_text("discord.steward_description"))
        commands = self.engine.router.commands
        group.add_command(self._subcommand("help", catalog_text("command.help_title")))
        offered = [name for name in commands if name != "help"]
        kept, overflow = offered[: GROUP_LIMIT - 1], offered[GROUP_LIMIT - 1:]
        for name in sorted(kept):
            group.add_command(self._subcommand(name, catalog_text(commands[name].help_key)))
        tree.add_command(group)
        for name in overflow:
            tree.add_command(self._subcommand(name, catalog_text(commands[name].help_key), shown=f"steward-{name}"))
        menus = (
            ("discord.context_lesson", self.save_lesson),
            ("discord.context_decision", self.record_decision),
            ("discord.context_idea", self.make_idea),
        )
        for key, callback in menus:
            tree.add_command(app_commands.ContextMenu(name=catalog_text(key), callback=callback))

    def _subcommand(
        self, name: str, description: str, shown: str | None = None
    ) -> app_commands.Command[Any, Any, None]:
        async def run(interaction: discord.Interaction, args: str | None = None) -> None:
            await self.on_command(interaction, f"{name} {args or ''}".strip())

        described = app_commands.describe(args=catalog_text("discord.option_args"))(run)
        return app_commands.Command(name=shown or name, description=clip(description, 100), callback=described)

    async def on_command(
        self, interaction: discord.Interaction, args: str, thread: str | None = None
    ) -> None:
        """A `/steward` subcommand: defer at once, let the router answer, reply privately."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        event = translate.command_invoked(
            interaction,
            args,
            at=self.now(),
            facilitator_role=self.settings.discord_facilitator_role,
            thread=thread,
        )
        await self._answer(interaction, event)

    async def save_lesson(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """The "Save as lesson" menu: `/steward lesson` about the chosen message (thread = its id)."""
        if LESSON_COMMAND not in self.engine.router.commands:
            await interaction.response.send_message(
                self._text(interaction, "discord.lessons_unavailable"), ephemeral=True
            )
            return
        await self.on_command(interaction, LESSON_COMMAND, thread=str(message.id))

    async def record_decision(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """The "Record decision" menu: `/steward decide` in the chosen message's thread, titled from the message."""
        await self._message_shortcut(interaction, message, "decide", "decide.unavailable")

    async def make_idea(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """The "Make an idea" menu: `/steward idea` with the chosen message's words, posted in its channel."""
        await self._message_shortcut(interaction, message, "idea", "idea.unavailable")

    async def _message_shortcut(
        self, interaction: discord.Interaction, message: discord.Message, command: str, unavailable: str
    ) -> None:
        if command not in self.engine.router.commands:
            await interaction.response.send_message(self._text(interaction, unavailable), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        event = translate.message_shortcut(
            interaction, message, command, at=self.now(), facilitator_role=self.settings.discord_facilitator_role
        )
        await self._answer(interaction, event)

    async def on_click(self, interaction: discord.Interaction, action: str, value: str) -> None:
        """A flag button: defer, tell the engine, confirm privately."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        event = translate.interaction_clicked(
            interaction, action, value, at=self.now(), facilitator_role=self.settings.discord_facilitator_role
        )
        await self._answer(interaction, event)

    async def _answer(self, interaction: discord.Interaction, event: Event | None) -> None:
        """The engine's private replies to a command or click; one that could not be read is told it failed."""
        if event is None:
            await interaction.followup.send(self._text(interaction, "discord.command_failed"), ephemeral=True)
            return
        try:
            replies = await self.handle(event)
        except Exception:
            logger.exception("handling %s failed", type(event).__name__)
            await interaction.followup.send(self._text(interaction, "discord.command_failed"), ephemeral=True)
            return
        if not replies:
            await interaction.followup.send(self._text(interaction, "discord.clicked"), ephemeral=True)
        for reply in replies:
            shown = render.render(reply)
            await interaction.followup.send(**message_kwargs(shown), ephemeral=True)

    def _text(self, interaction: discord.Interaction, key: str) -> str:
        workspace = translate.workspace_id(interaction.guild_id or 0)
        return self.engine.context(self.now()).t(workspace, key, for_member=str(interaction.user.id))
