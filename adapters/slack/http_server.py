"""Slack's HTTP mode: every request is authenticated before slack-bolt parses any of it.

Bolt parses the body and the timestamp before its own signature check can fail, so a forged request with a
damaged body, a timestamp that is not a whole number or a signature with non-ASCII characters used to end in
an HTTP 500 and a traceback, and unsigned bodies of up to 1 MiB were read and parsed. Here the headers are
checked first, then the size (before the body is read), then the signature (slack_sdk's `SignatureVerifier`)
and its age, then whether the same signed request was seen before. Only then does bolt see the request.

A rejection is a 4xx answer and one log line, never a traceback. Replays: a signed request is remembered by
its (timestamp, signature) for as long as its timestamp is accepted; a second identical request is refused.
Slack retries Events API deliveries that failed or timed out and marks them with `X-Slack-Retry-Num` (1-3);
such a retry is let through once per retry number, because the `event_id` deduplication (`SeenEvents` and the
engine's processed ids) makes sure the event is processed once. Commands and clicks are never retried by
Slack, so a repeat of one is always refused, header or not.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import Clock, SignatureVerifier

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 5 * 60  # Slack's rule: a request signed longer ago (or ahead) than this is refused
MAX_RETRY_NUM = 3  # Slack retries an Events API delivery at most three times
READ_CHUNK = 16 * 1024

_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() also accepts "١٢٣" and "①"
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_RETRY_NUM = re.compile(r"[1-9]")


class Rejected(Exception):
    """A request that does not reach bolt: the HTTP status to answer and the reason to log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _Clock(Clock):
    """slack_sdk's clock interface over the guard's time source (tests move it)."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


class SeenSignatures:
    """Signed requests already admitted, by (timestamp, signature), for as long as their timestamp is accepted."""

    def __init__(self, window: float = MAX_AGE_SECONDS) -> None:
        self.window = window
        self._seen: OrderedDict[tuple[str, str], tuple[float, set[int]]] = OrderedDict()

    def admit(self, timestamp: str, signature: str, *, retry: int | None, event: bool, now: float) -> bool:
        """Whether this request may pass: the first time, or as a new Slack retry of an Events API delivery."""
        self._forget_expired(now)
        key = (timestamp, signature)
        known = self._seen.get(key)
        if known is None:
            self._seen[key] = (int(timestamp) + self.window, {retry or 0})
            return True
        _, retries = known
        if retry is None or not event or retry in retries:
            return False
        retries.add(retry)
        return True

    def _forget_expired(self, now: float) -> None:
        """Drop pairs whose timestamp is too old to be accepted again (insertion order is roughly time order)."""
        while self._seen:
            key, (expires, _) = next(iter(self._seen.items()))
            if expires >= now:
                break
            del self._seen[key]

    def __len__(self) -> int:
        return len(self._seen)


class RequestGuard:
    """Decides whether an HTTP request really comes from Slack, reading at most `max_body` bytes of it."""

    def __init__(self, signing_secret: str, *, max_body: int, now: Callable[[], float] = time.time) -> None:
        self.max_body = max_body
        self.now = now
        self.verifier = SignatureVerifier(signing_secret, clock=_Clock(now))
        self.seen = SeenSignatures()

    async def admit(self, request: web.Request) -> str:
        """The request's body, once it is known to be a fresh, signed request from Slack; else `Rejected`."""
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        if timestamp is None or signature is None:
            raise Rejected(401, "no signature headers")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Rejected(401, "timestamp is not a whole number of seconds")
        if not _SIGNATURE.fullmatch(signature):
            raise Rejected(401, "malformed signature")
        age = self.now() - int(timestamp)
        if abs(age) > MAX_AGE_SECONDS:
            raise Rejected(401, f"timestamp {'too old' if age > 0 else 'in the future'} ({int(age)} s)")
        raw = await self._read(request)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected(400, "body is not UTF-8") from None
        if not self.verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
            raise Rejected(401, "signature does not match the body")
        payload = _payload(body, request.content_type)
        if payload is None:
            raise Rejected(400, "signed body is not a Slack payload")
        retry = _retry_num(request.headers.get("X-Slack-Retry-Num"))
        event = payload.get("type") == "event_callback" and bool(payload.get("event_id"))
        if not self.seen.admit(timestamp, signature, retry=retry, event=event, now=self.now()):
            raise Rejected(401, "replayed request")
        return body

    async def _read(self, request: web.Request) -> bytes:
        """The body, refusing before reading when it says it is too large, and while reading when it is."""
        declared = request.content_length
        if declared is not None and declared > self.max_body:
            raise Rejected(413, f"body of {declared} bytes exceeds {self.max_body}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(READ_CHUNK):
            size += len(chunk)
            if size > self.max_body:
                raise Rejected(413, f"body exceeds {self.max_body} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _payload(body: str, content_type: str) -> dict[str, Any] | None:
    """The body as bolt will parse it, or None when bolt could not (it would fail with a 500)."""
    try:
        if content_type == "application/json" or body.startswith("{"):
            data: Any = json.loads(body)
        else:
            form = dict(parse_qsl(body, keep_blank_values=True))
            data = json.loads(form["payload"]) if "payload" in form else form
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _retry_num(value: str | None) -> int | None:
    if value is None or not _RETRY_NUM.fullmatch(value) or int(value) > MAX_RETRY_NUM:
        return None
    return int(value)


def web_app(app: AsyncApp, guard: RequestGuard, path: str) -> web.Application:
    """An aiohttp application that hands bolt only requests the guard admitted."""

    async def events(request: web.Request) -> web.StreamResponse:
        try:
            body = await guard.admit(request)
        except Rejected as exc:
            logger.warning("Slack HTTP request refused with %d: %s (from %s)", exc.status, exc.reason, request.remote)
            return web.Response(status=exc.status, text="refused", headers={"X-Slack-No-Retry": "1"})
        response = await app.async_dispatch(
            AsyncBoltRequest(body=body, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        )
        return await to_aiohttp_response(response)

    server = web.Application(client_max_size=guard.max_body)
    server.router.add_post(path, events)
    flow = app.oauth_flow
    if flow is not None:  # "Add to Slack": the installer's browser, so no signature; the OAuth state protects it
        server.router.add_get(flow.install_path, _install_step(flow.handle_installation))
        server.router.add_get(flow.redirect_uri_path, _install_step(flow.handle_callback))
    return server


def _install_step(step: Callable[[AsyncBoltRequest], Awaitable[BoltResponse]]) -> Callable[..., Any]:
    """One step of slack-bolt's install flow; a store that cannot answer is one line and a 503, no traceback (the
    query, which holds the code and state, is never logged)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            response = await step(await to_bolt_request(request))
        except Exception as exc:
            logger.warning("Slack install step %s failed: %s", request.path, type(exc).__name__)
            return web.Response(status=503, text="Steward cannot finish the installation right now; try again shortly.")
        return await to_aiohttp_response(response)

    return handle
