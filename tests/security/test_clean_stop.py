"""`steward run` as a real process against the local Slack fake: SIGTERM and SIGINT are a clean stop.

The process finishes what it was doing, writes its checkpoint, closes the Socket Mode connection and the
database, logs "Steward stopped" and exits with status 0 (a service manager's stop is not a crash).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.slack.fake_slack import TEAM, FakeSlack, wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def portal_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200 and response.read() == b"ok")
    except OSError:
        return False


def environment(database: Path, fake: FakeSlack, web_port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DISCORD_", "OPENAI_"))}
    return env | {
        "DATABASE_URL": f"sqlite:///{database}",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-1-test",
        "SLACK_API_URL": fake.api_url,
        "STEWARD_TIMEZONE": "UTC",
        "SWEEP_SECONDS": "1",
        "LOG_LEVEL": "INFO",
        "WEB_PORT": str(web_port),  # the portal is served beside the platforms, and stops with them
    }


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as conn:
        try:
            return list(conn.execute(sql))
        except sqlite3.OperationalError:  # the schema is not there yet
            return []


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_stops_steward_run_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    fake = FakeSlack()
    await fake.start()
    database = tmp_path / "steward.db"
    log = tmp_path / "steward.log"
    web_port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=environment(database, fake, web_port),
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    try:
        await wait_for(lambda: fake.open_connections == 1 or process.poll() is not None, timeout=60)
        assert process.poll() is None, log.read_text(errors="replace")
        ts = f"{time.time():.6f}"
        event = {"type": "message", "channel": "C1", "user": "UALICE", "text": "How do I book the training room?",
                 "ts": ts, "event_ts": ts, "channel_type": "channel"}
        envelope = await fake.push("events_api", {"token": "t", "team_id": TEAM, "api_app_id": "A1",
                                                  "type": "event_callback", "event": event, "event_id": "Ev1",
                                                  "event_time": int(float(ts))})
        await wait_for(lambda: fake.acked(envelope), timeout=10)
        await wait_for(lambda: rows(database, "SELECT 1 FROM message"), timeout=20)
        for _ in range(100):
            if await asyncio.to_thread(portal_answers, web_port):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"the portal does not answer beside Slack\n{log.read_text(errors='replace')}")

        process.send_signal(stop_signal)
        code = await asyncio.to_thread(process.wait, 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        await fake.close()
    text = log.read_text(errors="replace")
    assert code == 0, f"exit status {code}\n{text[-3000:]}"
    assert f"{stop_signal.name} received; stopping" in text
    assert "Steward stopped" in text, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert rows(database, "SELECT workspace_id FROM working_set_checkpoint") == [(f"slack:{TEAM}",)]
    assert not portal_answers(web_port), "the portal stopped too"
    assert rows(database, "SELECT count(*) FROM outbox WHERE status = 'sending'") == [(0,)], "no delivery half done"
    assert fake.open_connections == 0, "the Socket Mode connection was closed"
