"""Discord's outbound side: actions rendered (adapters.discord.render) and sent through discord.py.

discord.py sleeps through short rate limits and retries some 5xx itself; what it gives up on leaves here as one
of the delivery worker's exceptions with a one-line message: RetryLater (429, also after discord.py's own five
tries), ChannelUnreachable (403 Missing Access, 404 Unknown Channel), PermanentFailure (401: the token no longer
works; other 4xx), TemporaryFailure (5xx, no answer within `timeout`, a dropped connection). Messages carry a
nonce that Discord enforces, so a retry after a lost answer does not post a second message.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from adapters.discord import render, translate
from bot.app.delivery import ChannelUnreachable, PermanentFailure, RefLookup, RetryLater, TemporaryFailure
from bot.core.actions import (
    Action,
    AddReaction,
    PinMessage,
    PostEphemeral,
    PostFile,
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
MISSING_ACCESS = 50001  # the bot cannot see the channel (removed from it, or its permissions taken away)
UNKNOWN_CHANNEL = 10003  # the channel no longer exists
SEND_TIMEOUT = 60.0  # seconds one action may take, discord.py's own waits (5 x 10 s at most) included


class DiscordSender:
    """The delivery side: one outbox action -> one Discord call (plus a lookup where needed)."""

    def __init__(self, adapter: DiscordAdapter, *, timeout: float = SEND_TIMEOUT) -> None:
        self.adapter = adapter
        self.timeout = timeout
        self.token_refused = False  # Discord answered 401: the token was reset or the bot deleted

    def handles(self, workspace: str) -> bool:
        return translate.guild_of(workspace) is not None

    async def send(self, action: Action, refs: RefLookup) -> str | None:
        """Deliver; returns "<channel id>/<message id>" of a posted message so it can be edited later."""
        if self.token_refused:
            raise PermanentFailure("not sent: Discord refused the bot token (401) before")
        client = self.adapter.client
        if client is not None and client.is_closed() and self.adapter.ended is not None:
            raise PermanentFailure(f"not sent: the Discord connection ended for good ({self.adapter.ended})")
        if client is None or not client.is_ready():
            raise RetryLater(5.0, "Discord is not connected yet")
        try:
            return await asyncio.wait_for(self._send(client, action, refs), timeout=self.timeout)
        except TimeoutError as exc:
            raise TemporaryFailure(f"Discord did not answer within {self.timeout:g} s") from exc
        except discord.RateLimited as exc:
            raise RetryLater(exc.retry_after, "Discord rate limit") from exc
        except discord.HTTPException as exc:
            raise self._failure(action, exc) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise TemporaryFailure(f"cannot reach Discord: {type(exc).__name__}") from exc

    def _failure(self, action: Action, exc: discord.HTTPException) -> Exception:
        """Discord's refusal as the delivery worker's exception."""
        said = f"{route_of(exc)}: {exc.status} ({exc.code}) {exc.text}".strip()
        if exc.status == 429:  # discord.py waited and retried five times, and was still refused
            return RetryLater(retry_after(exc), f"{route_of(exc)}: HTTP 429")
        if exc.status == 401:
            self.token_refused = True
            return PermanentFailure(
                f"{said}: Discord refused the bot token (reset, or the bot deleted); nothing is sent until "
                "DISCORD_TOKEN holds a valid token and Steward is restarted"
            )
        channel = getattr(action, "channel", None)
        members = self.adapter.engine.state.members  # an edited DM names its member, whose id looks like a channel's
        if channel and not isinstance(action, SendDirectMessage) and (action.workspace, channel) not in members:
            if exc.status == 403 and exc.code == MISSING_ACCESS:
                return ChannelUnreachable(str(channel), "removed", said)
            if exc.status == 404 and exc.code == UNKNOWN_CHANNEL:
                return ChannelUnreachable(str(channel), "gone", said)
        if 400 <= exc.status < 500:
            return PermanentFailure(said)
        return TemporaryFailure(said)

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
        if isinstance(action, PostFile):
            return await self.post_file(client, action)
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
            raise ChannelUnreachable(channel, "gone", f"no text channel named #{name} in {workspace}")
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

    async def post_file(self, client: StewardClient, action: PostFile) -> str:
        """A message with the document as its attachment, in a text channel."""
        channel_id = self.channel_id(client, action.workspace, action.channel)
        target = client.get_partial_messageable(channel_id, guild_id=translate.guild_of(action.workspace))
        attachment = discord.File(io.BytesIO(action.content.encode("utf-8")), filename=action.filename)
        sent = await target.send(content=clip(action.text, 2000), file=attachment, nonce=render.nonce(action.key))
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


def route_of(exc: discord.HTTPException) -> str:
    """"POST /api/v10/channels/1/messages": the URL path carries no token."""
    response = exc.response
    return f"{getattr(response, 'method', '?')} {getattr(getattr(response, 'url', None), 'path', '?')}"


def retry_after(exc: discord.HTTPException) -> float:
    """Seconds to wait after a 429: the Retry-After header, else 5."""
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return max(0.0, float(headers.get("Retry-After") or 5.0))
    except (TypeError, ValueError):
        return 5.0


def log_http_error(exc: discord.HTTPException, doing: str) -> None:
    """Route and status go to the log (never into a channel)."""
    logger.error("Discord %s failed while %s: %s (code %s) %s", route_of(exc), doing, exc.status, exc.code, exc.text)
