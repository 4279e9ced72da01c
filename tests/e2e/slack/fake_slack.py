"""A local fake of Slack for end-to-end tests: the Web API, a Socket Mode websocket and response_url targets.

Every Web API call is recorded as (method, params); Socket Mode envelopes are pushed to the connected client
and its acks recorded; `/respond/{key}` records what was sent to a response_url.

`deliver` queues envelopes as Slack does for a crashing app: an envelope not acknowledged when its connection
closes is pushed again (with `retry_attempt`) over the next connection, and one left unacknowledged for
`retry_seconds` is pushed again. Posted messages are kept with their metadata, so `conversations.history` and
`conversations.replies` answer as Slack would; `on_call` lets a test hold a Web API call before it is answered.

"Add to Slack": `/oauth/v2/authorize` approves an install at once (as the installer would) and redirects to the
app's redirect URL with a code; `oauth.v2.access` exchanges it for a bot token of its own team (with a refresh
token and expiry when `token_lifetime` is set, and refreshes such tokens); `auth.test` answers per token with its
team; `apps.uninstall` revokes a team's tokens. `call_tokens` holds the token each Web API call carried.

`api_delay` makes every Web API call answer that many seconds late (a realistic 0.05, say; 0 by default), the
time a real Slack takes, so what waits on Slack one call after another shows.

Platform faults to script: 429s with Retry-After (`rate_limited`), 5xx answers (`server_errors`), answers later
than the client waits (`slow`: the call took effect, or with `slow_processed` off it was lost), a refused token
(`token_error`), a channel Steward cannot post in (`channel_errors`), and Socket Mode connections closed
(`drop_connections`), cut without a close frame (`sever_connections`) or told to move (`send_disconnect`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import BasicAuth, WSMsgType, web

TEAM = "T0TEAM"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret"


_TRIGGERS = itertools.count(1)


def trigger_id() -> str:
    """A fresh trigger_id, as Slack gives each command, click and shortcut its own (a repeated one is a redelivery)."""
    return f"{int(time.time())}.{next(_TRIGGERS)}.test"


async def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until the predicate holds (tests never sleep a fixed time)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.acks: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.rate_limited: dict[str, int] = {}  # method -> how many 429s to answer before succeeding
        self.retry_after = 1
        self.api_delay = 0.0  # seconds every Web API call takes to answer (see the module's docstring)
        self.valid_tokens = {"xoxb-test", "xapp-1-test"}
        self.port = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        # Slack's memory of posted messages, its redelivery of envelopes, and a hook on every Web API call.
        self.posted: list[dict[str, Any]] = []
        self.on_call: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None
        self.retry_seconds: float | None = None  # push an unacknowledged envelope again after this long
        self.redelivered = 0
        self._queue: deque[_Envelope] = deque()
        self._in_flight: dict[str, _Envelope] = {}
        self._dead: set[web.WebSocketResponse] = set()  # connections a push failed on (closing, not yet closed)
        self._wake = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        # Platform faults (see the module's docstring).
        self.server_errors: dict[str, int] = {}  # method -> how many 5xx answers before it succeeds
        self.server_error_status = 503
        self.slow: dict[str, int] = {}  # method -> how many calls are answered only after `slow_seconds`
        self.slow_seconds = 1.0
        self.slow_processed = True  # a slow call took effect, only its answer is late; False: it was lost
        self.token_error: str | None = None  # e.g. "token_revoked": every call is refused with it
        self.channel_errors: dict[str, str] = {}  # channel -> the error of any call naming it ("not_in_channel")
        self._links: list[web.Request] = []
        # Files upload v2: the bytes sent to each upload URL, and the uploads completed into a channel.
        self.uploaded: dict[str, bytes] = {}  # file id -> the bytes sent to its upload URL
        self.files: list[dict[str, Any]] = []  # completed uploads: id, title, channel, comment, content
        self._file_ids = itertools.count(1)
        # "Add to Slack": installs, the tokens issued per team, their expiry, and the token of every call.
        self.call_tokens: list[str] = []  # the token each call in `calls` carried ("" for none)
        self.installing_team = "T0TEAM"  # the workspace the next approval on /oauth/v2/authorize installs into
        self.redirect_url: str | None = None  # the app's Redirect URL, when the authorize request names none
        self.authorize_requests: list[dict[str, str]] = []
        self.token_lifetime: int | None = None  # seconds: issue rotating tokens (refresh token, expires_in)
        self.token_teams: dict[str, str] = {}  # issued bot token -> its team
        self.token_expiry: dict[str, float] = {}  # rotating bot token -> when it stops working
        self._codes: dict[str, str] = {}  # code -> team, each usable once
        self._refresh_tokens: dict[str, str] = {}  # refresh token -> team, each usable once
        self._issued = itertools.count(1)

    # --- server ------------------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self.api)
        app.router.add_get("/api/{method}", self.api)
        app.router.add_get("/link", self.link)
        app.router.add_post("/respond/{key}", self.respond)
        app.router.add_post("/upload/{file_id}", self.upload)
        app.router.add_get("/oauth/v2/authorize", self.authorize)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.port}/respond/{key}"

    @property
    def authorize_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oauth/v2/authorize"

    # --- Web API -----------------------------------------------------------------------------------------
    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        authorization = request.headers.get("Authorization", "")
        token = "" if authorization.startswith("Basic ") else authorization.removeprefix("Bearer ")
        token = token or str(params.get("token", ""))
        self.calls.append((method, params))
        self.call_tokens.append(token)
        if self.on_call is not None:
            await self.on_call(method, params)
        if self.api_delay > 0:
            await asyncio.sleep(self.api_delay)
        if method == "oauth.v2.access":
            return web.json_response(self._access(authorization, params))
        if token in self.token_expiry and self.token_expiry[token] <= time.time():
            return web.json_response({"ok": False, "error": "token_expired"})
        if token not in self.valid_tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.token_error is not None:
            return web.json_response({"ok": False, "error": self.token_error})
        if self.slow.get(method, 0) > 0 and not self.slow_processed:
            self.slow[method] -= 1
            await asyncio.sleep(self.slow_seconds)  # lost on the way: nothing happens, the answer comes too late
            return web.json_response({"ok": False, "error": "request_timeout"}, status=504)
        if self.server_errors.get(method, 0) > 0:
            self.server_errors[method] -= 1
            return web.Response(
                status=self.server_error_status, text="<html>upstream unavailable</html>", content_type="text/html"
            )
        if self.rate_limited.get(method, 0) > 0:
            self.rate_limited[method] -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(self.retry_after)}
            )
        if str(params.get("channel", "")) in self.channel_errors:
            return web.json_response({"ok": False, "error": self.channel_errors[str(params["channel"])]})
        body: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            team = self.token_teams.get(token, TEAM)
            body |= {"team_id": team, "user_id": _bot_user(team), "bot_id": _bot_id(team), "team": f"Team {team}"}
        elif method == "apps.uninstall":
            self.revoke(self.token_teams.get(token, ""))
        elif method == "apps.connections.open":
            body["url"] = f"ws://127.0.0.1:{self.port}/link"
        elif method in ("chat.postMessage", "chat.update"):
            body |= {"channel": params.get("channel"), "ts": params.get("ts") or f"1700000000.{next(self._ts):06d}"}
            if method == "chat.postMessage":
                self._remember(params, str(body["ts"]))
        elif method in ("conversations.history", "conversations.replies"):
            body |= self._history(method, params)
        elif method == "conversations.list":
            body |= self._channels()
        elif method == "chat.postEphemeral":
            body["message_ts"] = f"1700000000.{next(self._ts):06d}"
        elif method == "conversations.open":
            body["channel"] = {"id": "D" + str(params.get("users", "")).lstrip("UW")}
        elif method == "files.getUploadURLExternal":
            file_id = f"F{next(self._file_ids):06d}"
            body |= {"file_id": file_id, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}"}
        elif method == "files.completeUploadExternal":
            body["files"] = self._complete_upload(params)
        elif method == "users.info":
            user = str(params.get("user", ""))
            body["user"] = self.users.get(user, {"id": user, "name": user, "tz": "Europe/Berlin", "locale": "en-US"})
        if self.slow.get(method, 0) > 0:
            self.slow[method] -= 1
            await asyncio.sleep(self.slow_seconds)  # the call took effect; only its answer is late
        return web.json_response(body)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    def tokens_of(self, method: str) -> list[str]:
        """The token each call of `method` carried, in order."""
        return [token for (name, _), token in zip(self.calls, self.call_tokens, strict=True) if name == method]

    # --- "Add to Slack" ------------------------------------------------------------------------------------
    async def authorize(self, request: web.Request) -> web.Response:
        """The installer approves at once: back to the app's redirect URL with a new code and the app's state."""
        query = dict(request.query)
        self.authorize_requests.append(query)
        if query.get("client_id") != CLIENT_ID:
            return web.Response(status=400, text="invalid_client_id")
        target = query.get("redirect_uri") or self.redirect_url
        if not target:
            return web.Response(status=400, text="no redirect url")
        code = f"code-{next(self._issued)}"
        self._codes[code] = self.installing_team
        raise web.HTTPFound(f"{target}?{urlencode({'code': code, 'state': query.get('state', '')})}")

    def _access(self, authorization: str, params: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: a code (once) or a refresh token (once) for a new bot token of the code's team."""
        try:
            client = BasicAuth.decode(authorization) if authorization.startswith("Basic ") else None
        except ValueError:
            client = None
        if client is None or (client.login, client.password) != (CLIENT_ID, CLIENT_SECRET):
            return {"ok": False, "error": "invalid_client_id"}
        if params.get("grant_type") == "refresh_token":
            team = self._refresh_tokens.pop(str(params.get("refresh_token", "")), None)
            if team is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            return {"ok": True, "token_type": "bot", **self._issue(team)}
        team = self._codes.pop(str(params.get("code", "")), None)
        if team is None:
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "app_id": "A1",
            "token_type": "bot",
            "scope": "chat:write,users:read",
            "bot_user_id": _bot_user(team),
            "team": {"id": team, "name": f"Team {team}"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": f"UADMIN{team}"},
            **self._issue(team),
        }

    def _issue(self, team: str) -> dict[str, Any]:
        token = f"xoxb-{team}-{next(self._issued)}"
        self.valid_tokens.add(token)
        self.token_teams[token] = team
        if self.token_lifetime is None:
            return {"access_token": token}
        refresh = f"xoxe-1-{team}-{next(self._issued)}"
        self._refresh_tokens[refresh] = team
        self.token_expiry[token] = time.time() + self.token_lifetime
        return {"access_token": token, "refresh_token": refresh, "expires_in": self.token_lifetime}

    def revoke(self, team: str) -> None:
        """The team's tokens stop working (the app uninstalled there)."""
        for token in [t for t, owner in self.token_teams.items() if owner == team]:
            self.valid_tokens.discard(token)
        self._refresh_tokens = {r: owner for r, owner in self._refresh_tokens.items() if owner != team}

    # --- Socket Mode -------------------------------------------------------------------------------------
    async def link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        self._links.append(request)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self._wake.set()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                data = json.loads(message.data)
                if "envelope_id" in data:
                    self.acks.append(data)
                    if (delivered := self._in_flight.pop(data["envelope_id"], None)) is not None:
                        delivered.acked = True
        self._connection_lost(ws)
        return ws

    @property
    def connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    @property
    def open_connections(self) -> int:
        return sum(not ws.closed for ws in self._sockets)

    async def push(
        self, envelope_type: str, payload: dict[str, Any], *, retry_attempt: int = 0, connection: int = 0
    ) -> str:
        """Deliver one envelope through Socket Mode (over the n-th open connection, as Slack spreads envelopes
        across the connections of an app); returns its envelope id."""
        envelope_id = f"env-{len(self.acks)}-{time.monotonic_ns()}"
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "accepts_response_payload": envelope_type != "events_api",
            "payload": payload,
        }
        if retry_attempt:
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": "timeout"}
        open_sockets = [ws for ws in self._sockets if not ws.closed]
        await open_sockets[connection % len(open_sockets)].send_str(json.dumps(envelope))
        return envelope_id

    def acked(self, envelope_id: str) -> bool:
        return any(ack["envelope_id"] == envelope_id for ack in self.acks)

    @property
    def connections_made(self) -> int:
        """How many Socket Mode connections the client has opened so far."""
        return len(self._sockets)

    async def drop_connections(self, code: int = 1001) -> None:
        """Close every open Socket Mode connection with a close frame (Slack moving the app elsewhere)."""
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.close(code=code, message=b"going away")

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """A `disconnect` envelope on every open connection: the client is to open a new one."""
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.send_str(json.dumps({"type": "disconnect", "reason": reason,
                                              "debug_info": {"host": "fake-slack"}}))

    def sever_connections(self) -> None:
        """Cut every open connection without a close frame (the network failing): only pings can tell."""
        for request in self._links:
            if request.transport is not None and not request.transport.is_closing():
                request.transport.abort()

    # --- Slack's redelivery: envelopes a dead connection never acknowledged come again ----------------------
    async def deliver(self, envelope_type: str, payload: dict[str, Any]) -> _Envelope:
        """Queue one envelope: pushed in order over an open connection (waiting for one, if none is open) and
        pushed again, with `retry_attempt`, until the app acknowledges it (then its `acked` is set)."""
        item = _Envelope(envelope_type, payload)
        self._queue.append(item)
        self._wake.set()
        if self._pump is None:
            self._pump = asyncio.create_task(self._pump_envelopes())
        return item

    @property
    def undelivered(self) -> int:
        """Envelopes queued or pushed but not yet acknowledged."""
        return len(self._queue) + len(self._in_flight)

    def _connection_lost(self, ws: web.WebSocketResponse) -> None:
        """What went out over `ws` without an ack goes first on the next connection, in its order."""
        lost = [item for item in self._in_flight.values() if item.socket is ws]
        for item in lost:
            del self._in_flight[item.envelope_id]
        for item in sorted(lost, key=lambda item: item.order, reverse=True):
            self._queue.appendleft(item)
        self._wake.set()

    async def _pump_envelopes(self) -> None:
        order = itertools.count()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.retry_seconds is not None:
                stale = [i for i in self._in_flight.values() if time.monotonic() - i.sent_at > self.retry_seconds]
                for item in sorted(stale, key=lambda item: item.order, reverse=True):
                    del self._in_flight[item.envelope_id]
                    self._queue.appendleft(item)
            while self._queue:
                sockets = [ws for ws in self._sockets if not ws.closed and ws not in self._dead]
                if not sockets:
                    break
                item = self._queue.popleft()
                if item.attempts:
                    self.redelivered += 1
                item.order = item.order if item.attempts else next(order)
                item.envelope_id = f"env-{item.order}-{item.attempts}-{time.monotonic_ns()}"
                envelope = {
                    "envelope_id": item.envelope_id,
                    "type": item.type,
                    "accepts_response_payload": item.type != "events_api",
                    "payload": item.payload,
                }
                if item.attempts:
                    envelope |= {"retry_attempt": item.attempts, "retry_reason": "timeout"}
                item.attempts += 1
                item.socket, item.sent_at = sockets[0], time.monotonic()
                self._in_flight[item.envelope_id] = item
                try:
                    await sockets[0].send_str(json.dumps(envelope))
                except (ConnectionError, RuntimeError):
                    self._dead.add(sockets[0])
                    self._connection_lost(sockets[0])
            if self.retry_seconds is not None and self._in_flight:
                asyncio.get_running_loop().call_later(self.retry_seconds / 2, self._wake.set)

    # --- Slack's memory: posted messages with their metadata ----------------------------------------------
    def _remember(self, params: dict[str, Any], ts: str) -> None:
        self.posted.append(
            {
                "ts": ts,
                "channel": str(params.get("channel", "")),
                "thread_ts": params.get("thread_ts"),
                "text": params.get("text"),
                "blocks": params.get("blocks"),
                "metadata": params.get("metadata"),
                "bot_id": BOT_ID,
                "at": time.time(),
            }
        )

    def _history(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.history (a channel's top-level messages, newest first, since `oldest` by the fake's
        clock) or conversations.replies (a thread, oldest first); metadata only with include_all_metadata."""
        channel, oldest = str(params.get("channel", "")), float(params.get("oldest") or 0)
        if method == "conversations.replies":
            root = str(params.get("ts", ""))
            found = [m for m in self.posted if m["channel"] == channel and root in (m["ts"], m["thread_ts"])]
        else:
            found = [m for m in reversed(self.posted) if m["channel"] == channel and not m["thread_ts"]]
        with_metadata = str(params.get("include_all_metadata", "")).lower() in {"1", "true"}
        messages = [
            {"type": "message", "ts": m["ts"], "text": m["text"], "bot_id": m["bot_id"], "user": BOT_USER}
            | ({"thread_ts": m["thread_ts"]} if m["thread_ts"] else {})
            | ({"metadata": m["metadata"]} if with_metadata and m["metadata"] else {})
            for m in found
            if m["at"] >= oldest
        ]
        return {"messages": messages, "has_more": False}

    def _channels(self) -> dict[str, Any]:
        """conversations.list: the channels messages were posted to (in the fake, a channel's name is its id)."""
        names = sorted({m["channel"] for m in self.posted if not m["channel"].startswith("D")})
        return {"channels": [{"id": name, "name": name} for name in names], "response_metadata": {"next_cursor": ""}}

    # --- files upload v2 ---------------------------------------------------------------------------------
    async def upload(self, request: web.Request) -> web.Response:
        """An upload URL receives the file's bytes (Slack answers 200 with a short text)."""
        self.uploaded[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK - uploaded")

    def _complete_upload(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """files.completeUploadExternal: the uploaded files are shared into `channel_id` with the comment."""
        listed = params.get("files")
        items = json.loads(listed) if isinstance(listed, str) else list(listed or [])
        done = []
        for item in items:
            record = {"id": item["id"], "title": item.get("title"), "channel": params.get("channel_id"),
                      "initial_comment": params.get("initial_comment"), "content": self.uploaded.get(item["id"])}
            self.files.append(record)
            done.append({"id": item["id"], "title": item.get("title")})
        return done

    # --- response_url ------------------------------------------------------------------------------------
    async def respond(self, request: web.Request) -> web.Response:
        self.responses.append({"key": request.match_info["key"], **(await request.json())})
        return web.Response(text="ok")


def _bot_user(team: str) -> str:
    return BOT_USER if team == TEAM else f"UBOT{team}"


def _bot_id(team: str) -> str:
    return BOT_ID if team == TEAM else f"BBOT{team}"


@dataclass(eq=False)
class _Envelope:
    """One event or interaction Slack owes the app, until the app acknowledges it."""

    type: str
    payload: dict[str, Any]
    attempts: int = 0
    order: int = 0
    envelope_id: str = ""
    socket: web.WebSocketResponse | None = None
    sent_at: float = 0.0
    acked: bool = False


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params |= await request.json()
    elif request.can_read_body:
        params |= dict(await request.post())
    return params
