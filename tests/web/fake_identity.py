"""A local fake of Slack's OpenID Connect and Discord's OAuth2: authorize pages that consent at once, token
endpoints that check what the app sends, and the identity endpoints. Everything received is recorded."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

CLIENT_ID, CLIENT_SECRET = "123.456", "oidc-secret"
DISCORD_APP, DISCORD_SECRET = "987654321", "discord-secret"


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class FakeIdentity:
    def __init__(self) -> None:
        self.slack_user = ("T0TEAM", "U1")  # who signs in at Slack
        self.discord_user, self.discord_guilds = "222", ["111"]
        self.token_requests: list[dict[str, Any]] = []
        self._codes: dict[str, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/slack/authorize", self.slack_authorize)
        app.router.add_post("/api/openid.connect.token", self.slack_token)
        app.router.add_get("/discord/authorize", self.discord_authorize)
        app.router.add_post("/discord/api/oauth2/token", self.discord_token)
        app.router.add_get("/discord/api/users/@me", self.discord_me)
        app.router.add_get("/discord/api/users/@me/guilds", self.discord_guilds_of)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # --- Slack ---------------------------------------------------------------------------------------------
    async def slack_authorize(self, request: web.Request) -> web.Response:
        query = request.query
        code = secrets.token_hex(8)
        self._codes[code] = {"nonce": query.get("nonce"), "redirect_uri": query.get("redirect_uri"),
                             "client_id": query.get("client_id")}
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        raise web.HTTPFound(target)

    async def slack_token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):  # Slack takes the client's credentials as HTTP Basic auth or in the form
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
            form |= {"client_id": client_id, "client_secret": client_secret}
        self.token_requests.append({"provider": "slack", **form})
        granted = self._codes.pop(str(form.get("code")), None)
        if granted is None or form.get("client_secret") != CLIENT_SECRET or form.get("client_id") != CLIENT_ID \
                or form.get("redirect_uri") != granted["redirect_uri"]:
            return web.json_response({"ok": False, "error": "invalid_code"})
        team, user = self.slack_user
        claims = {"iss": "https://slack.com", "aud": granted["client_id"], "sub": user, "nonce": granted["nonce"],
                  "https://slack.com/team_id": team, "https://slack.com/user_id": user}
        return web.json_response({"ok": True, "access_token": "xoxp-openid", "id_token": _jwt(claims)})

    # --- Discord -------------------------------------------------------------------------------------------
    async def discord_authorize(self, request: web.Request) -> web.Response:
        query = request.query
        code = secrets.token_hex(8)
        self._codes[code] = {"redirect_uri": query.get("redirect_uri"), "client_id": query.get("client_id")}
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        raise web.HTTPFound(target)

    async def discord_token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({"provider": "discord", **form})
        granted = self._codes.pop(str(form.get("code")), None)
        if granted is None or form.get("client_secret") != DISCORD_SECRET or form.get("client_id") != DISCORD_APP:
            return web.json_response({"error": "invalid_grant"}, status=400)
        return web.json_response({"access_token": "discord-access", "token_type": "Bearer"})

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == "Bearer discord-access"

    async def discord_me(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "401: Unauthorized"}, status=401)
        return web.json_response({"id": self.discord_user, "username": "someone"})

    async def discord_guilds_of(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "401: Unauthorized"}, status=401)
        return web.json_response([{"id": guild, "name": f"Server {guild}"} for guild in self.discord_guilds])
