"""Slack's outbound side: actions rendered to Web API calls, paced per channel, with 429s surfaced as RetryLater.

Every failure leaves here as one of the delivery worker's exceptions with a one-line message: RetryLater (429),
ChannelUnreachable (Steward was removed, the channel deleted or archived), PermanentFailure (a refused token, a
bad request), TemporaryFailure (5xx, a timeout, a dropped connection). Posts carry their outbox key as message
metadata, so a retry after a lost answer finds the message it already posted instead of posting it again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import datetime
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from bot.app.delivery import ChannelUnreachable, PermanentFailure, RefLookup, RetryLater, TemporaryFailure
from bot.core.actions import (
    Action,
    AddReaction,
    PinMessage,
    PostEphemeral,
    PostFile,
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
# The bot token no longer works (app uninstalled, token revoked or expired, account deactivated): nothing will
# go through until an operator puts a new token into SLACK_BOT_TOKEN and restarts Steward.
AUTH_ERRORS = frozenset({"account_inactive", "invalid_auth", "not_authed", "token_expired", "token_revoked"})
# Errors that mean Steward can no longer post in the action's channel, and why.
UNREACHABLE_ERRORS = {"not_in_channel": "removed", "channel_not_found": "gone", "is_archived": "archived"}
METADATA_TYPE = "steward_action"  # message metadata: {"event_type": METADATA_TYPE, "event_payload": {"key": ...}}
HISTORY_MARGIN = 300.0  # seconds before a row's creation that a search for its message starts
CHANNEL_LIST_PAGES = 20  # conversations.list pages read to find a channel's id by its name
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")
SDK_WAIT = 5.0  # the longest Retry-After slack_sdk waits out inside a call; longer ones go back to the outbox


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
    """Slack's error code; "unknown_error" when the answer carried none (a proxy's HTML 502, an empty body)."""
    data = getattr(exc.response, "data", None)
    return str(data.get("error") or "unknown_error") if isinstance(data, dict) else "unknown_error"


def http_status(exc: SlackApiError) -> int:
    return int(getattr(exc.response, "status_code", 0) or 0)


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, for short waits only: it sleeps Retry-After inside the call, however long.

    A longer wait goes back to the outbox (RetryLater), where it holds no worker and no lease.
    """

    def __init__(self, max_retry_count: int = 1, *, longest_wait: float = SDK_WAIT) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.longest_wait = longest_wait

    async def _can_retry_async(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
        if not await super()._can_retry_async(state=state, request=request, response=response, error=error):
            return False
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        wait = headers.get("retry-after") or ["1"]
        try:
            return float(wait[0] if isinstance(wait, list) else wait) <= self.longest_wait
        except (TypeError, ValueError):
            return False


def build_client(settings: Settings, *, rate_limit_retries: int = 1) -> AsyncWebClient:
    """The Web API client: settings' base URL, one retry on connection errors, a short Retry-After waited out."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            ShortRateLimitRetryHandler(max_retry_count=rate_limit_retries),
        ],
    )


class TokenSource(Protocol):
    """Each workspace's bot token, when workspaces install Steward themselves ("Add to Slack")."""

    async def token(self, team_id: str) -> str | None: ...


class NotInstalled(PermanentFailure):
    """The action's workspace has no installation (it uninstalled Steward): nothing can be sent there."""


class SlackSender:
    """The delivery worker's way out to Slack: with one bot token (SLACK_BOT_TOKEN, the client's), or with each
    workspace's own token from `tokens`."""

    def __init__(
        self, client: AsyncWebClient, *, send_interval: float = 1.0, tokens: TokenSource | None = None
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.pacer = ChannelPacer(send_interval)
        self._dm_channels: dict[tuple[str, str], str] = {}  # (workspace, member) -> IM channel
        self._channel_ids: dict[tuple[str, str], str] = {}  # (workspace, channel name) -> id, as Slack answered
        # workspace -> (Slack's error code, the token it refused): that token is not tried again
        self.token_refused: dict[str, tuple[str, str | None]] = {}

    def handles(self, workspace: str) -> bool:
        return workspace.startswith("slack:")

    async def token_for(self, workspace: str) -> str | None:
        """The bot token for the workspace's Web API calls (`NotInstalled` when it has none)."""
        if self.tokens is None:
            return self.client.token
        team = workspace.removeprefix("slack:")
        token = await self.tokens.token(team)
        if token is None:
            raise NotInstalled(f"not sent: Steward is not installed in Slack workspace {team} (uninstalled)")
        return token

    async def send(self, action: Action, refs: RefLookup) -> str | None:
        token = await self.token_for(action.workspace)
        refused = self.token_refused.get(action.workspace)
        if refused is not None and refused[1] == token:
            raise PermanentFailure(f"not sent: Slack refused the bot token ({refused[0]}) before")
        try:
            return await self._send(action, refs, token)
        except SlackApiError as exc:
            self._failed(action, exc, token)
            return None
        except TimeoutError as exc:
            raise TemporaryFailure(f"Slack did not answer within {self.client.timeout} s") from exc
        except aiohttp.ClientError as exc:
            raise TemporaryFailure(f"cannot reach Slack: {type(exc).__name__}") from exc

    def _failed(self, action: Action, exc: SlackApiError, token: str | None) -> None:
        """Slack's refusal as the delivery worker's exception (returns only when the outcome is there already)."""
        code, status, method = error_code(exc), http_status(exc), failed_method(exc)
        if code in DONE_ERRORS:
            return
        if status == 429 or code == "ratelimited":
            raise RetryLater(_retry_after(exc), f"{method}: HTTP 429") from exc
        if code in AUTH_ERRORS:
            self.token_refused[action.workspace] = (code, token)
            if self.tokens is not None:
                raise PermanentFailure(
                    f"{method}: {code}: Slack refused the bot token of {action.workspace} (app uninstalled, token "
                    "revoked or expired); nothing is sent there until the workspace installs Steward again"
                ) from exc
            raise PermanentFailure(
                f"{method}: {code}: Slack refused the bot token (app uninstalled, token revoked or expired); "
                "nothing is sent until SLACK_BOT_TOKEN holds a valid token and Steward is restarted"
            ) from exc
        channel = channel_of(action)
        if code in UNREACHABLE_ERRORS and channel is not None:
            raise ChannelUnreachable(channel, UNREACHABLE_ERRORS[code], f"{method}: {code}") from exc
        if code in PERMANENT_ERRORS:
            raise PermanentFailure(f"{method}: {code}") from exc
        raise TemporaryFailure(f"{method}: {code} (HTTP {status})") from exc

    async def find_delivered(self, action: Action, since: datetime) -> str | None:
        """The ts of the message an earlier attempt posted for `action`, found by its metadata; None if none.

        Posts into channels and direct messages are looked for (a direct message in the member's IM channel,
        which `im:history` lets Steward read: a crash between Slack posting a nudge and the outbox hearing of it
        must not nudge twice); a channel given by name is looked up by the id Slack answered with before.
        """
        if not isinstance(action, PostMessage | SendDirectMessage):
            return None
        method = "conversations.history"
        token = await self.token_for(action.workspace)
        try:
            if isinstance(action, SendDirectMessage):
                channel: str | None = await self.dm_channel(action.user, token, action.workspace)
            else:
                channel = action.channel if _CHANNEL_ID.match(action.channel) else await self.channel_id(
                    action.channel, token, action.workspace
                )
            if channel is None:
                return None
            params: dict[str, Any] = {
                "channel": channel,
                "oldest": f"{since.timestamp() - HISTORY_MARGIN:.6f}",
                "limit": 200,
                "include_all_metadata": True,
            }
            if isinstance(action, PostMessage) and action.thread:
                method, params["ts"] = "conversations.replies", action.thread
            response = await self.call(render.ApiCall(method, params), token)
        except SlackApiError as exc:
            if error_code(exc) in PERMANENT_ERRORS:
                return None  # cannot look: sending again tells what is wrong
            self._failed(action, exc, token)
            raise
        except TimeoutError as exc:
            raise TemporaryFailure(f"Slack did not answer within {self.client.timeout} s") from exc
        except aiohttp.ClientError as exc:
            raise TemporaryFailure(f"cannot reach Slack: {type(exc).__name__}") from exc
        for message in response.get("messages") or ():
            if _posted_for(message, action.key):
                return str(message["ts"])
        return None

    async def channel_id(self, name: str, token: str | None = None, workspace: str = "") -> str | None:
        """The id of a channel Steward posts to by name (the facilitators' channel): as Slack answered a post
        before, else as conversations.list names it (after a restart nothing was posted yet)."""
        found = self._channel_ids.get((workspace, name))
        if found is not None:
            return found
        wanted, cursor = name.lstrip("#"), ""
        for _ in range(CHANNEL_LIST_PAGES):
            params: dict[str, Any] = {"types": "public_channel,private_channel", "exclude_archived": True,
                                      "limit": 1000}
            if cursor:
                params["cursor"] = cursor
            response = await self.call(render.ApiCall("conversations.list", params), token)
            for channel in response.get("channels") or ():
                if isinstance(channel, dict) and channel.get("name") == wanted and channel.get("id"):
                    self._channel_ids[(workspace, name)] = str(channel["id"])
                    return self._channel_ids[(workspace, name)]
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        return None

    async def _send(self, action: Action, refs: RefLookup, token: str | None) -> str | None:
        workspace = action.workspace
        if isinstance(action, PostMessage):
            return await self._post(render.post_message(action), action.key, token, workspace)
        if isinstance(action, SendDirectMessage):
            dm = await self.dm_channel(action.user, token, workspace)
            return await self._post(render.direct_message(action, dm), action.key, token, workspace)
        if isinstance(action, PostEphemeral):
            await self.call(render.post_ephemeral(action), token)
            return None
        if isinstance(action, PinMessage):
            await self.call(render.pin_message(action), token)
            return None
        if isinstance(action, AddReaction):
            await self.call(render.add_reaction(action), token)
            return None
        if isinstance(action, UpdateMessage):
            return await self._update(action, refs, token)
        if isinstance(action, PostFile):
            return await self._upload(action, token)
        logger.debug("%s has no Slack counterpart; skipped", action.type)
        return None

    async def _post(self, call: render.ApiCall, key: str, token: str | None, workspace: str) -> str | None:
        """chat.postMessage with the action's key as metadata (see `find_delivered`)."""
        channel = str(call.params["channel"])
        await self.pacer.wait(channel)
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"key": key}}
        response = await self.call(render.ApiCall(call.method, {**call.params, "metadata": metadata}), token)
        answered = response.get("channel")
        if answered and answered != channel and not _CHANNEL_ID.match(channel):
            self._channel_ids[(workspace, channel)] = str(answered)
        ts = response.get("ts")
        return str(ts) if ts else None

    async def _upload(self, action: PostFile, token: str | None) -> str | None:
        """The document through Slack's files upload v2 (get an upload URL, send the bytes, complete the upload
        into the channel with the message as its comment); the file's id is the platform's reference."""
        if _CHANNEL_ID.match(action.channel):
            channel = action.channel
        else:
            channel = await self.channel_id(action.channel, token, action.workspace) or action.channel
        await self.pacer.wait(channel)
        extra: dict[str, Any] = {"token": token} if token is not None else {}
        try:
            response = await self.client.files_upload_v2(
                channel=channel, content=action.content.encode("utf-8"), filename=action.filename,
                title=action.title or action.filename, initial_comment=action.text, **extra,
            )
        except SlackRequestError as exc:  # the upload URL refused the bytes
            raise TemporaryFailure(f"files upload: {describe_upload(exc)}") from exc
        found = response.get("file") or {}
        return str(found.get("id")) if isinstance(found, dict) and found.get("id") else None

    async def _update(self, action: UpdateMessage, refs: RefLookup, token: str | None) -> str | None:
        ts = await refs(action.workspace, action.original_key)
        if not ts:
            raise PermanentFailure(f"no posted message for {action.original_key} to update")
        if _USER_ID.match(action.channel):
            channel = await self.dm_channel(action.channel, token, action.workspace)
        else:
            channel = action.channel
        await self.call(render.update_message(action, channel, ts), token)
        return ts

    async def dm_channel(self, user: str, token: str | None = None, workspace: str = "") -> str:
        """The member's IM channel, opened once and remembered."""
        channel = self._dm_channels.get((workspace, user))
        if channel is None:
            response = await self.call(render.ApiCall("conversations.open", {"users": user}), token)
            channel = self._dm_channels[(workspace, user)] = str(response["channel"]["id"])
        return channel

    async def call(self, call: render.ApiCall, token: str | None = None) -> Any:
        """One Web API call, with `token` when given (a workspace's own), else the client's."""
        params = {**call.params, "token": token} if token is not None else call.params
        return await self.client.api_call(call.method, json=params)


def _posted_for(message: Any, key: str) -> bool:
    """Whether a message from conversations.history carries the metadata of the action with this key."""
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_TYPE or not message.get("ts"):
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("key") == key


def channel_of(action: Action) -> str | None:
    """The channel an action posts in, if any (a DM's IM channel is the member's, not a community channel)."""
    channel = getattr(action, "channel", None)
    if not channel or isinstance(action, SendDirectMessage) or _USER_ID.match(str(channel)):
        return None
    return str(channel)


def describe_upload(exc: SlackRequestError) -> str:
    """The first part of slack_sdk's upload failure (its message quotes the whole answer)."""
    return str(exc).split(", body:", 1)[0].strip() or type(exc).__name__


def failed_method(exc: SlackApiError) -> str:
    url = str(getattr(exc.response, "api_url", "") or "")
    return url.rstrip("/").rsplit("/", 1)[-1] or "api"


def _retry_after(exc: SlackApiError) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return max(1.0, float(headers.get("Retry-After") or headers.get("retry-after") or 1))
    except (TypeError, ValueError):
        return 1.0


