"""Several replicas on one PostgreSQL: the same workload through one `steward run` and through N, against the local
Slack fake whose Web API answers after a realistic delay; the speed-up printed.

    .venv/bin/python benchmarks/replicas.py [--replicas 3] [--workspaces 18] [--events 360] [--delay-ms 50]
                                            [--database postgresql://…] [--lease-seconds 3] [--seed N] [--keep DIR]

Each run gets a fresh database on the server at --database (STEWARD_TEST_POSTGRES_URL, else the local server).
The workspaces install Steward through "Add to Slack" and their events arrive as signed HTTP requests, spread over
the processes in turn; each event makes Steward post something known in advance (a welcome, help for a stuck member,
a flag on an unanswered question and then help for its asker). The time runs from the first event sent until every
expected post reached the fake; the workload and the machinery are `tests/e2e/slack/scale_out.py`. Prints per run
the time, events/s, posts/s, the workspaces each process held and whether every expected post arrived exactly once,
whether both runs posted the same, and the speed-up. Exits with 1 when a post was lost, doubled or unexpected.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import POSTGRES_URL
from tests.e2e.slack.chaos import fresh_postgres
from tests.e2e.slack.scale_out import Result, ScaleOutRun, Timing, Workload, same_posts, workload


async def one(load: Workload, replicas: int, args: argparse.Namespace, workdir: Path) -> Result:
    async with fresh_postgres(args.database) as url:
        run = ScaleOutRun(
            load,
            url,
            workdir / f"{replicas}-replicas",
            replicas=replicas,
            delay=args.delay_ms / 1000,
            timing=Timing(answer=args.answer_seconds, lease=args.lease_seconds),
            in_flight=args.in_flight,
            timeout=args.timeout,
        )
        return await run.run()


def report(result: Result) -> None:
    expected = len(result.expected)
    received = len(set(result.posts) & result.expected)
    name = "replica " if result.replicas == 1 else "replicas"
    print(
        f"  {result.replicas} {name}: {result.seconds:.1f} s, {result.events / result.seconds:.1f} events/s, "
        f"{expected / result.seconds:.1f} posts/s (events sent and acknowledged in {result.sending:.1f} s)"
    )
    print(
        f"    expected posts received: {received} of {expected}; lost {len(result.lost)}, doubled "
        f"{result.doubled}, unexpected {len(result.unexpected)}; Slack sent {result.retried} events again"
    )
    print(
        f"    workspaces held per process: {' / '.join(str(n) for n in result.leases)}; Web API calls: "
        + ", ".join(f"{method} {count}" for method, count in result.calls.most_common())
    )
    if result.tracebacks or any(result.exit_status):
        print(f"    tracebacks in the logs of processes {result.tracebacks}; exit status {result.exit_status}")
    for team, key in sorted(result.lost)[:10]:
        print(f"    lost: {team} {key}")
    for team, key in sorted(result.unexpected)[:10]:
        print(f"    unexpected: {team} {key}")


def clean(result: Result) -> bool:
    return (
        result.complete
        and not result.lost
        and not result.doubled
        and not result.unexpected
        and not result.tracebacks
        and not any(result.exit_status)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--replicas", type=int, default=3, help="processes in the second run")
    parser.add_argument("--workspaces", type=int, default=18)
    parser.add_argument("--events", type=int, default=360, help="events over all workspaces")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="how long each Web API call takes to answer")
    parser.add_argument("--database", default=POSTGRES_URL, help="a PostgreSQL server (each run: a new database)")
    parser.add_argument("--lease-seconds", type=int, default=3, help="LEASE_SECONDS of the processes")
    parser.add_argument("--answer-seconds", type=float, default=2.0, help="a question unanswered this long is flagged")
    parser.add_argument("--in-flight", type=int, default=8, help="events Slack has sent and not yet seen answered")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds a run may take")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--keep", type=Path, help="keep the processes' logs here (default: a temporary folder)")
    args = parser.parse_args()
    if args.replicas < 2 or args.workspaces < 1 or args.events < 1:
        parser.error("--replicas must be 2 or more, --workspaces and --events 1 or more")
    if not args.database.startswith("postgresql"):
        parser.error("--database must be a PostgreSQL URL (postgresql://…): replicas share work through it")
    load = workload(args.workspaces, args.events, args.seed)
    print(
        f"{len(load.items)} events in {len(load.teams)} workspaces ({load.count('join')} joins, "
        f"{load.count('stuck')} stuck members, {load.count('question')} unanswered questions), "
        f"{len(load.expected)} expected posts; Web API delay {args.delay_ms:.0f} ms, answer time "
        f"{args.answer_seconds:g} s, LEASE_SECONDS {args.lease_seconds}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="steward-replicas-") as scratch:
        workdir = args.keep or Path(scratch)
        results = []
        for replicas in (1, args.replicas):
            print(
                f"{time.strftime('%H:%M:%S')} running with {replicas} process{'es' if replicas > 1 else ''}", flush=True
            )
            results.append(asyncio.run(one(load, replicas, args, workdir)))
            report(results[-1])
    single, several = results
    same = same_posts(single, several)
    print(
        f"  both runs posted the same: {'yes' if same else 'NO'} ({sum(single.posts.values())} and "
        f"{sum(several.posts.values())} posts)"
    )
    print(f"speed-up with {args.replicas} replicas: {single.seconds / several.seconds:.1f}x")
    return 0 if same and clean(single) and clean(several) else 1


if __name__ == "__main__":
    raise SystemExit(main())
