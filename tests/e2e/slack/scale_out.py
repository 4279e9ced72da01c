"""Several `steward run` processes on one PostgreSQL database, serving many Slack workspaces, against the local
Slack fake: a fixed workload whose every post is known in advance, timed from the first event sent until the last
expected post reached the fake.

Shared by `tests/e2e/slack/test_scale_out.py` (a tiny run in the suite) and `benchmarks/replicas.py` (the figures).

The workspaces install Steward as real ones do ("Add to Slack": HTTP mode, the OAuth flow through the first
process, each workspace's bot token in the database). Events reach the processes as signed HTTP requests, spread
over them in turn as a load balancer would, so most of a workspace's events arrive at a process that does not hold
its lease and wait in the inbox for the one that does. Each event makes Steward post, and what it posts is known
from the event alone, whatever the order: a newcomer joining is welcomed by direct message, a member saying they are
stuck gets the help message, and a question nobody answers (each in a channel of its own, so no other message reads
as its answer) is flagged in its thread after the answer time and its asker helped after twice that. Every member
appears once, so no budget or cool-down depends on timing. The Web API answers after the fake's `api_delay`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from slack_sdk.signature import SignatureVerifier

from tests.e2e.slack.chaos import TOPICS, _outbox_open, _plain
from tests.e2e.slack.fake_slack import CLIENT_ID, CLIENT_SECRET, FakeSlack

ROOT = Path(__file__).resolve().parents[3]
SECRET = "scale-out-signing-secret"
COOKIE = "slack-app-oauth-state"
KINDS = ("join", "stuck", "question")
# A member stuck, in words that ask nothing ("no idea what to do" reads as a question, and is flagged too).
STUCK = "Still blocked on {topic}, going in circles."
_TS = re.compile(r"\b\d{10}\.\d{6}\b")
_USER = re.compile(r"\bU\d{6}\b")


# --- the workload ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    name: str  # "e12": the event's name in the workload, also its member's number
    team: str
    kind: str  # join, stuck or question
    user: str
    channel: str
    text: str = ""

    def expected(self) -> list[str]:
        """The outbox keys Steward posts for this event, with the member and the message named by the item."""
        if self.kind == "join":
            return [f"welcome:{self.name}"]
        if self.kind == "stuck":
            return [f"stuck:{self.name}:{self.name}"]
        return [f"flag:{self.name}", f"stuck:{self.name}:{self.name}"]  # flagged, then its asker helped


@dataclass(frozen=True)
class Workload:
    teams: tuple[str, ...]
    items: tuple[Item, ...]  # in the order they are sent

    @property
    def expected(self) -> set[tuple[str, str]]:
        """Every post the workload must bring about, as (team, key)."""
        return {(item.team, key) for item in self.items for key in item.expected()}

    def count(self, kind: str) -> int:
        return sum(item.kind == kind for item in self.items)


def workload(workspaces: int, events: int, seed: int = 1) -> Workload:
    """`events` events over `workspaces` workspaces, each workspace getting joins, stuck members and questions in
    turn; sent in a shuffled order (seeded), so each workspace's first event reaches any process."""
    teams = tuple(f"T{n:04d}" for n in range(1, workspaces + 1))
    items = []
    for n in range(events):
        team = teams[n % workspaces]
        kind = KINDS[(n // workspaces) % len(KINDS)]
        user = f"U{n:06d}"
        code = team[1:]
        topic = TOPICS[n % len(TOPICS)]
        if kind == "join":
            items.append(Item(f"e{n}", team, kind, user, f"C{code}GEN"))
        elif kind == "stuck":
            text = STUCK.format(topic=topic.name)
            items.append(Item(f"e{n}", team, kind, user, f"C{code}HELP", text))
        else:
            question = topic.questions[n % len(topic.questions)]
            items.append(Item(f"e{n}", team, kind, user, f"C{code}Q{n:06d}", question))
    random.Random(seed).shuffle(items)
    return Workload(teams, tuple(items))


# --- Steward, the processes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timing:
    """Steward's clock, sped up: a question unanswered for `answer` seconds is flagged, for twice that its asker is
    helped; sweeps every second; leases last `lease` seconds (renewed, and the inbox read, every third of it)."""

    answer: float = 2.0
    lease: int = 3


def environment(database_url: str, fake: FakeSlack, port: int, timing: Timing) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DISCORD_", "OPENAI_", "WEB_", "METRICS_"))
    }
    return env | {
        "DATABASE_URL": database_url,
        "SLACK_MODE": "http",
        "SLACK_HTTP_HOST": "127.0.0.1",
        "SLACK_HTTP_PORT": str(port),
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_API_URL": fake.api_url,
        "SLACK_AUTHORIZE_URL": fake.authorize_url,
        "STEWARD_TIMEZONE": "UTC",
        "ANSWER_TIME_HOURS": f"{timing.answer / 3600:.9f}",
        "ESCALATION_HOURS": "24",  # no escalation within a run
        "WORK_START_HOUR": "0",
        "WORK_END_HOUR": "24",
        "WORK_DAYS": "mon,tue,wed,thu,fri,sat,sun",
        "QUIET_START_HOUR": "0",
        "QUIET_END_HOUR": "0",  # no quiet hours: the run works at any hour
        "SWEEP_SECONDS": "1",
        "LEASE_SECONDS": str(timing.lease),
        "LOG_LEVEL": "INFO",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Replica:
    """One `python -m bot.cli run` serving Slack over HTTP on its own port."""

    number: int
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: dict[str, str]) -> None:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    async def listening(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"replica {self.number} stopped at start:\n{self.log_text()[-3000:]}")
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                await writer.wait_closed()
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"replica {self.number} did not listen within {timeout:.0f} s")
            await asyncio.sleep(0.1)

    def stop(self) -> int:
        """A clean stop (SIGTERM); its exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -9

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


# --- the run ------------------------------------------------------------------------------------------------------
@dataclass
class Result:
    replicas: int
    events: int
    expected: set[tuple[str, str]]
    posts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (team, key as the workload names it)
    seconds: float = 0.0  # first event sent -> last expected post received
    sending: float = 0.0  # first event sent -> last event acknowledged
    complete: bool = False
    retried: int = 0  # deliveries the processes did not acknowledge and Slack sent again
    calls: Counter[str] = field(default_factory=Counter)  # Web API calls by method
    leases: list[int] = field(default_factory=list)  # workspaces each process held at the end
    exit_status: list[int] = field(default_factory=list)
    tracebacks: list[int] = field(default_factory=list)  # processes whose log holds a traceback

    @property
    def lost(self) -> set[tuple[str, str]]:
        return self.expected - set(self.posts)

    @property
    def doubled(self) -> int:
        return sum(count - 1 for count in self.posts.values() if count > 1)

    @property
    def unexpected(self) -> set[tuple[str, str]]:
        return set(self.posts) - self.expected


class ScaleOutRun:
    """One run of a workload through `replicas` processes on a fresh database."""

    def __init__(
        self,
        load: Workload,
        database_url: str,
        workdir: Path,
        *,
        replicas: int,
        delay: float = 0.0,
        timing: Timing | None = None,
        in_flight: int = 8,
        timeout: float = 600.0,
    ) -> None:
        self.load = load
        self.database_url = database_url
        self.workdir = workdir
        self.timing = timing or Timing()
        self.delay = delay
        self.in_flight = in_flight
        self.timeout = timeout
        self.fake = FakeSlack()
        self.replicas = [Replica(n, free_port(), workdir / f"replica-{n}.log") for n in range(replicas)]
        self.result = Result(replicas, len(load.items), load.expected)
        self._names: dict[str, str] = {}  # Slack ts and member ids -> the workload's names
        self._arrived: dict[tuple[str, str], float] = {}  # expected (team, key) -> when it first reached the fake
        self._done = asyncio.Event()
        self._micros = 0
        self._first_call = 0  # the fake's calls before this one were the set-up (installs)

    async def run(self) -> Result:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for item in self.load.items:
            self._names[item.user] = item.name
        await self.fake.start()
        try:
            await self._start()
            await self._install()
            self.fake.api_delay = self.delay  # the installs are set-up, not the measured work
            self.fake.on_call = self._on_call
            self._first_call = len(self.fake.calls)
            await self._send_and_wait()
            await self._settle()
            self.result.leases = await self._leases()
        finally:
            # Stopped side by side, off the loop: the fake must go on answering while they finish.
            self.result.exit_status = list(await asyncio.gather(*(asyncio.to_thread(r.stop) for r in self.replicas)))
            await self.fake.close()
            self.result.tracebacks = [r.number for r in self.replicas if "Traceback" in r.log_text()]
        self._count()
        return self.result

    async def _start(self) -> None:
        """One process after the other: the first migrates the fresh database, the rest find it ready."""
        for replica in self.replicas:
            replica.start(environment(self.database_url, self.fake, replica.port, self.timing))
            await replica.listening()
        self.fake.redirect_url = f"{self.replicas[0].base}/slack/oauth_redirect"

    async def _install(self) -> None:
        """Every workspace installs Steward ("Add to Slack" through the first process, as an admin's browser)."""
        async with aiohttp.ClientSession() as session:
            for team in self.load.teams:
                self.fake.installing_team = team
                first = self.replicas[0]
                async with session.get(f"{first.base}/slack/install", allow_redirects=False) as started:
                    to_slack = started.headers["Location"]
                    cookie = SimpleCookie(started.headers["Set-Cookie"])[COOKIE].value
                async with session.get(to_slack, allow_redirects=False) as approved:
                    back = approved.headers["Location"]
                assert parse_qs(urlsplit(back).query)["state"][0] == cookie
                async with session.get(back, headers={"Cookie": f"{COOKIE}={cookie}"}, allow_redirects=False) as done:
                    await done.read()
                    if done.status != 200:
                        raise RuntimeError(f"installing Steward in {team} failed: HTTP {done.status}")

    async def _send_and_wait(self) -> None:
        gate = asyncio.Semaphore(self.in_flight)
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()

            async def one(index: int, item: Item) -> None:
                async with gate:
                    await self._deliver(session, self.replicas[index % len(self.replicas)], item)

            await asyncio.gather(*(one(n, item) for n, item in enumerate(self.load.items)))
            self.result.sending = time.monotonic() - started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), timeout=max(0.0, self.timeout - self.result.sending))
            self.result.complete = self._done.is_set()
            last = max(self._arrived.values(), default=time.monotonic())
            self.result.seconds = last - started

    async def _deliver(self, session: aiohttp.ClientSession, replica: Replica, item: Item) -> None:
        """The event as Slack sends it: signed, and sent again (with X-Slack-Retry-Num) until acknowledged."""
        ts = self._stamp()
        self._names[ts] = item.name
        if item.kind == "join":
            event: dict[str, Any] = {
                "type": "member_joined_channel",
                "user": item.user,
                "channel": item.channel,
                "channel_type": "C",
                "team": item.team,
                "event_ts": ts,
            }
        else:
            event = {
                "type": "message",
                "channel": item.channel,
                "user": item.user,
                "text": item.text,
                "ts": ts,
                "event_ts": ts,
                "channel_type": "channel",
            }
        body = json.dumps(
            {
                "token": "t",
                "team_id": item.team,
                "api_app_id": "A1",
                "type": "event_callback",
                "event": event,
                "event_id": f"Ev{item.name}",
                "event_time": int(float(ts)),
            }
        )
        for attempt in range(4):
            stamp = str(int(time.time()))
            signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
            headers = {
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": str(signature),
                "Content-Type": "application/json",
            }
            if attempt:
                headers["X-Slack-Retry-Num"] = str(attempt)
                headers["X-Slack-Retry-Reason"] = "http_error"
                self.result.retried += 1
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.post(
                    f"{replica.base}/slack/events", data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=3)
                ) as answer:
                    await answer.read()
                    if answer.status == 200:
                        return
            await asyncio.sleep(1.0)  # Slack waits before it tries again
        raise RuntimeError(f"event {item.name} was never acknowledged")

    def _stamp(self) -> str:
        """A Slack ts for the next event: now, and later than every one before."""
        self._micros = max(int(time.time() * 1_000_000), self._micros + 1)
        return f"{self._micros // 1_000_000}.{self._micros % 1_000_000:06d}"

    async def _on_call(self, method: str, params: dict[str, Any]) -> None:
        """Every Web API call as it reaches the fake: an expected post's arrival is timed."""
        if method != "chat.postMessage":
            return
        # The fake recorded this call's token just before calling here (the SDK sends it in a header).
        post = self._post(params, self.fake.call_tokens[-1])
        if post in self.result.expected and post not in self._arrived:
            self._arrived[post] = time.monotonic()
            if len(self._arrived) == len(self.result.expected):
                self._done.set()

    def _post(self, params: dict[str, Any], token: str) -> tuple[str, str]:
        """(team, key) of a post, its timestamps and members named as the workload names them."""
        team = self.fake.token_teams.get(token, "?")
        key = str(((params.get("metadata") or {}).get("event_payload") or {}).get("key", "")) or "(no key)"
        key = _TS.sub(lambda m: self._names.get(m.group(0), "ts"), key)
        return team, _USER.sub(lambda m: self._names.get(m.group(0), "user"), key)

    async def _settle(self, quiet: float = 2.0, longest: float = 60.0) -> None:
        """After the last expected post: every outbox row delivered, and then nothing more for `quiet` seconds, so
        a post sent twice or one nobody expected is seen too."""
        deadline = time.monotonic() + longest
        seen, since = len(self.fake.calls), time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            if len(self.fake.calls) != seen:
                seen, since = len(self.fake.calls), time.monotonic()
            elif time.monotonic() - since >= quiet and await _outbox_open(self.database_url) == 0:
                return

    async def _leases(self, settle: float = 20.0) -> list[int]:
        """How many workspaces each process held at the end, once they have evened out (the processes share them
        out at their lease rounds) or `settle` seconds have passed."""
        deadline = time.monotonic() + settle
        while True:
            held = await self._held()
            if (max(held) - min(held) <= 1 and sum(held) == len(self.load.teams)) or time.monotonic() > deadline:
                return held
            await asyncio.sleep(0.25)

    async def _held(self) -> list[int]:
        import asyncpg

        conn = await asyncpg.connect(_plain(self.database_url), timeout=5)
        try:
            rows = await conn.fetch("SELECT owner FROM workspace_lease WHERE expires_at > now()")
        finally:
            await conn.close()
        pids = Counter(str(row["owner"]).split(":")[1] for row in rows)
        return [pids.get(str(r.process.pid if r.process else ""), 0) for r in self.replicas]

    def _count(self) -> None:
        calls = zip(self.fake.calls[self._first_call :], self.fake.call_tokens[self._first_call :], strict=True)
        for (method, params), token in calls:
            self.result.calls[method] += 1
            if method == "chat.postMessage":
                self.result.posts[self._post(params, token)] += 1


def same_posts(first: Result, second: Result) -> bool:
    """Whether two runs of one workload made Slack receive the same posts, each as often."""
    return first.posts == second.posts
