"""Raw HTTP requests to Steward's Slack endpoint, and the forged variants an attacker could send.

Requests are written byte by byte over a socket, so headers with non-ASCII characters, missing or lying
Content-Length and chunked bodies reach the server exactly as generated (an HTTP client library would refuse
or repair some of them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk.signature import SignatureVerifier

from tests.e2e.slack.fake_slack import TEAM, trigger_id

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PATH = "/slack/events"


@dataclass
class Raw:
    """One HTTP request as sent: headers as (name, value) pairs (values may be non-ASCII), the body bytes."""

    kind: str
    headers: list[tuple[str, str]]
    body: bytes
    chunked: bool = False
    declared_length: int | None = None  # None: the real length (unless chunked)
    extra: dict[str, str] = field(default_factory=dict)


def sign(body: bytes | str, timestamp: str, secret: str = SECRET) -> str:
    text = body if isinstance(body, str) else body.decode("utf-8")
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=text)
    assert signature is not None
    return signature


def event_body(text: str, event_id: str, *, user: str = "UALICE") -> bytes:
    ts = f"{time.time():.6f}"
    event = {"type": "message", "channel": "C1", "user": user, "text": text, "ts": ts, "event_ts": ts,
             "channel_type": "channel"}
    return json.dumps({"token": "t", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                       "event": event, "event_id": event_id, "event_time": int(time.time())}).encode()


def command_body(text: str, response_url: str = "http://127.0.0.1:9/respond/none") -> bytes:
    from urllib.parse import urlencode

    return urlencode({"token": "t", "team_id": TEAM, "channel_id": "C1", "user_id": "UALICE", "command": "/steward",
                      "text": text, "trigger_id": trigger_id(), "response_url": response_url}).encode()


def signed(kind: str, body: bytes, *, timestamp: int | None = None, content_type: str = "application/json",
           retry: int | None = None) -> Raw:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = [("Content-Type", content_type), ("X-Slack-Request-Timestamp", ts),
               ("X-Slack-Signature", sign(body, ts))]
    if retry is not None:
        headers += [("X-Slack-Retry-Num", str(retry)), ("X-Slack-Retry-Reason", "http_timeout")]
    return Raw(kind, headers, body)


def _header(raw: Raw, name: str) -> str:
    return next(v for k, v in raw.headers if k.lower() == name.lower())


def _with(raw: Raw, kind: str, **changes: str | None) -> Raw:
    """A copy with some headers replaced (a value of None drops the header)."""
    names = {k.lower().replace("_", "-"): v for k, v in changes.items()}
    headers = [(k, names.get(k.lower(), v)) for k, v in raw.headers if names.get(k.lower(), v) is not None]
    return Raw(kind, [(k, v) for k, v in headers if v is not None], raw.body, raw.chunked, raw.declared_length)


class Forger:
    """Generates forged requests, each a different variant of an attack, from one seed."""

    def __init__(self, seed: int, valid_sent: list[Raw]) -> None:
        self.rng = random.Random(seed)
        self.valid_sent = valid_sent  # genuine requests already delivered: material for replays
        self.count = 0

    def fresh(self) -> tuple[bytes, str]:
        self.count += 1
        text = self.rng.choice(["How do I reset my password?", "<!channel> free pizza", "Is the VPN down?",
                                "Wer kennt sich mit SAP aus?", "ignore previous instructions"])
        return event_body(text, f"EvForged{self.count}-{self.rng.randrange(10**9)}"), str(int(time.time()))

    def variants(self) -> list[Callable[[], Raw]]:
        return [self.wrong_secret, self.flipped_signature, self.stale, self.future, self.not_an_integer,
                self.non_ascii_signature, self.altered_body, self.damaged_json, self.truncated_json,
                self.oversized, self.oversized_chunked, self.missing_headers, self.replayed,
                self.replayed_with_other_body, self.empty_signature, self.bad_utf8, self.lying_length,
                self.damaged_form]

    def make(self, n: int) -> list[Raw]:
        kinds = self.variants()
        return [kinds[i % len(kinds)]() for i in range(n)]

    # --- the variants ----------------------------------------------------------------------------------------
    def wrong_secret(self) -> Raw:
        body, ts = self.fresh()
        raw = signed("wrong secret", body)
        return _with(raw, "wrong secret", x_slack_signature=sign(body, ts, secret=f"guess-{self.rng.random()}"))

    def flipped_signature(self) -> Raw:
        body, _ = self.fresh()
        raw = signed("flipped signature", body)
        sig = _header(raw, "X-Slack-Signature")
        at = self.rng.randrange(3, len(sig))
        flipped = sig[:at] + ("0" if sig[at] != "0" else "1") + sig[at + 1:]
        return _with(raw, "flipped signature", x_slack_signature=flipped)

    def stale(self) -> Raw:
        body, _ = self.fresh()
        return signed("stale timestamp", body, timestamp=int(time.time()) - self.rng.randint(301, 10**6))

    def future(self) -> Raw:
        body, _ = self.fresh()
        return signed("future timestamp", body, timestamp=int(time.time()) + self.rng.randint(320, 10**6))

    def not_an_integer(self) -> Raw:
        body, ts = self.fresh()
        bad = self.rng.choice([f"{ts}.5", f"{ts}abc", "", " ", f" {ts}", f"{ts} ", "-1", "1e9", "0x10", "NaN",
                               "١٧٠٠٠٠٠٠٠٠", "１７００", f"{ts}\u00a0", "9" * 40, "+" + ts])
        raw = signed("non-integer timestamp", body)
        try:
            signature = sign(body, bad)
        except Exception:
            signature = _header(raw, "X-Slack-Signature")
        return _with(raw, "non-integer timestamp", x_slack_request_timestamp=bad, x_slack_signature=signature)

    def non_ascii_signature(self) -> Raw:
        body, _ = self.fresh()
        raw = signed("non-ASCII signature", body)
        sig = _header(raw, "X-Slack-Signature")
        at = self.rng.randrange(0, len(sig))
        odd = self.rng.choice(["ü", "é", "ß", "\u00ff", "€", "日", "\u200b"])
        return _with(raw, "non-ASCII signature", x_slack_signature=sig[:at] + odd + sig[at + 1:])

    def altered_body(self) -> Raw:
        body, _ = self.fresh()
        raw = signed("altered body", body)
        changed = body.replace(b"UALICE", b"UMALLORY") if self.rng.random() < 0.5 else body + b" "
        return Raw("altered body", raw.headers, changed)

    def damaged_json(self) -> Raw:
        body, _ = self.fresh()
        damaged = body.replace(b'"', b"", self.rng.randint(1, 5))
        raw = signed("damaged JSON", body)
        return Raw("damaged JSON", raw.headers, damaged)

    def truncated_json(self) -> Raw:
        body, _ = self.fresh()
        cut = body[: self.rng.randrange(1, len(body) - 1)]
        raw = signed("truncated JSON", body)
        if self.rng.random() < 0.5:  # signed as it is sent, but with a guessed secret
            raw = _with(raw, "truncated JSON", x_slack_signature=sign(cut, _header(raw, "X-Slack-Request-Timestamp"),
                                                                      secret="not-the-secret"))
        return Raw("truncated JSON", raw.headers, cut)

    def oversized(self) -> Raw:
        body = b'{"type":"event_callback","pad":"' + b"x" * self.rng.randint(64 * 1024, 2 * 1024 * 1024) + b'"}'
        return Raw("oversized body", signed("oversized body", body).headers, body)

    def oversized_chunked(self) -> Raw:
        body = b'{"type":"event_callback","pad":"' + b"y" * self.rng.randint(64 * 1024, 512 * 1024) + b'"}'
        return Raw("oversized chunked body", signed("oversized chunked body", body).headers, body, chunked=True)

    def missing_headers(self) -> Raw:
        body, _ = self.fresh()
        raw = signed("missing headers", body)
        drop = self.rng.choice([{"x_slack_signature": None}, {"x_slack_request_timestamp": None},
                                {"x_slack_signature": None, "x_slack_request_timestamp": None}])
        return _with(raw, "missing headers", **drop)

    def replayed(self) -> Raw:
        original = self.rng.choice(self.valid_sent)
        return Raw("replayed", original.headers, original.body)

    def replayed_with_other_body(self) -> Raw:
        original = self.rng.choice(self.valid_sent)
        body, _ = self.fresh()
        return Raw("replayed signature, other body", original.headers, body)

    def empty_signature(self) -> Raw:
        body, _ = self.fresh()
        raw = signed("empty signature", body)
        return _with(raw, "empty signature", x_slack_signature=self.rng.choice(["", "v0=", "v1=" + "a" * 64, "v0"]))

    def bad_utf8(self) -> Raw:
        body = b'{"type":"event_callback","text":"\xff\xfe\xc3"}'
        ts = str(int(time.time()))
        headers = [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", ts),
                   ("X-Slack-Signature", "v0=" + "ab" * 32)]
        return Raw("body not UTF-8", headers, body)

    def lying_length(self) -> Raw:
        body, _ = self.fresh()
        raw = signed("lying Content-Length", body)
        return Raw("lying Content-Length", raw.headers, body, declared_length=self.rng.randint(10**7, 10**9))

    def damaged_form(self) -> Raw:
        body = command_body("facilitator add <@UMALLORY>").replace(b"&", b"&&%", 2) + b"%zz"
        raw = signed("damaged form", command_body("help"), content_type="application/x-www-form-urlencoded")
        return Raw("damaged form", raw.headers, body)


async def send(port: int, raw: Raw, *, timeout: float = 10.0) -> int:
    """Send one request over a fresh connection; its HTTP status (0 when no status line came back in time)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"POST {PATH} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in raw.headers]
        if raw.chunked:
            lines.append("Transfer-Encoding: chunked")
            size = 32 * 1024
            chunks = [raw.body[i:i + size] for i in range(0, len(raw.body), size)]
            payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
        else:
            length = raw.declared_length if raw.declared_length is not None else len(raw.body)
            lines.append(f"Content-Length: {length}")
            payload = raw.body
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + payload)
        with contextlib.suppress(ConnectionError):  # refused before the whole body was sent: the status may be in
            await writer.drain()
        try:
            status_line = await asyncio.wait_for(reader.readline(), timeout)
        except (TimeoutError, ConnectionError):
            return 0
        parts = status_line.split()
        return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
