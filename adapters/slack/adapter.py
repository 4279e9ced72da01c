"""The Slack adapter: slack-bolt's AsyncApp in, the Web API out.

Every request is first taken in: translated and stored in the engine's inbox (a bolt middleware), and only then
acknowledged (bolt acks events itself; commands, clicks and shortcuts call `ack()` first), so an acknowledged
request survives a crash before its handling. It is handled afterwards, one at a time and in arrival order, so
the engine sees a consistent stream. Retried deliveries carry the same `event_id` and are processed once.
Outbound actions go through `sender`, which the delivery worker drives: a per-channel pace of about one message
a second, the SDK's rate-limit retry handler, and a remaining 429 surfaced as `RetryLater` so the message is
delayed, never lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from adapters.slack import home, http_server, install, render
from adapters.slack.installations import DatabaseInstallationStore, InstalledTokens, SharedTokenRotator
from adapters.slack.sender import SlackSender, build_client, error_code, failed_method
from adapters.slack.translate import (
    MESSAGE_SHORTCUTS,
    BotIdentity,
    team_of,
    translate_block_actions,
    translate_command,
    translate_event,
    translate_message_shortcut,
    workspace_id,
)
from adapters.slack.users import SlackUser, UserDirectory
from bot.app.delivery import Sender
from bot.app.engine import Engine
from bot.core.actions import (
    Action,
    PostEphemeral,
)
from bot.core.events import CommandInvoked, Event, InteractionClicked, MessagePosted
from bot.core.ports import AdapterStartError
from bot.core.recognition import Contributions
from bot.settings import Settings
from storage.db import unavailable

logger = logging.getLogger(__name__)


EVENTS_PATH = "/slack/events"
COMMAND = "/steward"
SEEN_EVENTS = 10_000
TAKEN_IN = "steward_events"  # bolt's context key for the events a request carried, taken in before the ack


class SeenEvents:
    """Event ids already taken in, so Slack's retries (x-slack-retry-num) are processed once."""

    def __init__(self, limit: int = SEEN_EVENTS) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._ids

    def first_time(self, event_id: str) -> bool:
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.limit:
            self._ids.popitem(last=False)
        return True


Job = Callable[[], Awaitable[list[Action]]]


