"""Digest and stats latency: one channel with 100,000 messages and 10,000 questions in a week, on SQLite.

Prints `digest: X ms` (this week's figures with the details, plus last week's for comparison, as the weekly
digest computes them) and `stats: Y ms` (`/steward stats 30` over the whole workspace). Target: under 500 ms
each. Run: `.venv/bin/python benchmarks/digest.py [--messages N] [--questions N] [--database-url URL]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from facilitation_rules.digest import Period
from storage import metrics
from storage.db import create_engine
from storage.migrate import upgrade
from storage.repository import T_CHANNEL, T_MEMBER, T_MESSAGE, T_QUESTION

WS = "bench:digest"
CHANNEL = "help"
WEEK_END = datetime(2026, 3, 9, 8, tzinfo=UTC)
WEEK = Period(WEEK_END - timedelta(days=7), WEEK_END)
TOPICS = ["SAP", "Teams", "Jira", "SharePoint", "Confluence", "Power BI", "Workday", "ServiceNow"]
QUESTIONS = [
    "How do I request access to the {topic} sandbox?",
    "Who owns the {topic} rollout plan?",
    "Wie bekomme ich Zugriff auf {topic}?",
]
MEMBERS = 400


def _rows(messages: int, questions: int, rng: random.Random) -> dict[Any, list[dict[str, Any]]]:
    """The channel's week: every question is a message; a share is answered and resolved."""
    seconds = int((WEEK.end - WEEK.start).total_seconds())
    moments = sorted(WEEK.start + timedelta(seconds=rng.randrange(seconds)) for _ in range(messages))
    asked = set(rng.sample(range(messages), questions))
    message_rows: list[dict[str, Any]] = []
    question_rows: list[dict[str, Any]] = []
    for i, moment in enumerate(moments):
        user = f"u{rng.randrange(MEMBERS)}"
        text = rng.choice(QUESTIONS).format(topic=rng.choice(TOPICS)) if i in asked else "Thanks, noted."
        message_rows.append(
            {
                "workspace_id": WS,
                "id": f"m{i}",
                "channel_id": CHANNEL,
                "user_id": user,
                "thread_id": None,
                "reply_to": None,
                "is_bot": False,
                "text": text,
                "posted_at": moment,
                "edited_at": None,
                "deleted_at": None,
            }
        )
        if i in asked:
            answered = rng.random() < 0.8
            response = moment + timedelta(minutes=rng.randrange(1, 600))
            question_rows.append(
                {
                    "workspace_id": WS,
                    "id": f"m{i}",
                    "channel_id": CHANNEL,
                    "asker_id": user,
                    "language": "en",
                    "status": "resolved" if answered else "asked",
                    "asked_at": moment,
                    "first_response_id": f"r{i}" if answered else None,
                    "first_responder_id": f"u{rng.randrange(MEMBERS)}" if answered else None,
                    "first_response_at": response if answered else None,
                    "resolved_at": response + timedelta(minutes=5) if answered and rng.random() < 0.6 else None,
                    "followup": False,
                    "suggested_experts": [],
                    "nudged_experts": [],
                }
            )
    members = [
        {
            "workspace_id": WS,
            "id": f"u{i}",
            "name": f"Member {i}",
            "is_bot": False,
            "is_facilitator": False,
            "dm_closed": False,
            "first_seen_at": WEEK.start - timedelta(days=rng.randrange(-7, 60)),
            "last_seen_at": WEEK.end,
        }
        for i in range(MEMBERS)
    ]
    channel = {
        "workspace_id": WS,
        "id": CHANNEL,
        "name": CHANNEL,
        "watched": True,
        "private": False,
        "kind": "text",
        "settings": {},
    }
    return {T_CHANNEL: [channel], T_MEMBER: members, T_MESSAGE: message_rows, T_QUESTION: question_rows}


async def _fill(url: str, messages: int, questions: int) -> None:
    await upgrade(url)
    db = create_engine(url)
    try:
        async with db.begin() as conn:
            for table, rows in _rows(messages, questions, random.Random(7)).items():
                for start in range(0, len(rows), 5000):
                    await conn.execute(insert(table), rows[start : start + 5000])
    finally:
        await db.dispose()


async def _timed(runs: int, work: Any) -> float:
    """The median of a few runs, in ms (the first one runs on cold caches)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def main(url: str, messages: int, questions: int) -> None:
    await _fill(url, messages, questions)
    db = create_engine(url)
    try:

        async def digest() -> None:
            await metrics.figures(db, WS, WEEK, CHANNEL)
            await metrics.figures(db, WS, WEEK.previous(), CHANNEL, detail=False)

        async def stats() -> None:
            await metrics.figures(db, WS, Period(WEEK.end - timedelta(days=30), WEEK.end))

        print(f"digest: {await _timed(3, digest):.0f} ms")
        print(f"stats: {await _timed(3, stats):.0f} ms")
    finally:
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(args.database_url or f"sqlite:///{tmp}/digest.db", args.messages, args.questions))
