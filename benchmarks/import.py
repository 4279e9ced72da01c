"""Import throughput and peak memory on a generated Slack export.

    python benchmarks/import.py [--messages 1000000] [--channels 50]

Generates a workspace export ZIP (questions, thread answers, chatter, reactions, spread over day files),
imports it into a fresh SQLite database in backfill mode and prints
`import: 12,345 messages/s, peak memory 150 MB`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.slack.export import SlackExport
from bot.app.importer import import_export
from bot.settings import Settings

TOPICS = ["SharePoint", "Teams", "VPN", "OneDrive", "Outlook", "SAP", "printer", "laptop", "licence", "wiki"]
ASKS = ["How do I set up {t} on a new laptop?", "Does anyone know why {t} keeps failing?", "Where is the {t} guide?"]
ANSWERS = ["Restart {t} and sign in again.", "The {t} guide is in the wiki under Rollout.", "Ask IT to reset {t}."]
CHATTER = ["Morning all, the {t} rollout continues today.", "Nice work on the {t} migration!", "{t} training at 3pm."]
PER_DAY = 200


def generate(target: Path, messages: int, channels: int, seed: int = 7) -> None:
    """Write a Slack export ZIP with about `messages` messages, day file by day file."""
    rng = random.Random(seed)
    users = [f"U{n:05d}" for n in range(400)]
    start = datetime(2022, 1, 3, 8, tzinfo=UTC)
    per_channel = messages // channels
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "users.json",
            json.dumps([{"id": u, "team_id": "TBENCH", "name": u.lower(), "tz": "Europe/Berlin"} for u in users]),
        )
        archive.writestr(
            "channels.json", json.dumps([{"id": f"C{c:04d}", "name": f"channel-{c}"} for c in range(channels)])
        )
        for c in range(channels):
            written, day = 0, 0
            while written < per_channel:
                count = min(PER_DAY, per_channel - written)
                stamp = start + timedelta(days=day)
                archive.writestr(f"channel-{c}/{stamp:%Y-%m-%d}.json", json.dumps(_day(rng, users, stamp, count, c)))
                written += count
                day += 1


def _day(rng: random.Random, users: list[str], day: datetime, count: int, channel: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    root: str | None = None
    for n in range(count):
        ts = f"{(day + timedelta(seconds=n * 150)).timestamp():.0f}.{channel:04d}{n % 100:02d}"
        topic = rng.choice(TOPICS)
        roll = rng.random()
        row: dict[str, object] = {"type": "message", "user": rng.choice(users), "ts": ts}
        if roll < 0.15:
            row["text"] = rng.choice(ASKS).format(t=topic)
            root = ts
        elif roll < 0.4 and root is not None:
            row["text"] = rng.choice(ANSWERS).format(t=topic)
            row["thread_ts"] = root
        else:
            row["text"] = rng.choice(CHATTER).format(t=topic)
        if rng.random() < 0.1:
            row["reactions"] = [{"name": "+1", "users": rng.sample(users, 2), "count": 2}]
        rows.append(row)
    return rows


async def run(export: Path, database: Path) -> tuple[float, int]:
    result = await import_export(SlackExport(export), Settings(database_url=f"sqlite:///{database}"))
    return result.rate, result.messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="steward-bench-") as scratch:
        export = Path(scratch) / "export.zip"
        started = time.perf_counter()
        generate(export, args.messages, args.channels)
        print(f"generated {args.messages:,} messages in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rate, imported = asyncio.run(run(export, Path(scratch) / "bench.db"))
        peak_mb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, baseline) / 1024
    print(f"import: {rate:,.0f} messages/s, peak memory {peak_mb:,.0f} MB ({imported:,} messages)")


if __name__ == "__main__":
    main()
