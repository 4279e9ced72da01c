"""`steward run` as a real process against the local Slack fake, with METRICS_PORT and LOG_FORMAT=json.

An operator scrapes /metrics after a command, a join and a question and finds them counted, with the welcome DM
that reached Slack and its latency; /readyz says 200 while Socket Mode is connected and 503, naming the Slack
check, once the fake has closed the connection and refuses new ones; every log line is a JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.slack.fake_slack import TEAM, FakeSlack, trigger_id, wait_for

ROOT = Path(__file__).resolve().parents[3]
WS = f"slack:{TEAM}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def get(port: int, path: str) -> tuple[int, str]:
    """Status and body; (0, "") while nothing listens yet."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session, \
                session.get(f"http://127.0.0.1:{port}{path}") as response:
            return response.status, await response.text()
    except (aiohttp.ClientError, TimeoutError):
        return 0, ""


async def until(probe: Any, what: str, log: Path, timeout: float = 30) -> Any:
    """Await `probe()` until it returns something true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await probe()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} not seen in time; the process said:\n{log.read_text(errors='replace')[-3000:]}")


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_readiness_and_json_logs_of_a_real_steward_run(tmp_path: Path) -> None:
    fake = FakeSlack()
    fake.users["UFRAN"] = {"id": "UFRAN", "tz": "UTC", "locale": "en-US", "is_admin": True,
                           "profile": {"display_name": "Fran"}}
    await fake.start()
    port = free_port()
    log = tmp_path / "steward.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DISCORD_", "OPENAI_"))}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path}/steward.db", "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_APP_TOKEN": "xapp-1-test", "SLACK_API_URL": fake.api_url, "STEWARD_TIMEZONE": "UTC",
            "SWEEP_SECONDS": "1", "LOG_LEVEL": "INFO", "LOG_FORMAT": "json", "METRICS_PORT": str(port),
            "QUIET_START_HOUR": "0", "QUIET_END_HOUR": "0"}  # no quiet hours: the welcome goes out at any hour
    env.pop("METRICS_HOST", None)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    closed = False
    try:
        async def ready() -> tuple[int, str] | None:
            assert process.poll() is None, log.read_text(errors="replace")
            answer = await get(port, "/readyz")
            return answer if answer[0] == 200 else None

        status, body = await until(ready, "/readyz 200", log, timeout=60)
        assert status == 200
        assert json.loads(body) == {"status": "ready", "checks": {"database": "ok", "slack": "ok"}}
        assert await get(port, "/healthz") == (200, '{"status": "ok"}')

        await fake.push("slash_commands", {"token": "t", "team_id": TEAM, "channel_id": "C1", "user_id": "UFRAN",
                                           "command": "/steward", "text": "channel purpose Rollout help.",
                                           "trigger_id": trigger_id(), "response_url": fake.response_url("purpose")})
        await wait_for(lambda: any(r["key"] == "purpose" for r in fake.responses), timeout=20)
        ts = f"{time.time():.6f}"
        await fake.push("events_api", {"token": "t", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                                       "event_id": "EvJoin", "event_time": int(time.time()),
                                       "event": {"type": "member_joined_channel", "user": "UNINA", "channel": "C1",
                                                 "channel_type": "C", "team": TEAM, "event_ts": ts}})
        ts = f"{time.time():.6f}"
        await fake.push("events_api", {"token": "t", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                                       "event_id": "EvAsk", "event_time": int(time.time()),
                                       "event": {"type": "message", "channel": "C1", "user": "UALICE", "ts": ts,
                                                 "text": "How do I book the training room?", "event_ts": ts,
                                                 "channel_type": "channel"}})

        async def welcomed() -> list[dict[str, Any]]:
            return [p for p in fake.calls_to("chat.postMessage") if p["channel"] == "DNINA"]

        await until(welcomed, "the welcome DM", log)

        async def counted() -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
            status, text = await get(port, "/metrics")
            found = samples(text) if status == 200 else {}
            done = sample(found, "steward_actions_delivered_total", platform="slack", type="send_dm") >= 1
            return found if done and sample(found, "steward_events_total", platform="slack",
                                            kind="message_posted", workspace=WS) >= 1 else None

        found = await until(counted, "the welcome DM and the question in /metrics", log)
        for kind in ("command_invoked", "member_joined", "message_posted"):
            assert sample(found, "steward_events_total", platform="slack", kind=kind, workspace=WS) == 1, kind
        assert sample(found, "steward_actions_decided_total", type="send_dm") == 1
        assert sample(found, "steward_actions_decided_total", type="post_ephemeral") >= 1
        assert sample(found, "steward_delivery_latency_seconds_count", platform="slack") >= 1
        assert sample(found, "steward_actions_failed_total", platform="slack", type="send_dm") == 0
        assert sample(found, "steward_queue_depth_read") == 1
        assert [labels for (name, labels) in found if name == "steward_build_info"]
        assert not [labels for (_, labels) in found if any(v in {"UNINA", "UALICE", "UFRAN"} for _, v in labels)]

        await fake.close()  # the Socket Mode connection closes, and no new one can be opened
        closed = True

        async def not_ready() -> tuple[int, str] | None:
            answer = await get(port, "/readyz")
            return answer if answer[0] == 503 else None

        status, body = await until(not_ready, "/readyz 503", log)
        assert status == 503
        assert json.loads(body) == {"status": "not ready", "checks": {"database": "ok", "slack": "failing"}}
        assert (await get(port, "/healthz"))[0] == 200, "alive, though not ready"

        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if not closed:
            await fake.close()
    text = log.read_text(errors="replace")
    assert code == 0, text[-3000:]
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is one JSON object
    messages = [entry["message"] for entry in entries]
    assert any(m.startswith("health and metrics at http://127.0.0.1:") for m in messages)
    assert "Steward stopped" in messages
    assert {"time", "level", "logger", "message"} <= set(entries[0])
