"""Discord's outbound side: actions rendered (adapters.discord.render) and sent through discord.py."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord import render, translate
from bot.app.delivery import PermanentFailure, RefLookup, RetryLater
from bot.core.actions import (
    Action,
    AddReaction,
    PinMessage,
    PostEphemeral,
    PostMessage,
    SendDirectMessage,
    SetForumSolved,
    UpdateMessage,
)
from bot.core.markup import clip

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter, StewardClient

logger = logging.getLogger(__name__)

DM_CLOSED = 50007  # "Cannot send messages to this user"


class DiscordSender:
    """The delivery side: one outbox action -> one Discord call (plus a lookup where needed)."""

    def __init__(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter

    def handles(self, workspace: str) -> bool:
        return translate.guild_of(workspace) is not None

    async def send(self, action: Action, refs: RefLookup) -> str | None:
        """Deliver; returns "<channel id>/<message id>" of a posted message so it can be edited later."""
        client = self.adapter.client
        if client is None or not client.is_ready():
            raise RetryLater(5.0, "Discord is not connected yet")
        try:
            return await self._send(client, action, refs)
        except discord.RateLimited as exc:
            raise RetryLater(exc.retry_after, "Discord rate limit") from exc
        except discord.HTTPException as exc:
            log_http_error(exc, f"{action.type} {action.key}")
            if 400 <= exc.status < 500:
                raise PermanentFailure(f"Discord answered {exc.status} ({exc.code}): {exc.text}") from exc
            raise

    async def _send(self, client: StewardClient, action: Action, refs: RefLookup) -> str | None:
        if isinstance(action, PostMessage):
            return await self.post(client, action)
        if isinstance(action, SendDirectMessage):
            return await self.direct_message(client, action)
        if isinstance(action, UpdateMessage):
            return await self.update(client, action, refs)
        if isinstance(action, PinMessage):
            await self.message(client, action.workspace, action.channel, action.message_id).pin()
            return None
        if isinstance(action, AddReaction):
            message = self.message(client, action.workspace, action.channel, action.message_id)
            await message.add_reaction(translate.emoji_char(action.emoji))
            return None
        if isinstance(action, SetForumSolved):
            await self.forum_solved(client, action)
            return None
        if isinstance(action, PostEphemeral):
            raise PermanentFailure(
                "private replies are answered within their interaction, not delivered later"
            )
        raise PermanentFailure(f"the Discord adapter cannot deliver {action.type}")

    # --- targets -------------------------------------------------------------------------------------------
    def guild(self, client: StewardClient, workspace: str) -> discord.Guild:
        guild_id = translate.guild_of(workspace)
        guild = client.get_guild(guild_id) if guild_id is not None else None
        if guild is None:
            raise PermanentFailure(f"Steward is not in the Discord server of {workspace}")
        return guild

    def channel_id(self, client: StewardClient, workspace: str, channel: str) -> int:
        """A channel given by id, or by name (the facilitators' channel is configured by name)."""
        if channel.isdigit():
            return int(channel)
        name = channel.lstrip("#")
        found = discord.utils.get(self.guild(client, workspace).text_channels, name=name)
        if found is None:
            raise PermanentFailure(f"no text channel named #{name} in {workspace}")
        return found.id

    def message(
        self, client: StewardClient, workspace: str, channel: str, message_id: str
    ) -> discord.PartialMessage:
        """A message to pin or react to, in the channel that holds it (a forum starter is in its thread)."""
        info = self.adapter.engine.state.message(workspace, message_id)
        where = self.channel_id(client, workspace, channel)
        if info is not None and info.thread:
            holder = self.adapter.engine.state.channels.get((workspace, info.channel))
            if info.thread != message_id or (holder is not None and holder.kind == "forum"):
                where = int(info.thread)
        guild_id = translate.guild_of(workspace)
        return client.get_partial_messageable(where, guild_id=guild_id).get_partial_message(int(message_id))

    async def thread(self, client: StewardClient, thread_id: int) -> discord.Thread | None:
        """The thread with this id, from the cache or the API; None when the message never got a thread."""
        found = client.get_channel(thread_id)
        if isinstance(found, discord.Thread):
            return found
        try:
            fetched = await client.fetch_channel(thread_id)
        except discord.NotFound:
            return None
        return fetched if isinstance(fetched, discord.Thread) else None

    # --- actions -------------------------------------------------------------------------------------------
    async def post(self, client: StewardClient, action: PostMessage) -> str:
        """Into the thread if the question has one, else as a reply to the question in its channel."""
        shown = render.render(action)
        kwargs = message_kwargs(shown)
        reference = None
        target: discord.abc.Messageable
        thread = await self.thread(client, int(action.thread)) if action.thread else None
        if thread is not None:
            target = thread
        else:
            channel_id = self.channel_id(client, action.workspace, action.channel)
            forum = client.get_channel(channel_id)
            if isinstance(forum, discord.ForumChannel):
                return await self.forum_post(forum, action, kwargs)
            target = client.get_partial_messageable(channel_id, guild_id=translate.guild_of(action.workspace))
            if action.thread:
                reference = discord.MessageReference(
                    message_id=int(action.thread), channel_id=channel_id, fail_if_not_exists=False
                )
        if reference is not None:
            kwargs["reference"] = reference
        sent = await target.send(nonce=render.nonce(action.key), **kwargs)
        return f"{sent.channel.id}/{sent.id}"

    async def forum_post(self, forum: discord.ForumChannel, action: PostMessage, kwargs: dict[str, Any]) -> str:
        """A forum takes no plain messages: a post there opens a new forum post, titled by the card or text."""
        title = action.card.title if action.card is not None else action.text.split("\n", 1)[0]
        created = await forum.create_thread(name=clip(title if title.strip() else "Steward", 100), **kwargs)
        return f"{created.thread.id}/{created.message.id}"

    async def direct_message(self, client: StewardClient, action: SendDirectMessage) -> str | None:
        """A DM; members whose DMs are closed are remembered and skipped from then on."""
        state = self.adapter.engine.state
        member = state.members.get((action.workspace, action.user))
        if member is not None and member.dm_closed:
            logger.info("not sending %s: %s has closed DMs", action.key, action.user)
            return None
        dm = await client.create_dm(discord.Object(id=int(action.user)))
        try:
            sent = await dm.send(nonce=render.nonce(action.key), **message_kwargs(render.render(action)))
        except discord.Forbidden as exc:
            if exc.code != DM_CLOSED:
                raise
            closed = state.member(action.workspace, action.user)
            closed.dm_closed = True
            state.touch_member(closed)
            logger.info(
                "%s does not accept DMs from Steward; %s skipped and remembered", action.user, action.key
            )
            return None
        return f"{sent.channel.id}/{sent.id}"

    async def update(self, client: StewardClient, action: UpdateMessage, refs: RefLookup) -> str:
        """Edit Steward's own message posted by the action with `original_key`."""
        ref = await refs(action.workspace, action.original_key)
        if not ref:
            raise RuntimeError(f"{action.original_key} has not been posted yet")
        channel, _, message_id = ref.rpartition("/")
        channel_id = int(channel) if channel else self.channel_id(client, action.workspace, action.channel)
        message = client.get_partial_messageable(channel_id).get_partial_message(int(message_id))
        shown = render.render(action)
        await message.edit(
            content=shown.content, embed=shown.embed, view=shown.view, allowed_mentions=shown.allowed_mentions
        )
        return f"{channel_id}/{message_id}"

    async def forum_solved(self, client: StewardClient, action: SetForumSolved) -> None:
        """Apply the forum's "solved" tag (named in DISCORD_SOLVED_TAG) to the post."""
        forum = client.get_channel(self.channel_id(client, action.workspace, action.channel))
        if not isinstance(forum, discord.ForumChannel):
            raise PermanentFailure(f"channel {action.channel} is not a forum")
        solved = translate.solved_tag_ids(forum.available_tags, self.adapter.settings.discord_solved_tag)
        tag = forum.get_tag(min(solved)) if solved else None
        if tag is None:
            raise PermanentFailure(
                f"forum #{forum.name} has no tag named "
                f"'{self.adapter.settings.discord_solved_tag}' (DISCORD_SOLVED_TAG)"
            )
        thread = await self.thread(client, int(action.thread))
        if thread is None:
            raise PermanentFailure(f"forum post {action.thread} no longer exists")
        if tag.id not in {t.id for t in thread.applied_tags}:
            await thread.add_tags(tag, reason="question resolved")


def message_kwargs(shown: render.Rendered) -> dict[str, Any]:
    """Only the parts present: discord.py treats an explicit None differently from "not given"."""
    kwargs: dict[str, Any] = {"allowed_mentions": shown.allowed_mentions}
    if shown.content is not None:
        kwargs["content"] = shown.content
    if shown.embed is not None:
        kwargs["embed"] = shown.embed
    if shown.view is not None:
        kwargs["view"] = shown.view
    return kwargs


def log_http_error(exc: discord.HTTPException, doing: str) -> None:
    """Route and status go to the log (never into a channel); the URL path carries no token."""
    response = exc.response
    route = f"{getattr(response, 'method', '?')} {getattr(getattr(response, 'url', None), 'path', '?')}"
    logger.error("Discord %s failed while %s: %s (code %s) %s", route, doing, exc.status, exc.code, exc.text)
