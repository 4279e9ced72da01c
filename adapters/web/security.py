"""Sessions in signed cookies, a CSRF token on every form, and headers that keep the pages to themselves."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "steward_portal"
SESSION_AGE = timedelta(days=14)

HEADERS = {
    # No scripts at all; pygal's inline SVG brings its own <style>; forms post only here; no framing.
    "content-security-policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",  # a sign-in link's token must not travel on as a referrer
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecureHeaders:
    """Adds the headers above to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items() if k.encode() not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class Sessions:
    """Starlette's signed-cookie sessions, keyed with the secret the app's lifespan loads from the database."""

    def __init__(self, app: ASGIApp, *, https_only: bool = False) -> None:
        self.app = app
        self.https_only = https_only
        self._inner: SessionMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self._inner is None:
            self._inner = SessionMiddleware(
                self.app, secret_key=scope["app"].state.session_key, session_cookie=SESSION_COOKIE,
                max_age=int(SESSION_AGE.total_seconds()), same_site="lax", https_only=self.https_only,
            )
        await self._inner(scope, receive, send)


def csrf_token(request: Request) -> str:
    """The session's form token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


def csrf_ok(request: Request, form: Any) -> bool:
    sent, expected = form.get("csrf"), request.session.get("csrf")
    return isinstance(sent, str) and isinstance(expected, str) and secrets.compare_digest(sent, expected)
