"""Portal latency over HTTP: the health page on 1,000,000 messages, and lesson search.

Fills a community (10 public channels, 12 weeks, 1,000,000 messages, 100,000 questions, 20,000 lessons), serves
the portal with uvicorn on a loopback port, signs in as a facilitator through a one-time link, and times
end-to-end GETs with httpx: `/health` (the default twelve weeks, every chart and table) and `/lessons?q=...`.
Prints p50 and p95 of each, and the first health render (every week computed; later renders reuse the figures
of weeks that have ended, for minutes, and of the running week, for seconds). Targets: health p95 < 300 ms,
search p95 < 50 ms.

Run: `.venv/bin/python benchmarks/portal.py [--messages N] [--lessons N] [--database-url URL]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import uvicorn
from sqlalchemy import insert

from adapters.web.app import create_app
from bot.settings import Settings
from storage.db import create_engine
from storage.lessons import Lesson, LessonStore
from storage.migrate import upgrade
from storage.portal import issue_sign_in
from storage.repository import T_CHANNEL, T_MEMBER, T_MESSAGE, T_QUESTION, T_WORKSPACE

WS = "bench:portal"
CHANNELS = [f"c{i}" for i in range(10)]
MEMBERS = 2_000
FACILITATOR = "u0"
END = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
START = END - timedelta(weeks=12)
TOPICS = ["SAP", "Teams", "Jira", "SharePoint", "Confluence", "Power BI", "Workday", "ServiceNow", "OneDrive", "VPN"]
VERBS = ["request access to", "migrate", "configure", "share", "archive", "restore", "export", "sync"]
QUERIES = [f"{verb} {topic}" for verb in VERBS for topic in TOPICS]


def _messages(count: int, questions: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    span = int((END - START).total_seconds())
    asked = set(rng.sample(range(count), questions))
    messages, question_rows = [], []
    for i in range(count):
        moment = START + timedelta(seconds=rng.randrange(span))
        user, channel = f"u{rng.randrange(MEMBERS)}", rng.choice(CHANNELS)
        question = i in asked
        text = f"How do I {rng.choice(VERBS)} {rng.choice(TOPICS)}?" if question else "Thanks, that helped."
        messages.append({"workspace_id": WS, "id": f"m{i}", "channel_id": channel, "user_id": user,
                         "is_bot": False, "text": text, "posted_at": moment})
        if question:
            answered = rng.random() < 0.8
            response = moment + timedelta(minutes=rng.randrange(1, 900))
            question_rows.append({
                "workspace_id": WS, "id": f"m{i}", "channel_id": channel, "asker_id": user, "language": "en",
                "status": "answered" if answered else "asked", "asked_at": moment,
                "first_response_id": f"r{i}" if answered else None,
                "first_responder_id": f"u{rng.randrange(MEMBERS)}" if answered else None,
                "first_response_at": response if answered else None, "followup": False,
                "suggested_experts": [], "nudged_experts": [],
            })
    return messages, question_rows


def _lesson(i: int, rng: random.Random) -> Lesson:
    topic, verb = rng.choice(TOPICS), rng.choice(VERBS)
    return Lesson(
        workspace_id=WS, source_message_id=f"l{i}", channel_id=rng.choice(CHANNELS),
        title=f"How to {verb} {topic} ({i})", summary=f"Members asked how to {verb} {topic} for team {i % 97}.",
        solution=f"Open the {topic} portal and choose {verb}.", steps=[f"Open {topic}", f"Choose {verb}"],
        tags=[topic, verb], contributors=[f"u{rng.randrange(MEMBERS)}"], created_at=END, updated_at=END,
    )


async def fill(url: str, messages: int, questions: int, lessons: int) -> None:
    await upgrade(url)
    db = create_engine(url)
    rng = random.Random(7)
    try:
        message_rows, question_rows = _messages(messages, questions, rng)
        members = [{"workspace_id": WS, "id": f"u{i}", "name": f"Member {i}", "is_bot": False,
                    "is_facilitator": i == 0, "dm_closed": False, "first_seen_at": START} for i in range(MEMBERS)]
        channels = [{"workspace_id": WS, "id": c, "name": c, "watched": True, "private": False, "kind": "text",
                     "settings": {}} for c in CHANNELS]
        async with db.begin() as conn:
            await conn.execute(insert(T_WORKSPACE), [{"id": WS, "platform": "bench", "name": "Benchmark",
                                                      "timezone": "UTC", "language": "en", "settings": {}}])
            await conn.execute(insert(T_CHANNEL), channels)
            await conn.execute(insert(T_MEMBER), members)
            for rows, table in ((message_rows, T_MESSAGE), (question_rows, T_QUESTION)):
                for start in range(0, len(rows), 10_000):
                    await conn.execute(insert(table), rows[start:start + 10_000])
        store = LessonStore(db)
        for start in range(0, lessons, 10_000):
            await store.add_many([_lesson(i, rng) for i in range(start, min(lessons, start + 10_000))])
    finally:
        await db.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _percentiles(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return ordered[len(ordered) // 2], ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def measure(url: str, runs: int, queries: int) -> None:
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    db = create_engine(url)
    token = await issue_sign_in(db, WS, FACILITATOR, now=datetime.now(UTC))
    await db.dispose()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            page = await client.get(f"/signin/{token}")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf, "sign-in page"
            await client.post(f"/signin/{token}", data={"csrf": csrf.group(1)})

            async def timed(path: str, params: dict[str, str] | None = None) -> float:
                began = time.perf_counter()
                response = await client.get(path, params=params)
                response.raise_for_status()
                return (time.perf_counter() - began) * 1000

            cold = await timed("/health")  # computes every week; later renders reuse the ended weeks' figures
            health = [await timed("/health") for _ in range(runs)]
            rng = random.Random(11)
            search = [await timed("/lessons", {"q": rng.choice(QUERIES)}) for _ in range(queries)]
            body = (await client.get("/health")).text
            assert body.count("<svg") == 3, "the health page drew its charts"
    finally:
        server.should_exit = True
        await task
    p50, p95 = _percentiles(health)
    print(f"health page (12 weeks, 3 charts): p50 {p50:.0f} ms, p95 {p95:.0f} ms (target p95 < 300 ms); "
          f"first render, nothing remembered: {cold:.0f} ms")
    p50, p95 = _percentiles(search)
    print(f"lesson search page: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 < 50 ms)")


async def main(url: str, messages: int, questions: int, lessons: int, runs: int, queries: int) -> None:
    began = time.perf_counter()
    await fill(url, messages, questions, lessons)
    print(f"filled {messages:,} messages, {questions:,} questions, {lessons:,} lessons "
          f"in {time.perf_counter() - began:.0f} s")
    await measure(url, runs, queries)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--lessons", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="steward-portal-") as scratch:
        url = args.database_url or f"sqlite:///{scratch}/portal.db"
        asyncio.run(main(url, args.messages, args.questions, args.lessons, args.runs, args.queries))
