"""Signing in with Slack (OpenID Connect) or Discord (OAuth2): the platform says who the member is.

Each flow keeps a random `state` (and for Slack a `nonce`) in the session, so a callback that Steward did not
start is refused. The identity decides the community: a Slack team, or the Discord servers the member shares
with Steward; a member Steward has never seen there is told so rather than signed in.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from adapters.web.access import viewer_for
from adapters.web.pages import render
from adapters.web.security import csrf_ok
from bot.app.errands.portal import portal_address
from bot.settings import Settings

logger = logging.getLogger(__name__)

DISCORD_API = "https://discord.com/api/v10"
TIMEOUT = aiohttp.ClientTimeout(total=15)


class SignInFailed(Exception):
    """The platform did not confirm who the member is; the message is for the log."""


def slack_ready(settings: Settings) -> bool:
    return bool(settings.web_slack_client_id and settings.web_slack_client_secret)


def discord_ready(settings: Settings) -> bool:
    return bool(settings.discord_application_id and settings.web_discord_client_secret)


def _callback(settings: Settings, provider: str) -> str:
    base = portal_address(settings.web_base_url, settings.web_host, settings.web_port)
    return f"{base}/signin/{provider}/callback"


async def sign_in_options(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    return render(request, "sign_in_options.html.j2", None, slack=slack_ready(settings),
                  discord=discord_ready(settings))


async def slack_start(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not slack_ready(settings):
        raise HTTPException(404)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    request.session["oauth"] = {"provider": "slack", "state": state, "nonce": nonce}
    query = urlencode({
        "response_type": "code", "scope": "openid profile", "client_id": settings.web_slack_client_id,
        "state": state, "nonce": nonce, "redirect_uri": _callback(settings, "slack"),
    })
    return RedirectResponse(f"{settings.web_slack_authorize_url}?{query}", status_code=303)


async def discord_start(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not discord_ready(settings):
        raise HTTPException(404)
    state = secrets.token_urlsafe(24)
    request.session["oauth"] = {"provider": "discord", "state": state}
    query = urlencode({
        "response_type": "code", "scope": "identify guilds", "client_id": settings.discord_application_id,
        "state": state, "redirect_uri": _callback(settings, "discord"), "prompt": "none",
    })
    return RedirectResponse(f"{settings.web_discord_authorize_url}?{query}", status_code=303)


async def slack_callback(request: Request) -> Response:
    started = _started(request, "slack")
    settings: Settings = request.app.state.settings
    try:
        team, user = await _slack_identity(settings, str(request.query_params.get("code", "")), started["nonce"])
    except SignInFailed as exc:
        logger.warning("Sign in with Slack failed: %s", exc)
        return render(request, "message.html.j2", None, status=400, message_key="portal.platform_sign_in_failed")
    return await _enter(request, [f"slack:{team}"], user)


async def discord_callback(request: Request) -> Response:
    _started(request, "discord")
    settings: Settings = request.app.state.settings
    try:
        user, guilds = await _discord_identity(settings, str(request.query_params.get("code", "")))
    except SignInFailed as exc:
        logger.warning("Sign in with Discord failed: %s", exc)
        return render(request, "message.html.j2", None, status=400, message_key="portal.platform_sign_in_failed")
    return await _enter(request, [f"discord:{guild}" for guild in guilds], user)


async def choose_community(request: Request) -> Response:
    """A member of several communities picks one (the choice was offered after the platform's sign-in)."""
    form = await request.form()
    pending = request.session.get("choose")
    if not csrf_ok(request, form) or not isinstance(pending, dict):
        raise HTTPException(403)
    workspace = str(form.get("workspace", ""))
    if workspace not in pending.get("workspaces", []):
        raise HTTPException(400)
    return _signed_in(request, workspace, str(pending["member"]))


def _started(request: Request, provider: str) -> dict[str, str]:
    """The flow this session started; a callback without one, or with another state, is refused."""
    started = request.session.pop("oauth", None)
    state = request.query_params.get("state", "")
    if not isinstance(started, dict) or started.get("provider") != provider:
        raise HTTPException(403)
    if not secrets.compare_digest(str(started.get("state", "")), state) or "error" in request.query_params:
        raise HTTPException(403)
    return {str(k): str(v) for k, v in started.items()}


async def _enter(request: Request, workspaces: list[str], member: str) -> Response:
    """Sign in to the one community the member is known in, offer a choice of several, or say none."""
    settings: Settings = request.app.state.settings
    known = []
    for workspace in workspaces:
        viewer = await viewer_for(request.app.state.db, workspace, member, settings.facilitator_ids,
                                  settings.facilitators_channel)
        if viewer is not None:
            known.append(viewer.community)
    if not known:
        logger.info("platform sign-in by %s: not a member Steward knows", member)
        return render(request, "message.html.j2", None, status=403, message_key="portal.unknown_member")
    if len(known) == 1:
        return _signed_in(request, known[0].id, member)
    request.session["choose"] = {"member": member, "workspaces": [c.id for c in known]}
    return render(request, "choose_community.html.j2", None, communities=known)


def _signed_in(request: Request, workspace: str, member: str) -> Response:
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    request.session["who"] = {"workspace": workspace, "member": member}
    logger.info("portal sign-in for %s in %s through the platform", member, workspace)
    return RedirectResponse("/", status_code=303)


async def _slack_identity(settings: Settings, code: str, nonce: str) -> tuple[str, str]:
    """(team id, user id) from Slack's ID token, after checking it is for this app and this sign-in."""
    if not code:
        raise SignInFailed("no code in the callback")
    assert settings.web_slack_client_id and settings.web_slack_client_secret
    client = AsyncWebClient(base_url=settings.slack_api_url)
    try:
        answer = await client.openid_connect_token(
            client_id=settings.web_slack_client_id,
            client_secret=settings.web_slack_client_secret.get_secret_value(),
            code=code, redirect_uri=_callback(settings, "slack"),
        )
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        raise SignInFailed(f"openid.connect.token: {_reason(exc)}") from None
    # Received straight from Slack's token endpoint over TLS: OpenID Connect lets the client trust the issuer
    # without checking the signature; the audience and nonce still tie it to this app and this sign-in.
    claims = _jwt_claims(str(answer.get("id_token", "")))
    if claims.get("aud") != settings.web_slack_client_id or claims.get("nonce") != nonce:
        raise SignInFailed("the ID token is for another app or another sign-in")
    team, user = claims.get("https://slack.com/team_id"), claims.get("https://slack.com/user_id")
    if not isinstance(team, str) or not isinstance(user, str) or not team or not user:
        raise SignInFailed("the ID token names no team or user")
    return team, user


async def _discord_identity(settings: Settings, code: str) -> tuple[str, list[str]]:
    """(user id, ids of the servers the member is in) from Discord's OAuth2 API."""
    if not code:
        raise SignInFailed("no code in the callback")
    assert settings.discord_application_id and settings.web_discord_client_secret
    api = (settings.discord_api_url or DISCORD_API).rstrip("/")
    form = {
        "client_id": settings.discord_application_id,
        "client_secret": settings.web_discord_client_secret.get_secret_value(),
        "grant_type": "authorization_code", "code": code, "redirect_uri": _callback(settings, "discord"),
    }
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            token = await _json(await http.post(f"{api}/oauth2/token", data=form), "oauth2/token")
            bearer = {"Authorization": f"Bearer {token.get('access_token', '')}"}
            me = await _json(await http.get(f"{api}/users/@me", headers=bearer), "users/@me")
            guilds = await _json(await http.get(f"{api}/users/@me/guilds", headers=bearer), "users/@me/guilds")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SignInFailed(_reason(exc)) from None
    user = me.get("id") if isinstance(me, dict) else None
    if not isinstance(user, str) or not isinstance(guilds, list):
        raise SignInFailed("Discord named no user or servers")
    return user, [str(g["id"]) for g in guilds if isinstance(g, dict) and g.get("id")]


async def _json(response: aiohttp.ClientResponse, what: str) -> Any:
    async with response:
        if response.status != 200:
            raise SignInFailed(f"{what} answered {response.status}")
        try:
            return await response.json(content_type=None)
        except (ValueError, aiohttp.ContentTypeError):
            raise SignInFailed(f"{what} answered no JSON") from None


def _jwt_claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        raise SignInFailed("the ID token cannot be read") from None
    if not isinstance(claims, dict):
        raise SignInFailed("the ID token holds no claims")
    return claims


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "error")) if exc.response is not None else "error"
    return type(exc).__name__

