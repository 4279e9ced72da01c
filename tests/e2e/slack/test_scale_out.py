"""The machinery of `benchmarks/replicas.py` at a tiny size: two real `steward run` processes on one PostgreSQL
database serve three workspaces installed through "Add to Slack", their events spread over both processes, and
every post the workload must bring about reaches Slack exactly once, with the right workspace's token, and
nothing else does; the processes end up holding two and one workspace. No timing is asserted."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.slack.scale_out import ScaleOutRun, Timing, workload

pytestmark = pytest.mark.postgres


async def test_two_processes_post_every_expected_message_once(postgres_url: str, tmp_path: Path) -> None:
    load = workload(workspaces=3, events=12, seed=7)
    assert {item.kind for item in load.items} == {"join", "stuck", "question"}
    assert {item.team for item in load.items} == set(load.teams)

    result = await ScaleOutRun(load, postgres_url, tmp_path, replicas=2, timing=Timing(answer=1.0), timeout=45.0).run()

    assert result.complete, f"expected posts missing: {sorted(result.lost)}"
    assert result.posts == Counter(dict.fromkeys(load.expected, 1)), "each expected post once, nothing else"
    assert sum(result.leases) == len(load.teams), "every workspace decided by one of the processes"
    assert sorted(result.leases) == [1, 2], "shared out evenly: the first to start gave one up"
    assert result.tracebacks == [] and result.exit_status == [0, 0]
