"""A local fake of Discord for end-to-end tests: the REST routes Steward uses and a gateway websocket.

The REST side records every call (method, path, JSON body) and answers with payloads shaped like Discord's.
The gateway speaks the real protocol with plain-text JSON frames: HELLO, IDENTIFY -> READY + GUILD_CREATE,
heartbeats, RESUME (replaying from one event before the client's sequence, as a flaky link would), and
dispatches pushed by the test.

Platform faults to script: 429s with Discord's rate-limit headers (`rate_limit_next`, `rate_limit_retry_after`),
5xx answers (`server_errors`), answers later than the client waits (`slow_posts`; the post takes effect), a
refused token (`revoked`: 401 on REST, 4004 on the gateway), a channel answering 403 Missing Access or 404 Unknown
Channel (`channel_errors`), and the gateway closed (`drop`) or its session invalidated (`invalidate_session`).
Posts with `enforce_nonce` are deduplicated by their nonce, as Discord does.

Sharding and several servers: `GET /gateway/bot` recommends `shard_count` shards; each IDENTIFY names its shard
(`[id, count]`) and gets READY and GUILD_CREATE for the servers Discord's formula puts there
(`(guild_id >> 22) % count`); a dispatch goes to the shard of its server. Besides the main server (`GUILD_ID`,
built from `channels`, `members`, `roles`), `guilds` holds more servers (see `guild`); `join` adds one while the
bot runs (GUILD_CREATE without `unavailable`), `leave` removes one (GUILD_DELETE) or reports its outage.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

TOKEN = "fake-token"
APP_ID = "700000000000000001"
BOT_ID = "700000000000000002"
GUILD_ID = "800000000000000001"
TIMESTAMP = "2024-03-04T09:00:00.000000+00:00"
_ids = itertools.count(900000000000000001)


def snowflake() -> str:
    return str(next(_ids))


def user(uid: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": uid, "username": name, "global_name": name, "discriminator": "0", "avatar": None, "bot": bot,
            "public_flags": 0}


def member(uid: str, name: str, roles: tuple[str, ...] = (), permissions: str = "0") -> dict[str, Any]:
    return {"user": user(uid, name), "roles": list(roles), "joined_at": TIMESTAMP, "deaf": False, "mute": False,
            "flags": 0, "nick": None, "avatar": None, "pending": False, "permissions": permissions}


def text_channel(cid: str, name: str, guild_id: str = GUILD_ID) -> dict[str, Any]:
    return {"id": cid, "type": 0, "guild_id": guild_id, "name": name, "position": 0, "permission_overwrites": [],
            "parent_id": None, "nsfw": False, "topic": None, "rate_limit_per_user": 0, "last_message_id": None}


def forum_channel(cid: str, name: str, tags: dict[str, str]) -> dict[str, Any]:
    return {**text_channel(cid, name), "type": 15, "flags": 0, "default_sort_order": None,
            "default_forum_layout": 0, "default_reaction_emoji": None,
            "available_tags": [{"id": tid, "name": tname, "moderated": False, "emoji_id": None, "emoji_name": None}
                               for tid, tname in tags.items()]}


def thread(tid: str, parent: str, owner: str, name: str, applied_tags: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"id": tid, "type": 11, "guild_id": GUILD_ID, "parent_id": parent, "owner_id": owner, "name": name,
            "message_count": 1, "member_count": 1, "rate_limit_per_user": 0, "last_message_id": tid, "flags": 0,
            "applied_tags": list(applied_tags),
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": TIMESTAMP,
                                "locked": False}}


def message(mid: str, channel: str, author: dict[str, Any], content: str, *, timestamp: str = TIMESTAMP,
            reply_to: str | None = None, components: list[Any] | None = None, guild: bool = True,
            guild_id: str = GUILD_ID) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": mid, "channel_id": channel, "author": author, "content": content, "timestamp": timestamp,
        "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": [], "pinned": False, "type": 19 if reply_to else 0, "flags": 0,
        "components": components or [],
    }
    if guild:
        data["guild_id"] = guild_id
        data["member"] = {"roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False, "flags": 0}
    if reply_to:
        data["message_reference"] = {"message_id": reply_to, "channel_id": channel, "guild_id": guild_id}
    return data


def everyone_role(guild_id: str) -> dict[str, Any]:
    """@everyone may read and write; everything else is granted per member."""
    return {"id": guild_id, "name": "@everyone", "permissions": str((1 << 10) | (1 << 11)), "position": 0,
            "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}


def guild(gid: str, name: str, *, channels: list[dict[str, Any]] | None = None,
          members: list[dict[str, Any]] | None = None, roles: list[dict[str, Any]] | None = None,
          owner_id: str = "1", system_channel_id: str | None = None, preferred_locale: str = "en-US",
          threads: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A full GUILD_CREATE payload; the bot is a member (so it knows its own permissions there)."""
    bot = {**member(BOT_ID, "Steward"), "user": user(BOT_ID, "Steward", bot=True)}
    everyone = [*(members or []), bot]
    return {
        "id": gid, "name": name, "owner_id": owner_id, "roles": roles or [everyone_role(gid)], "emojis": [],
        "stickers": [], "features": [], "members": everyone, "channels": channels or [],
        "threads": threads or [], "member_count": len(everyone), "large": False, "unavailable": False,
        "joined_at": TIMESTAMP, "presences": [], "voice_states": [], "stage_instances": [],
        "guild_scheduled_events": [], "soundboard_sounds": [], "preferred_locale": preferred_locale,
        "premium_tier": 0, "verification_level": 0, "default_message_notifications": 0,
        "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0, "system_channel_id": system_channel_id,
        "afk_channel_id": None, "afk_timeout": 300, "icon": None, "splash": None, "banner": None,
        "description": None, "vanity_url_code": None, "premium_subscription_count": 0,
    }


