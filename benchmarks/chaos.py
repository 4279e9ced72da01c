"""Crash injection at scale: a busy community of 10,000 events replayed through a real `steward run` against the
local Slack fake, SIGKILLed at 20 moments (mid-migration, mid-batch, mid-delivery, mid-digest, mid-sweep) and
restarted, beside a clean run of the same events; every message the fake received is compared.

    .venv/bin/python benchmarks/chaos.py [--events 10000] [--kills 20] [--per-wave 150]
                                         [--database sqlite|postgresql|both] [--seed N] [--keep DIR]

On PostgreSQL (STEWARD_TEST_POSTGRES_URL, else the local server) the database server is also restarted under
Steward once, when this machine can (root and `pg_ctlcluster`). The community and the comparison are those of
the suite's shorter test (tests/e2e/slack/chaos.py). Prints, per database: the kills by kind, the deliveries
Slack repeated, the downtime per kill, and what differs from the clean run: posts lost, posts doubled, posts the
clean run never made, updates/reactions/pins missing or extra, private replies lost or extra, and whether the
digests are the same. Exits with 1 when anything was lost, doubled or differs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import POSTGRES_URL
from tests.e2e.slack.chaos import (
    ChaosRun,
    Comparison,
    Result,
    Timing,
    community,
    compare,
    fresh_postgres,
    kill_plan,
    postgres_restarter,
    seen,
)

TIMING = Timing()


def say(line: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {line}", flush=True)


async def one(database: str, args: argparse.Namespace, workdir: Path) -> bool:
    plan = community(args.seed, args.events, TIMING, per_wave=args.per_wave, digest_every=args.digest_every)
    restart, why_not = (None, "SQLite has no server") if database == "sqlite" else postgres_restarter(POSTGRES_URL)
    kills = kill_plan(args.seed, plan, args.kills, TIMING, database_restart=restart is not None)
    minutes = len(plan.waves) * TIMING.wave_length() / 60
    print(f"\n{database}: {plan.events} events in {len(plan.waves)} waves, {args.kills} kills planned "
          f"(about {minutes:.0f} minutes)", flush=True)
    if database == "postgresql" and restart is None:
        print(f"  the database server is not restarted: {why_not}")
    clean_dir, chaos_dir = workdir / database / "clean", workdir / database / "chaos"
    clean_run = ChaosRun(plan, f"sqlite:///{clean_dir}/steward.db", clean_dir, TIMING, [])
    if database == "sqlite":
        chaos_run = ChaosRun(plan, f"sqlite:///{chaos_dir}/steward.db", chaos_dir, TIMING, kills, say=say)
        clean, chaos = await asyncio.gather(clean_run.run(), chaos_run.run())
    else:
        async with fresh_postgres(POSTGRES_URL) as url:
            chaos_run = ChaosRun(plan, url, chaos_dir, TIMING, kills, restart_database=restart, say=say)
            clean, chaos = await asyncio.gather(clean_run.run(), chaos_run.run())
    comparison = compare(seen(clean), seen(chaos))
    report(clean, chaos, comparison)
    return ok(clean, chaos, comparison)


def report(clean: Result, chaos: Result, comparison: Comparison) -> None:
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(chaos.kills_by_kind.items()))
    posts = sum(seen(clean).posts.values())
    print(f"  kills: {chaos.kills} ({kinds}); planned kills that found nothing to cut: {len(chaos.missed)}")
    print(f"  database server restarts: {chaos.database_restarts}")
    print(f"  deliveries Slack repeated to the next process: {chaos.redelivered}")
    if chaos.downtime:
        print(f"  kill to reconnected: median {statistics.median(chaos.downtime):.1f} s, "
              f"max {max(chaos.downtime):.1f} s")
    print(f"  posts in the clean run: {posts}; digests: {sum(seen(clean).digests.values())}")
    print(f"  stored: messages missing {len(chaos.unstored)}, events left in the inbox {chaos.inbox_left}, "
          f"outbox rows never delivered {chaos.outbox_unsent}")
    print(f"  lost: {comparison.lost}   doubled: {comparison.doubled}   not in the clean run: {comparison.unexpected}")
    print(f"  by outbox key: decided only in the clean run {len(comparison.keys_missing)}, only in this run "
          f"{len(comparison.keys_extra)}, the same decision in other words {comparison.reworded}")
    print(f"  updates, reactions, pins missing: {comparison.missing_once}   extra: {comparison.extra_once}")
    print(f"  private replies lost: {comparison.private_lost}   extra: {comparison.private_extra}")
    print(f"  same digests: {'yes' if comparison.digests_equal else 'NO'}")
    print(f"  tracebacks in the logs: clean {clean.log.count('Traceback')}, chaos {chaos.log.count('Traceback')}")
    print(f"  wall time: {max(clean.seconds, chaos.seconds) / 60:.1f} min")
    for line in comparison.details[:20]:
        print(f"    {line}")
    for key in comparison.keys_missing[:20]:
        print(f"    decided only in the clean run: {key}")
    for key in comparison.keys_extra[:20]:
        print(f"    decided only in this run: {key}")
    for name in chaos.unstored[:20]:
        print(f"    message never stored: {name}")


def ok(clean: Result, chaos: Result, comparison: Comparison) -> bool:
    differs = (comparison.lost, comparison.doubled, comparison.unexpected, comparison.missing_once,
               comparison.extra_once, comparison.private_lost, comparison.private_extra)
    return (not any(differs) and comparison.digests_equal and "Traceback" not in clean.log + chaos.log
            and clean.exit_status == 0 and chaos.exit_status == 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--per-wave", type=int, default=150, help="events in each wave of the community")
    parser.add_argument("--digest-every", type=int, default=3, help="a `/steward digest now` every Nth wave")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--keep", type=Path, help="keep the databases and logs here (default: a temporary folder)")
    args = parser.parse_args()
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    with tempfile.TemporaryDirectory(prefix="steward-chaos-") as scratch:
        workdir = args.keep or Path(scratch)
        results = [asyncio.run(one(database, args, workdir)) for database in databases]
    print("\nresult:", "nothing lost, nothing doubled, the same digests" if all(results) else "DIFFERENCES (above)")
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
