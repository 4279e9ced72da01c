"""A local fake of Slack for end-to-end tests: the Web API, a Socket Mode websocket and response_url targets.

Every Web API call is recorded as (method, params); Socket Mode envelopes are pushed to the connected client
and its acks recorded; `/respond/{key}` records what was sent to a response_url.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

TEAM = "T0TEAM"
BOT_USER = "UBOT"
BOT_ID = "BBOT"


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
        self.valid_tokens = {"xoxb-test", "xapp-1-test"}
        self.port = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # --- server ------------------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self.api)
        app.router.add_get("/api/{method}", self.api)
        app.router.add_get("/link", self.link)
        app.router.add_post("/respond/{key}", self.respond)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.port}/respond/{key}"

    # --- Web API -----------------------------------------------------------------------------------------
    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or str(params.get("token", ""))
        self.calls.append((method, params))
        if token not in self.valid_tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.rate_limited.get(method, 0) > 0:
            self.rate_limited[method] -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(self.retry_after)}
            )
        body: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            body |= {"team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID, "team": "Change Makers"}
        elif method == "apps.connections.open":
            body["url"] = f"ws://127.0.0.1:{self.port}/link"
        elif method in ("chat.postMessage", "chat.update"):
            body |= {"channel": params.get("channel"), "ts": params.get("ts") or f"1700000000.{next(self._ts):06d}"}
        elif method == "chat.postEphemeral":
            body["message_ts"] = f"1700000000.{next(self._ts):06d}"
        elif method == "conversations.open":
            body["channel"] = {"id": "D" + str(params.get("users", "")).lstrip("UW")}
        elif method == "users.info":
            user = str(params.get("user", ""))
            body["user"] = self.users.get(user, {"id": user, "name": user, "tz": "Europe/Berlin", "locale": "en-US"})
        return web.json_response(body)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    # --- Socket Mode -------------------------------------------------------------------------------------
    async def link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                data = json.loads(message.data)
                if "envelope_id" in data:
                    self.acks.append(data)
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

    # --- response_url ------------------------------------------------------------------------------------
    async def respond(self, request: web.Request) -> web.Response:
        self.responses.append({"key": request.match_info["key"], **(await request.json())})
        return web.Response(text="ok")


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params |= await request.json()
    elif request.can_read_body:
        params |= dict(await request.post())
    return params
