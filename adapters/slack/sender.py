"""Slack's outbound side: actions rendered to Web API calls, paced per channel, with 429s surfaced as RetryLater."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from bot.app.delivery import PermanentFailure, RefLookup, RetryLater
from bot.core.actions import (
    Action,
    AddReaction,
    PinMessage,
    PostEphemeral,
    PostMessage,
    SendDirectMessage,
    UpdateMessage,
)
from bot.settings import Settings

logger = logging.getLogger(__name__)

_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")

# Errors that retrying cannot fix: the row fails at once (and is logged, never posted).
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "cannot_dm_bot",
        "cant_update_message",
        "channel_not_found",
        "edit_window_closed",
        "invalid_auth",
        "invalid_blocks",
        "is_archived",
        "message_not_found",
        "missing_scope",
        "msg_too_long",
        "no_text",
        "not_authed",
        "not_in_channel",
        "restricted_action",
        "token_revoked",
        "user_disabled",
        "user_not_found",
        "user_not_in_channel",
    }
)
# Errors that mean the wanted outcome is already there.
DONE_ERRORS = frozenset({"already_pinned", "already_reacted"})


class ChannelPacer:
    """About one message per second per channel, as Slack asks for chat.postMessage."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, channel: str) -> None:
        if self.interval <= 0:
            return
        async with self._locks.setdefault(channel, asyncio.Lock()):
            now = time.monotonic()
            due = self._next.get(channel, now)
            if due > now:
                await asyncio.sleep(due - now)
            self._next[channel] = max(now, due) + self.interval


def error_code(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown_error")) if exc.response is not None else "unknown_error"


def build_client(settings: Settings, *, rate_limit_retries: int = 1) -> AsyncWebClient:
    """The Web API client: settings' base URL, one retry on connection errors, Retry-After honoured on 429."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        ],
    )


class SlackSender:
    """The delivery worker's way out to Slack."""

    def __init__(self, client: AsyncWebClient, *, send_interval: float = 1.0) -> None:
        self.client = client
        self.pacer = ChannelPacer(send_interval)
        self._dm_channels: dict[str, str] = {}

    def handles(self, workspace: str) -> bool:
        return workspace.startswith("slack:")

    async def send(self, action: Action, refs: RefLookup) -> str | None:
        try:
            return await self._send(action, refs)
        except SlackApiError as exc:
            code = error_code(exc)
            if code in DONE_ERRORS:
                return None
            status = exc.response.status_code if exc.response is not None else 0
            logger.warning("Slack %s failed for %s: %s (HTTP %s)", failed_method(exc), action.key, code, status)
            if status == 429 or code == "ratelimited":
                raise RetryLater(_retry_after(exc), f"{failed_method(exc)}: rate limited") from exc
            if code in PERMANENT_ERRORS:
                raise PermanentFailure(f"{failed_method(exc)}: {code}") from exc
            raise

    async def _send(self, action: Action, refs: RefLookup) -> str | None:
        if isinstance(action, PostMessage):
            return await self._post(render.post_message(action))
        if isinstance(action, SendDirectMessage):
            return await self._post(render.direct_message(action, await self.dm_channel(action.user)))
        if isinstance(action, PostEphemeral):
            await self.call(render.post_ephemeral(action))
            return None
        if isinstance(action, PinMessage):
            await self.call(render.pin_message(action))
            return None
        if isinstance(action, AddReaction):
            await self.call(render.add_reaction(action))
            return None
        if isinstance(action, UpdateMessage):
            return await self._update(action, refs)
        logger.debug("%s has no Slack counterpart; skipped", action.type)
        return None

    async def _post(self, call: render.ApiCall) -> str | None:
        await self.pacer.wait(str(call.params["channel"]))
        response = await self.call(call)
        ts = response.get("ts")
        return str(ts) if ts else None

    async def _update(self, action: UpdateMessage, refs: RefLookup) -> str | None:
        ts = await refs(action.workspace, action.original_key)
        if not ts:
            raise PermanentFailure(f"no posted message for {action.original_key} to update")
        channel = await self.dm_channel(action.channel) if _USER_ID.match(action.channel) else action.channel
        await self.call(render.update_message(action, channel, ts))
        return ts

    async def dm_channel(self, user: str) -> str:
        """The member's IM channel, opened once and remembered."""
        channel = self._dm_channels.get(user)
        if channel is None:
            response = await self.call(render.ApiCall("conversations.open", {"users": user}))
            channel = self._dm_channels[user] = str(response["channel"]["id"])
        return channel

    async def call(self, call: render.ApiCall) -> Any:
        return await self.client.api_call(call.method, json=call.params)


def failed_method(exc: SlackApiError) -> str:
    url = str(getattr(exc.response, "api_url", "") or "")
    return url.rstrip("/").rsplit("/", 1)[-1] or "api"


def _retry_after(exc: SlackApiError) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return max(1.0, float(headers.get("Retry-After") or headers.get("retry-after") or 1))
    except (TypeError, ValueError):
        return 1.0


