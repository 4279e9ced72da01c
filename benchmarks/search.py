"""Knowledge-store search latency: build 100,000 lessons on the embedded default (SQLite) and time queries.

Run: `python benchmarks/search.py [--lessons N] [--queries N] [--database URL]`. Prints the index build time and
a line `search p50 X ms, p95 Y ms`. Target: p95 under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime

from storage.db import create_engine
from storage.lessons import Lesson, LessonStore
from storage.migrate import upgrade

WS = "console:bench"
# A synthetic vocabulary of change-programme topics in both languages; lessons draw words from it at random.
VOCABULARY = [
    "sharepoint",
    "onedrive",
    "sync",
    "teams",
    "channel",
    "outlook",
    "mailbox",
    "calendar",
    "excel",
    "links",
    "workbook",
    "sap",
    "role",
    "berechtigung",
    "ticket",
    "vpn",
    "laptop",
    "printer",
    "jira",
    "board",
    "sprint",
    "kanban",
    "wiki",
    "confluence",
    "migration",
    "rollout",
    "training",
    "schulung",
    "freigabe",
    "genehmigung",
    "antrag",
    "zugang",
    "passwort",
    "reset",
    "multi",
    "factor",
    "authentication",
    "mobile",
    "app",
    "intranet",
    "rechnung",
    "workflow",
    "approval",
    "license",
    "lizenz",
    "backup",
    "restore",
    "archiv",
    "ordner",
    "folder",
    "permission",
    "berechtigungen",
    "meeting",
    "raum",
    "booking",
    "buchung",
    "dashboard",
    "report",
    "bericht",
    "power",
    "automate",
    "flow",
    "formular",
    "survey",
    "umfrage",
]


def pseudo_words(count: int, rng: random.Random) -> list[str]:
    """Made-up words: chat text has a long tail of rare terms, which is what keeps posting lists short."""
    letters = "abcdefghiklmnoprstuvw"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(5, 9))) for _ in range(count)]


def draw(rng: random.Random, tail: list[str], count: int) -> list[str]:
    """Half topic words, half Zipf-distributed tail words."""
    picked = rng.sample(VOCABULARY, count // 2)
    while len(picked) < count:
        picked.append(tail[min(int(rng.paretovariate(1.1)) - 1, len(tail) - 1)])
    return picked


def lesson(i: int, rng: random.Random, now: datetime, tail: list[str]) -> Lesson:
    words = draw(rng, tail, 12) if tail else rng.sample(VOCABULARY, 12)
    return Lesson(
        workspace_id=WS,
        source_message_id=f"m{i}",
        channel_id=f"c{i % 20}",
        title=" ".join(words[:5]).capitalize(),
        summary=" ".join(words[5:]) + f" case {i}.",
        steps=[f"Open {words[0]} then {words[1]}"],
        tags=words[:2],
        contributors=[f"U{i % 300}"],
        created_at=now,
        updated_at=now,
    )


async def main(lessons: int, queries: int, url: str, tail_words: int) -> None:
    await upgrade(url)
    db = create_engine(url)
    store = LessonStore(db)
    rng = random.Random(7)
    tail = pseudo_words(tail_words, rng)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for start in range(0, lessons, 10_000):
        await store.add_many([lesson(i, rng, now, tail) for i in range(start, min(lessons, start + 10_000))])
    build = time.perf_counter() - started
    timings = []
    for _ in range(queries):
        query = " ".join(draw(rng, tail, rng.randint(1, 4)) if tail else rng.sample(VOCABULARY, rng.randint(1, 4)))
        began = time.perf_counter()
        await store.search(WS, query, 5)
        timings.append((time.perf_counter() - began) * 1000)
    await db.dispose()
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"index build {build:.1f} s for {lessons} lessons ({lessons / build:,.0f} lessons/s)")
    print(f"search p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lessons", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--database", default="")
    parser.add_argument(
        "--tail-words",
        type=int,
        default=20_000,
        help="size of the rare-word vocabulary; 0: only the 80 topic words (a worst case)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="steward-bench-") as scratch:
        url = args.database or f"sqlite:///{scratch}/bench.db"
        asyncio.run(main(args.lessons, args.queries, url, args.tail_words))