def shard_of(guild_id: str | int, shards: int) -> int:
    """The shard Discord puts a server on."""
    return (int(guild_id) >> 22) % shards


@dataclass
class Call:
    method: str
    path: str
    body: Any

    def __repr__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class FakeDiscord:
    """Start with `await fake.start()`; `rest_url`/`gateway_url` go into the settings."""

    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    closed_dms: set[str] = field(default_factory=set)
    rate_limit_next: int = 0  # how many message posts answer 429 before one succeeds
    refuse_privileged: bool = False
    identifies: int = 0
    resumes: int = 0
    rate_limit_retry_after: float = 0.3
    server_errors: int = 0  # how many message posts answer `server_error_status` before one succeeds
    server_error_status: int = 503
    slow_posts: int = 0  # how many message posts are answered only after `slow_seconds` (they take effect)
    slow_seconds: float = 1.0
    revoked: bool = False  # the bot token was reset: REST answers 401, the gateway closes with 4004
    channel_errors: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # channel -> (status, code, text)
    shard_count: int = 1  # what GET /gateway/bot recommends
    guilds: dict[str, dict[str, Any]] = field(default_factory=dict)  # more servers than GUILD_ID: id -> `guild(...)`
    held_shards: set[int] = field(default_factory=set)  # shards whose IDENTIFY waits for `release()`

    def __post_init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_get("/gateway", self._gateway)
        self.app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.ws: web.WebSocketResponse | None = None  # the latest connection (with one shard: the connection)
        self.sockets: dict[int, web.WebSocketResponse] = {}  # shard id -> its connection
        self.shards = 1  # the shard count the client identified with
        self.identified: list[list[int]] = []  # the `shard` field of every IDENTIFY
        self._held: list[tuple[web.WebSocketResponse, dict[str, Any]]] = []
        self.sequence = 0
        self.sent: list[tuple[int, dict[str, Any]]] = []  # every dispatch with its shard, for RESUME replays
        self.dm_channels: dict[str, str] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.nonces: dict[tuple[str, str], str] = {}  # (channel, nonce) -> the message posted with it
        self.attached: dict[str, list[dict[str, Any]]] = {}  # message id -> its files: filename, content (bytes)
        if not self.roles:
            self.roles.append(everyone_role(GUILD_ID))
        for served in self.guilds.values():
            self.channels.update({c["id"]: c for c in served["channels"]})

    # --- life cycle ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    # --- gateway -------------------------------------------------------------------------------------------
    async def dispatch(self, kind: str, data: dict[str, Any]) -> None:
        """Send an event on the shard of its server (DMs and server-less events: shard 0)."""
        server = data.get("guild_id") or (data.get("id") if kind.startswith("GUILD_") else None)
        shard = shard_of(server, self.shards) if server else 0
        self.sequence += 1
        frame = {"op": 0, "t": kind, "s": self.sequence, "d": data}
        self.sent.append((shard, frame))
        ws = self.sockets.get(shard, self.ws)
        assert ws is not None, "no client connected"
        await ws.send_str(json.dumps(frame))

    async def join(self, payload: dict[str, Any]) -> None:
        """The bot is added to a server while it runs: GUILD_CREATE without `unavailable`, as Discord sends it."""
        self.guilds[payload["id"]] = payload
        self.channels.update({c["id"]: c for c in payload["channels"]})
        await self.dispatch("GUILD_CREATE", {k: v for k, v in payload.items() if k != "unavailable"})

    async def leave(self, gid: str, *, outage: bool = False) -> None:
        """GUILD_DELETE: the bot removed from the server, or (`outage`) the server unavailable for a while."""
        if outage:
            await self.dispatch("GUILD_DELETE", {"id": gid, "unavailable": True})
            return
        self.guilds.pop(gid, None)
        await self.dispatch("GUILD_DELETE", {"id": gid})

    async def reconnect(self) -> None:
        """Ask the client to reconnect (op 7); it comes back with RESUME."""
        assert self.ws is not None
        await self.ws.send_str(json.dumps({"op": 7, "d": None}))

    async def drop(self, code: int = 4000) -> None:
        """Close the gateway connection as a failing Discord server does; the client resumes (or, for 4004 and
        the other fatal codes, gives up)."""
        assert self.ws is not None
        await self.ws.close(code=code, message=b"dropped")

    async def invalidate_session(self) -> None:
        """Op 9 with d=false: the session cannot be resumed; the client identifies again."""
        assert self.ws is not None
        await self.ws.send_str(json.dumps({"op": 9, "d": False}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws = ws
        self.sockets.setdefault(0, ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            payload = json.loads(msg.data)
            op = payload["op"]
            if op == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                await self._identify(ws, payload["d"])
            elif op == 6:
                await self._resume(ws, payload["d"])
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identifies += 1
        if data["token"] != TOKEN or self.revoked:
            await ws.close(code=4004)
            return
        if self.refuse_privileged and data["intents"] & ((1 << 1) | (1 << 15)):
            await ws.close(code=4014)
            return
        self.intents = data["intents"]
        shard = data.get("shard") or [0, 1]
        if shard[0] in self.held_shards:
            self._held.append((ws, data))  # READY comes with `release()`
            return
        shard_id, self.shards = shard
        self.identified.append(shard)
        self.sockets[shard_id] = ws
        served = [g for g in [self._main_guild(), *self.guilds.values()] if shard_of(g["id"], self.shards) == shard_id]
        await self.dispatch_on(ws, shard_id, "READY", {
            "v": 10, "user": user(BOT_ID, "Steward", bot=True), "shard": shard,
            "guilds": [{"id": g["id"], "unavailable": True} for g in served],
            "session_id": f"session-{shard_id}", "resume_gateway_url": self.gateway_url,
            "application": {"id": APP_ID, "flags": 0},
        })
        for payload in served:
            await self.dispatch_on(ws, shard_id, "GUILD_CREATE", payload)

    async def release(self) -> None:
        """Answer the held IDENTIFYs: their shards get READY and their servers now."""
        self.held_shards.clear()
        held, self._held = self._held, []
        for ws, data in held:
            self.identifies -= 1  # counted when it arrived
            await self._identify(ws, data)

    def _main_guild(self) -> dict[str, Any]:
        mine = [c for c in self.channels.values() if c.get("guild_id", GUILD_ID) == GUILD_ID]
        return {**guild(GUILD_ID, "Change Community", channels=[c for c in mine if c["type"] != 11],
                        threads=[c for c in mine if c["type"] == 11], roles=self.roles),
                "members": list(self.members.values()), "member_count": len(self.members)}

    async def dispatch_on(self, ws: web.WebSocketResponse, shard: int, kind: str, data: dict[str, Any]) -> None:
        self.sequence += 1
        frame = {"op": 0, "t": kind, "s": self.sequence, "d": data}
        self.sent.append((shard, frame))
        await ws.send_str(json.dumps(frame))

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        """Replay from one event before the client's sequence: the last event arrives twice."""
        self.resumes += 1
        if self.revoked:
            await ws.close(code=4004)
            return
        shard = int(str(data["session_id"]).rsplit("-", 1)[-1])
        self.sockets[shard] = ws
        for on, frame in self.sent:
            if on == shard and frame["s"] >= data["seq"] and frame["t"] not in {"READY", "GUILD_CREATE"}:
                await ws.send_str(json.dumps(frame))
        self.sequence += 1
        await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": self.sequence, "d": {}}))

    # --- REST ----------------------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body = await request.json() if request.can_read_body and request.content_type == "application/json" else None
        if request.content_type == "multipart/form-data":  # a message with attachments: payload_json + files[n]
            body = await _multipart(request)
        self.calls.append(Call(request.method, path, body))
        interaction_route = path.startswith(("/interactions/", "/webhooks/"))  # authorised by their token
        if not interaction_route and (request.headers.get("Authorization") != f"Bot {TOKEN}" or self.revoked):
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        for method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if method == request.method and match:
                result: web.Response = await handler(request, body, *match.groups())
                return result
        return _json({"message": f"fake has no route {request.method} {path}", "code": 0}, 404)

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"/users/@me", self._me),
            ("GET", r"/gateway/bot", self._gateway_bot),
            ("GET", r"/oauth2/applications/@me", self._application),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self._sync_commands),
            ("PUT", r"/applications/(\d+)/commands", self._sync_commands_global),
            ("POST", r"/channels/(\d+)/messages", self._post_message),
            ("POST", r"/channels/(\d+)/threads", self._forum_post),
            ("PATCH", r"/channels/(\d+)/messages/(\d+)", self._edit_message),
            ("PUT", r"/channels/(\d+)/messages/(\d+)/reactions/([^/]+)/@me", self._no_content),
            ("PUT", r"/channels/(\d+)/messages/pins/(\d+)", self._no_content),
            ("GET", r"/channels/(\d+)", self._get_channel),
            ("PATCH", r"/channels/(\d+)", self._edit_channel),
            ("POST", r"/users/@me/channels", self._open_dm),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._interaction_callback),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self._followup),
        ]

    async def _me(self, request: web.Request, body: Any) -> web.Response:
        return _json(user(BOT_ID, "Steward", bot=True))

    async def _gateway_bot(self, request: web.Request, body: Any) -> web.Response:
        return _json({"url": self.gateway_url, "shards": self.shard_count,
                      "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                              "max_concurrency": 1}})

    async def _application(self, request: web.Request, body: Any) -> web.Response:
        return _json({"id": APP_ID, "name": "Steward", "description": "", "icon": None, "bot_public": False,
                      "bot_require_code_grant": False, "owner": user("1", "owner"), "verify_key": "0" * 64,
                      "flags": 0})

    async def _sync_commands(self, request: web.Request, body: Any, app: str, guild: str) -> web.Response:
        return _json([{"description": "", **c, "id": snowflake(), "application_id": app, "guild_id": guild,
                       "version": "1", "default_member_permissions": None, "dm_permission": True, "nsfw": False}
                      for c in body or []])

    async def _sync_commands_global(self, request: web.Request, body: Any, app: str) -> web.Response:
        return _json([{"description": "", **c, "id": snowflake(), "application_id": app, "version": "1"}
                      for c in body or []])

    async def _post_message(self, request: web.Request, body: Any, channel: str) -> web.Response:
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            wait = f"{self.rate_limit_retry_after:g}"
            return _json({"message": "You are being rate limited.", "retry_after": self.rate_limit_retry_after,
                          "global": False}, 429,
                         headers={"Retry-After": wait, "Via": "1.1 google", "X-RateLimit-Scope": "user",
                                  "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                                  "X-RateLimit-Reset-After": wait, "X-RateLimit-Bucket": "fake-messages"})
        if self.server_errors > 0:
            self.server_errors -= 1
            return web.Response(status=self.server_error_status, text="upstream connect error")
        if channel in self.channel_errors:
            status, code, text = self.channel_errors[channel]
            return _json({"message": text, "code": code}, status)
        recipient = next((u for u, c in self.dm_channels.items() if c == channel), None)
        if recipient in self.closed_dms:
            return _json({"message": "Cannot send messages to this user", "code": 50007}, 403)
        if channel not in self.channels and recipient is None:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        nonce = str(body.get("nonce") or "")
        if body.get("enforce_nonce") and (channel, nonce) in self.nonces:
            return _json(self.messages[self.nonces[(channel, nonce)]])  # Discord answers with the first message
        mid = snowflake()
        data = message(mid, channel, user(BOT_ID, "Steward", bot=True), body.get("content") or "",
                       components=body.get("components"), guild=recipient is None)
        data["embeds"] = body.get("embeds") or []
        data["nonce"] = body.get("nonce")
        files = body.get("_files") or []
        data["attachments"] = [
            {"id": snowflake(), "filename": f["filename"], "size": len(f["content"]), "url": f"{self.rest_url}/a",
             "proxy_url": f"{self.rest_url}/a"}
            for f in files
        ]
        self.attached[mid] = files
        self.messages[mid] = data
        if nonce:
            self.nonces[(channel, nonce)] = mid
        if self.slow_posts > 0:
            self.slow_posts -= 1
            await asyncio.sleep(self.slow_seconds)  # the message is posted; only the answer is late
        return _json(data, headers={"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4",
                                    "X-RateLimit-Reset-After": "1.0", "X-RateLimit-Bucket": "fake-messages"})

    async def _forum_post(self, request: web.Request, body: Any, forum: str) -> web.Response:
        """A new forum post: the thread, with its starter message (same id) inside."""
        tid = snowflake()
        self.channels[tid] = thread(tid, forum, BOT_ID, body["name"])
        starter = message(tid, tid, user(BOT_ID, "Steward", bot=True), body["message"].get("content") or "")
        starter["embeds"] = body["message"].get("embeds") or []
        self.messages[tid] = starter
        return _json({**self.channels[tid], "message": starter})

    async def _edit_message(self, request: web.Request, body: Any, channel: str, mid: str) -> web.Response:
        data = {**self.messages.get(mid, message(mid, channel, user(BOT_ID, "Steward", bot=True), "")), **body}
        self.messages[mid] = data
        return _json(data)

    async def _no_content(self, request: web.Request, body: Any, *ids: str) -> web.Response:
        return web.Response(status=204)

    async def _get_channel(self, request: web.Request, body: Any, cid: str) -> web.Response:
        if cid in self.channels:
            return _json(self.channels[cid])
        return _json({"message": "Unknown Channel", "code": 10003}, 404)

    async def _edit_channel(self, request: web.Request, body: Any, cid: str) -> web.Response:
        self.channels[cid] = {**self.channels[cid], **body}
        return _json(self.channels[cid])

    async def _open_dm(self, request: web.Request, body: Any) -> web.Response:
        recipient = str(body["recipient_id"])
        channel = self.dm_channels.setdefault(recipient, snowflake())
        return _json({"id": channel, "type": 1, "last_message_id": None,
                      "recipients": [self.members.get(recipient, {}).get("user") or user(recipient, recipient)]})

    async def _interaction_callback(self, request: web.Request, body: Any, iid: str, token: str) -> web.Response:
        resource: dict[str, Any] = {"type": body["type"]}
        if body["type"] == 4:
            resource["message"] = message(snowflake(), "0", user(BOT_ID, "Steward", bot=True),
                                          body["data"].get("content") or "")
        return _json({"interaction": {"id": iid, "type": 2, "response_message_loading": body["type"] == 5},
                      "resource": resource})

    async def _followup(self, request: web.Request, body: Any, app: str, token: str) -> web.Response:
        data = message(snowflake(), "0", user(BOT_ID, "Steward", bot=True), body.get("content") or "")
        data["embeds"] = body.get("embeds") or []
        data["flags"] = body.get("flags", 0)
        return _json(data)

    # --- interactions a member triggers -----------------------------------------------------------------------
    def interaction(self, kind: int, data: dict[str, Any], *, channel: str, member_id: str,
                    message_data: dict[str, Any] | None = None, locale: str = "en-US") -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": snowflake(), "application_id": APP_ID, "type": kind, "data": data, "guild_id": GUILD_ID,
            "channel_id": channel, "channel": self.channels.get(channel, text_channel(channel, "x")),
            "member": self.members[member_id], "token": f"token-{snowflake()}", "version": 1, "locale": locale,
            "guild_locale": "en-US", "app_permissions": "0", "entitlements": [], "authorizing_integration_owners": {},
            "context": 0, "attachment_size_limit": 8388608,
        }
        if message_data is not None:
            payload["message"] = message_data
        return payload

    def followups(self) -> list[Call]:
        return self.calls_to("POST", r"/webhooks/\d+/[^/]+")


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Exactly `application/json`: discord.py parses JSON only with that content type."""
    return web.Response(body=json.dumps(data).encode(), status=status, content_type="application/json",
                        headers=headers)


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    """Poll until `predicate()` is true (instead of sleeping a fixed time)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def _multipart(request: web.Request) -> dict[str, Any]:
    """A multipart message body: its JSON part, and the files attached (kept with their bytes)."""
    body: dict[str, Any] = {"_files": []}
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "payload_json":
            body.update(json.loads(await part.text()))
        elif part.filename:
            body["_files"].append({"filename": part.filename, "content": bytes(await part.read())})
    return body
