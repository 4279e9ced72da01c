"""Three `steward run` processes, each its own Python process with its own Socket Mode connection, share one
PostgreSQL database and the local Slack fake. Slack spreads the events over the three connections (and
delivers one again); the process holding the workspace's lease decides, the others hand events over through the
inbox. The owner is killed (SIGKILL, no clean stop); another process takes the workspace over.

What reaches Slack: every flag and every "stuck" DM exactly once, in order, and nothing about the question
that was answered in its thread.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.i18n import translate
from tests.e2e.slack.fake_slack import TEAM, FakeSlack, wait_for

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[3]
ANSWER_TIME_HOURS = 0.002  # 7.2 s: a flag is due that long after the question
STUCK_AFTER = 2 * ANSWER_TIME_HOURS * 3600  # the asker of a question still waiting then is offered help


def environment(database_url: str, fake: FakeSlack) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DISCORD_", "OPENAI_"))}
    return env | {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-1-test",
        "SLACK_API_URL": fake.api_url,
        "STEWARD_TIMEZONE": "UTC",
        "ANSWER_TIME_HOURS": str(ANSWER_TIME_HOURS),
        "WORK_START_HOUR": "0",
        "WORK_END_HOUR": "24",
        "WORK_DAYS": "mon,tue,wed,thu,fri,sat,sun",
        "QUIET_START_HOUR": "0",
        "QUIET_END_HOUR": "0",  # no quiet hours: the test runs at any hour
        "CONFIRM_AFTER_HOURS": "0",
        "SWEEP_SECONDS": "1",
        "LEASE_SECONDS": "3",
        "LOG_LEVEL": "INFO",
    }


async def lease_owner(database_url: str) -> str | None:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        row = await conn.fetchrow(
            "SELECT owner, expires_at FROM workspace_lease WHERE workspace_id = $1", f"slack:{TEAM}"
        )
    finally:
        await conn.close()
    return None if row is None or row["expires_at"] < datetime.now(UTC) else str(row["owner"])


async def until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    try:
        return await wait_for(predicate, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"{what} did not happen within {timeout:.0f} s") from None


async def test_three_processes_and_a_killed_owner_post_everything_once(
    postgres_url: str, tmp_path: Path
) -> None:
    fake = FakeSlack()
    await fake.start()
    env = environment(postgres_url, fake)
    processes: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"replica-{n}.log" for n in range(3)]
    counter = iter(range(1, 1000))
    try:
        for n, log in enumerate(logs):  # one at a time: connection n is process n
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
                stdout=log.open("wb"), stderr=subprocess.STDOUT,
            ))
            await until(lambda n=n: fake.open_connections == n + 1, 60, f"replica {n} connecting")

        async def post(connection: int, user: str, text: str, thread: str | None = None,
                       again: dict[str, Any] | None = None, channel: str = "C1") -> dict[str, Any]:
            """A message event through one connection; `again`: the same envelope payload delivered again."""
            if again is None:
                ts = f"{time.time():.6f}"
                event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts,
                         "channel_type": "channel"}
                if thread:
                    event["thread_ts"] = thread
                again = {"token": "t", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                         "event": event, "event_id": f"Ev{next(counter)}", "event_time": int(float(ts))}
                envelope = await fake.push("events_api", again, connection=connection)
            else:
                envelope = await fake.push("events_api", again, connection=connection, retry_attempt=1)
            await until(lambda: fake.acked(envelope), 10, "the ack")
            await asyncio.sleep(0.05)  # distinct timestamps, in order
            return again

        def flags() -> list[str]:
            return [p["thread_ts"] for p in fake.calls_to("chat.postMessage") if p.get("thread_ts")]

        def dms() -> list[tuple[str, str]]:
            """Direct messages as (channel, text): help for waiting askers, nudges for experts."""
            return [(str(p["channel"]), str(p.get("text"))) for p in fake.calls_to("chat.postMessage")
                    if str(p["channel"]).startswith("D")]

        def help_sent() -> list[str]:
            """Who got the "your question has been waiting" help (not an expert's nudge)."""
            return [channel for channel, text in dms() if text.startswith(translate("stuck.why_waiting", "en"))]

        def helped(*askers: str) -> bool:
            return {f"D{a.removeprefix('U')}" for a in askers} <= set(help_sent())

        await post(0, "UERIN", "Good morning, all")
        owner: str | None = None
        deadline = time.monotonic() + 60
        while owner is None and time.monotonic() < deadline:  # whoever decides first holds the lease
            owner = await lease_owner(postgres_url)
            await asyncio.sleep(0.1)
        assert owner, "no replica took the workspace within 60 s"

        # Each question in its own channel: quick questions in one flat channel read as one conversation.
        answered = await post(1, "UCAROL", "How do I get access to the SAP sandbox system?")
        reply = await post(2, "UBOB", "Request it in the service portal, under SAP roles.",
                           thread=answered["event"]["ts"])
        waiting = await post(2, "UALICE", "Does anyone know who runs the Jira training?", channel="C2")
        also_waiting = await post(0, "UDAN", "Where can I find the Confluence training slides?", channel="C3")
        await post(1, "UBOB", "Request it in the service portal, under SAP roles.", again=reply)  # redelivered

        expected = [waiting["event"]["ts"], also_waiting["event"]["ts"]]
        await until(lambda: flags() == expected, 60, "the first two flags")
        await until(lambda: helped("UALICE", "UDAN"), 60, "help for the two waiting askers")

        # The owner dies without a clean stop: its lease runs out and a survivor takes the workspace over.
        pid = int(owner.split(":")[1])
        victim = next(p for p in processes if p.pid == pid)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        await until(lambda: fake.open_connections == 2, 10, "the dead replica's connection closing")
        later = await post(0, "UEVE", "Is there a template for the change impact assessment?", channel="C4")
        await post(1, "UCAROL", "Thanks, and is the SAP sandbox down today?", thread=answered["event"]["ts"])
        expected.append(later["event"]["ts"])
        await until(lambda: flags() == expected, 60, "the flag after the take-over")
        await until(lambda: helped("UEVE"), 60, "help for the third asker")
        await asyncio.sleep(3)  # a few more sweeps of every survivor: nothing more may come

        assert flags() == expected, "every flag once, in order, none about the answered question"
        sent = dms()
        assert len(sent) == len(set(sent)), "no direct message twice"
        assert sorted(help_sent()) == ["DALICE", "DDAN", "DEVE"], "each waiting asker helped once, nobody answered"
        survivor_owner = await lease_owner(postgres_url)
        assert survivor_owner is not None and survivor_owner != owner
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # a clean stop for the survivors
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        await fake.close()
        # Shown when the test fails: what reached Slack, and what each replica logged.
        print("posted:", [(p.get("channel"), p.get("thread_ts")) for p in fake.calls_to("chat.postMessage")])
        for log in logs:
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}")
    for log in logs:
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, f"{log.name} logged a traceback"
        assert "write refused" not in text, f"{log.name}: a replica without the lease tried to write"