class SlackAdapter:
    """One Slack workspace: bot token plus Socket Mode app token, or HTTP mode with a signing secret. Or, with a
    client id and secret ("Add to Slack", HTTP mode), every workspace that installs Steward, each with its own
    bot token from the database (see `install`)."""

    platform = "slack"

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        send_interval: float = 1.0,
        rate_limit_retries: int = 1,
        http_host: str | None = None,
        connect_timeout: float = 15.0,
        ping_interval: float = 10.0,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.client = build_client(settings, rate_limit_retries=rate_limit_retries)
        self.installations: DatabaseInstallationStore | None = None
        self.rotator: SharedTokenRotator | None = None
        tokens: InstalledTokens | None = None
        if settings.slack_installs:
            self.client.token = None  # every call carries its workspace's own token
            secret = settings.slack_client_secret
            self.installations = DatabaseInstallationStore(engine.db)
            self.rotator = SharedTokenRotator(
                store=self.installations,
                client_id=str(settings.slack_client_id),
                client_secret=secret.get_secret_value() if secret else "",
                client=self.client,
            )
            tokens = InstalledTokens(self.installations, self.rotator)
        self.out = SlackSender(self.client, send_interval=send_interval, tokens=tokens)
        self.sender: Sender = self.out
        self.users = UserDirectory(self.client)
        self.seen = SeenEvents()
        self.http_host = http_host or settings.slack_http_host
        self.http_port: int | None = None
        self.connect_timeout = connect_timeout
        self.ping_interval = ping_interval  # how soon a silently dropped Socket Mode connection is noticed
        self.me: BotIdentity | None = None
        self.app: AsyncApp | None = None
        self._socket: Any = None
        self._runner: web.AppRunner | None = None
        self._lock = asyncio.Lock()
        self._intake = asyncio.Lock()  # requests are taken in one at a time, in arrival order

    # --- life cycle ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Check the tokens with Slack, then listen (Socket Mode, or HTTP on SLACK_HTTP_PORT)."""
        if self.installations is not None:
            await self._start_installable()
            return
        self.me = await self._identify()
        self.app = self._build_app(self.me)
        if self.settings.slack_mode.strip().lower() == "http":
            await self._serve_http()
        else:
            await self._connect_socket()
        logger.info(
            "Slack connected to workspace %s as %s (%s mode)",
            self.me.team_id,
            self.me.user_id,
            self.settings.slack_mode,
        )

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def ready(self) -> bool:
        """Whether Slack reaches Steward now (readiness): the Socket Mode connection is up (not closed, not
        stale, answering pings), or the HTTP listener serves."""
        if self._socket is not None:
            return bool(await self._socket.client.is_connected())
        return self._runner is not None and self.http_port is not None

    async def _identify(self) -> BotIdentity:
        """auth.test: a missing or rejected token stops the start with the setting to fix."""
        if not self.client.token:
            raise AdapterStartError(
                "SLACK_BOT_TOKEN is not set: put the app's Bot User OAuth Token (xoxb-...) into .env"
            )
        try:
            response = await self.client.auth_test()
        except SlackApiError as exc:
            raise AdapterStartError(
                f"Slack rejected SLACK_BOT_TOKEN ({error_code(exc)}): copy the Bot User OAuth Token "
                "(xoxb-...) from the app's OAuth & Permissions page into .env"
            ) from exc
        except Exception as exc:
            raise AdapterStartError(
                f"cannot reach the Slack Web API at SLACK_API_URL={self.settings.slack_api_url}: {exc}"
            ) from exc
        return BotIdentity(
            team_id=str(response["team_id"]),
            user_id=str(response.get("user_id") or ""),
            bot_id=str(response.get("bot_id") or ""),
        )

    async def _start_installable(self) -> None:
        """"Add to Slack": no token to check at start; each workspace's comes from the database per request."""
        if self.settings.slack_mode.strip().lower() != "http":
            raise AdapterStartError(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (\"Add to Slack\") need SLACK_MODE=http, SLACK_SIGNING_SECRET "
                "and a public URL for /slack/events, /slack/install and /slack/oauth_redirect"
            )
        if self.settings.slack_bot_token is not None:
            logger.info("SLACK_BOT_TOKEN is not used: workspaces install Steward themselves (SLACK_CLIENT_ID is set)")
        assert self.installations is not None and self.rotator is not None
        self.app = install.installable_app(
            self.settings, self.client, self.installations, self.rotator, before_authorize=self._installed_only
        )
        self._listen(self.app)
        self.app.event("app_uninstalled")(self._on_uninstalled)
        self.app.event("tokens_revoked")(self._on_tokens_revoked)
        await self._serve_http()
        teams = await install.installed_teams(self.engine.db)
        logger.info(
            "Slack: workspaces install Steward at %s (HTTP mode); installed in %d workspace%s",
            install.INSTALL_PATH, len(teams), "" if len(teams) == 1 else "s",
        )

    def _build_app(self, me: BotIdentity) -> AsyncApp:
        secret = self.settings.slack_signing_secret
        token = self.client.token

        async def authorize(**_: Any) -> AuthorizeResult:
            """Single workspace: the identity from auth.test at start, no call per request."""
            return AuthorizeResult(
                enterprise_id=None,
                team_id=me.team_id,
                bot_token=token,
                bot_id=me.bot_id,
                bot_user_id=me.user_id,
            )

        app = AsyncApp(
            client=self.client,
            authorize=authorize,
            signing_secret=secret.get_secret_value() if secret else "",
        )
        self._listen(app)
        return app

    def _listen(self, app: AsyncApp) -> None:
        """The intake middleware and the listeners, the same for one workspace or many."""
        app.middleware(self._take_in)
        for name in ("message", "reaction_added", "reaction_removed", "member_joined_channel"):
            app.event(name)(self._on_event)
        app.event("app_home_opened")(self._on_home_opened)
        app.command(COMMAND)(self._on_command)
        app.action(re.compile(".+"))(self._on_click)
        for callback_id in MESSAGE_SHORTCUTS:
            app.shortcut(callback_id)(self._on_shortcut)

    async def _connect_socket(self) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        app_token = self.settings.slack_app_token
        if app_token is None or not app_token.get_secret_value().startswith("xapp-"):
            raise AdapterStartError(
                "SLACK_APP_TOKEN is missing or not an app-level token (xapp-...): create one "
                "with the connections:write scope under Basic Information, or set SLACK_MODE=http"
            )
        assert self.app is not None
        handler = AsyncSocketModeHandler(self.app, app_token.get_secret_value(), ping_interval=self.ping_interval)
        try:
            await asyncio.wait_for(handler.connect_async(), timeout=self.connect_timeout)
        except (SlackApiError, TimeoutError, OSError) as exc:
            await handler.close_async()
            detail = error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
            raise AdapterStartError(
                f"Socket Mode connection failed ({detail}): check SLACK_APP_TOKEN and that "
                "Socket Mode is enabled for the app"
            ) from exc
        self._socket = handler

    async def _serve_http(self) -> None:
        secret = self.settings.slack_signing_secret
        if secret is None or not secret.get_secret_value().strip():
            raise AdapterStartError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs the app's Signing Secret "
                "(Basic Information) to verify requests"
            )
        assert self.app is not None
        guard = http_server.RequestGuard(secret.get_secret_value(), max_body=self.settings.slack_http_max_body_bytes)
        self._runner = web.AppRunner(http_server.web_app(self.app, guard, EVENTS_PATH), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.http_host, self.settings.slack_http_port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise AdapterStartError(
                f"cannot listen on SLACK_HTTP_HOST={self.http_host} SLACK_HTTP_PORT={self.settings.slack_http_port}: "
                f"{exc}"
            ) from exc
        self.http_port = int(self._runner.addresses[0][1])

    # --- requests in: taken in before the ack, handled after it ---------------------------------------------
    async def _take_in(
        self, body: dict[str, Any], context: Any, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Bolt middleware, before any acknowledgement: translate the request and store its events in the
        engine's inbox, so Slack is told "received" only for what a crash can no longer lose. When storing fails
        (the database away), the request stays unacknowledged and Slack delivers it again."""
        async with self._intake:
            try:
                events = await self._events_of(body, self._identity(context), _token(context))
                for event in events:
                    await self.engine.take_in(event)
            except Exception as exc:
                logger.warning("Slack request not acknowledged, Slack delivers it again: %s", _reason(exc))
                return BoltResponse(status=503, body="")
            event_id = str(body.get("event_id") or "") if body.get("type") == "event_callback" else ""
            if events and event_id:
                self.seen.first_time(event_id)
        context[TAKEN_IN] = events
        await next()
        return None

    def _identity(self, context: Any) -> BotIdentity:
        """Who Steward is in the request's workspace: from auth.test at start (one workspace), else from the
        workspace's installation, as bolt's authorize found it."""
        if self.me is not None:
            return self.me
        return BotIdentity(
            team_id=str(context.get("team_id") or ""),
            user_id=str(context.get("bot_user_id") or ""),
            bot_id=str(context.get("bot_id") or ""),
        )

    async def _events_of(self, body: dict[str, Any], me: BotIdentity, token: str | None = None) -> list[Event]:
        """The Steward events a request carries, with what users.info says of their member (none for a request
        Steward has no use for, or an event taken in before). `token`: the workspace's own, when it has one."""
        kind = body.get("type")
        if kind == "event_callback":
            event_id = str(body.get("event_id") or "")
            if event_id and event_id in self.seen:
                logger.info("event %s delivered again by Slack; taken in before", event_id)
                return []
            event: Any = body.get("event")  # translate_event checks its shape
            translated = translate_event(event, me)
            if isinstance(translated, MessagePosted):
                user = await self.users.get(translated.user, token)
                translated = dataclasses.replace(
                    _as_said_by(translated, user), user_name=user.name or translated.user_name
                )
            return [translated] if translated is not None else []
        if body.get("command") == COMMAND:
            user = await self.users.get(str(body.get("user_id", "")), token)
            return [_as_said_by(translate_command(body, at=self.engine.clock.now(), is_admin=user.is_admin), user)]
        if kind == "block_actions":
            user_id = _user_id(body)
            user = await self.users.get(user_id, token) if user_id else SlackUser(id="")
            clicks = translate_block_actions(body, at=self.engine.clock.now(), is_admin=user.is_admin)
            return [_as_said_by(click, user) for click in clicks]
        if kind in ("message_action", "shortcut") and body.get("callback_id") in MESSAGE_SHORTCUTS:
            user_id = _user_id(body)
            user = await self.users.get(user_id, token) if user_id else SlackUser(id="")
            return [_as_said_by(translate_message_shortcut(body, at=self.engine.clock.now(), is_admin=user.is_admin),
                                user)]
        return []

    async def _on_event(self, context: Any) -> None:
        """Events API callbacks; taken in and acknowledged already."""
        events: list[Event] = context.get(TAKEN_IN) or []
        if events:
            await self._serialized(lambda: self._handle_all(events))

    def _first_delivery(self, body: dict[str, Any]) -> bool:
        event_id = str(body.get("event_id") or "")
        if not event_id or self.seen.first_time(event_id):
            return True
        logger.info("event %s delivered again by Slack; already processed", event_id)
        return False

    async def _on_command(self, ack: Any, context: Any, respond: Any) -> None:
        await ack()
        events: list[Event] = context.get(TAKEN_IN) or []
        await self._answer(await self._serialized(lambda: self._handle_all(events)), respond)

    async def _on_click(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        await ack()
        events: list[Event] = context.get(TAKEN_IN) or []
        replies = await self._serialized(lambda: self._handle_all(events))
        await self._answer(replies, respond if body.get("response_url") else None)

    async def _on_shortcut(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        await ack()
        events: list[Event] = context.get(TAKEN_IN) or []
        replies = await self._serialized(lambda: self._handle_all(events))
        await self._answer(replies, respond if body.get("response_url") else None)

    async def _on_home_opened(self, body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        if event.get("tab", "home") != "home" or not self._first_delivery(body):
            return
        user_id = str(event.get("user", ""))
        token = _token(context)
        published: dict[str, Any] = {"token": token} if token is not None else {}

        async def job() -> list[Action]:
            user = await self.users.get(user_id, token)
            workspace = self._workspace(body)
            view = home.home_view(
                self.engine.state, workspace, user.id, now=self.engine.clock.now(),
                contributions=await self._contributions(workspace, user.id),
            )
            await self.client.views_publish(user_id=user.id, view=view, **published)
            return []

        await self._serialized(job)

    async def _contributions(self, workspace: str, user: str) -> Contributions | None:
        """What the member helped with, for the Home tab; None (the tab without it) when the store cannot say."""
        read = self.engine.extras.get("contributions")
        if read is None:
            return None
        try:
            found: Contributions = await read(workspace, user)
        except Exception as exc:
            logger.warning("Home tab without contributions: %s", _reason(exc))
            return None
        return found

    # --- helpers -------------------------------------------------------------------------------------------
    # --- "Add to Slack": requests of workspaces without an installation, and a workspace removing Steward -------
    async def _installed_only(
        self, body: dict[str, Any], context: Any, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Bolt middleware before authorize: a request of a workspace Steward is not installed in (any more) is
        refused in one line, and answered 200 so Slack does not deliver it again."""
        if install.needs_no_installation(body):
            await next()
            return None
        team, enterprise = context.get("team_id"), context.get("enterprise_id")
        assert self.installations is not None
        try:
            found = await self.installations.async_find_bot(
                enterprise_id=enterprise, team_id=team, is_enterprise_install=context.get("is_enterprise_install")
            )
        except Exception as exc:
            logger.warning("Slack request not acknowledged, Slack delivers it again: %s", _reason(exc))
            return BoltResponse(status=503, body="")
        if found is None:
            logger.warning("Slack request from workspace %s refused: Steward is not installed there "
                           "(uninstalled, or never installed)", team or enterprise or "unknown")
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def _on_tokens_revoked(self, event: dict[str, Any], context: Any) -> None:
        """Revoked bot tokens remove Steward as an uninstall does; Steward keeps no user tokens to revoke."""
        tokens = event.get("tokens") if isinstance(event, dict) else None
        if isinstance(tokens, dict) and tokens.get("bot"):
            await self._removed(context, "tokens_revoked")

    async def _on_uninstalled(self, context: Any) -> None:
        await self._removed(context, "app_uninstalled")

    async def _removed(self, context: Any, reason: str) -> None:
        """The workspace removed Steward: its installation goes, its unsent messages fail, and its community data
        is kept or purged as SLACK_UNINSTALL says. One line tells the operator."""
        team, enterprise = context.get("team_id"), context.get("enterprise_id")
        workspace = workspace_id(str(team or ""))
        purge = self.settings.slack_uninstall == "purge"

        async def job() -> list[Action]:
            assert self.installations is not None
            await self.installations.async_delete_all(enterprise_id=enterprise, team_id=team)
            failed = await install.fail_unsent(self.engine.db, workspace)
            removed = await self.engine.forget_workspace(workspace) if purge else 0
            kept = f"its community data purged ({removed} rows)" if purge else "its community data kept"
            logger.warning("Slack workspace %s removed Steward (%s): installation and tokens deleted, %d unsent "
                           "messages failed, %s (SLACK_UNINSTALL=%s)", team, reason, failed, kept,
                           self.settings.slack_uninstall)
            return []

        await self._serialized(job)

    async def _serialized(self, job: Job) -> list[Action]:
        """One request at a time, in arrival order, so the engine never sees two updates interleave."""
        async with self._lock:
            try:
                return await job()
            except SlackApiError as exc:
                logger.warning("Slack %s failed while handling a request: %s", failed_method(exc), error_code(exc))
            except Exception as exc:
                if not unavailable(exc):
                    logger.exception("handling a Slack request failed")
                else:  # taken in: it waits in the inbox, and a sweep handles it once the database answers
                    logger.warning("handling a Slack request failed, it is tried again: %s", _reason(exc))
            return []

    async def _handle_all(self, events: Sequence[Event]) -> list[Action]:
        replies: list[Action] = []
        for event in events:
            replies.extend(await self.engine.handle(event))
        return replies

    def _workspace(self, body: dict[str, Any]) -> str:
        return workspace_id(team_of(body) or (self.me.team_id if self.me else ""))

    async def _answer(self, replies: Sequence[Action], respond: Any) -> None:
        """Private replies: through the request's response_url when there is one, else chat.postEphemeral."""
        for reply in replies:
            if not isinstance(reply, PostEphemeral):
                continue
            try:
                if respond is not None:
                    await respond(**render.respond_payload(reply))
                else:
                    await self.out.call(render.post_ephemeral(reply), await self.out.token_for(reply.workspace))
            except SlackApiError as exc:
                logger.warning("private reply %s failed: %s", reply.key, error_code(exc))
            except Exception:
                logger.exception("private reply %s failed", reply.key)


Said = TypeVar("Said", MessagePosted, CommandInvoked, InteractionClicked)


def _token(context: Any) -> str | None:
    """The bot token bolt's authorize found for the request's workspace (SLACK_BOT_TOKEN with one workspace)."""
    token = context.get("token") if context is not None else None
    return str(token) if token else None


def _reason(exc: BaseException) -> str:
    """One line on why a request could not be taken in or handled (no traceback: the cause is outside Steward)."""
    reason = getattr(exc, "orig", None) or exc
    text = str(reason).strip().splitlines()
    return f"{type(reason).__name__}: {text[0]}" if text else type(reason).__name__


def _user_id(body: Any) -> str:
    """The clicking member's id, or "" when `user` is not shaped as Slack documents it (the translator then
    says what was wrong, in one warning)."""
    user = body.get("user") if isinstance(body, dict) else None
    found = user.get("id") if isinstance(user, dict) else None
    return found if isinstance(found, str) else ""


def _as_said_by(event: Said, user: SlackUser) -> Said:
    """The event with what users.info says of its author (time zone, language), which the engine keeps."""
    return dataclasses.replace(event, user_timezone=user.timezone or None, user_language=user.language or None)
