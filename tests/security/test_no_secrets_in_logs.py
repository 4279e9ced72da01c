"""Tokens and secrets never reach a log line, a report or an export.

With distinctive fake secrets configured (Slack bot and app tokens, signing secret, OpenAI key, Discord token)
and logging at DEBUG, Steward runs as real processes: a replay with its report, the demo, a lessons export and
the audit report, a live run on the local Slack (Socket Mode) and Discord fakes with the LLM stub (a lesson
distilled by the model, its metrics scraped), and a run in Slack HTTP mode that receives signed and forged requests
and logs as JSON (LOG_FORMAT=json). Every line they printed or logged, every file they wrote, every database they
left and the metrics they served are searched for the secrets.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.e2e.discord import fake_discord as fd
from tests.e2e.openai.fake_openai import FakeOpenAI
from tests.e2e.slack.fake_slack import TEAM, FakeSlack, trigger_id, wait_for
from tests.security.slack_http import Raw, send, sign

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-SECRET-bot-5f1c9e2a7b",
    "SLACK_APP_TOKEN": "xapp-1-SECRET-app-8d4e0b6c31",
    "SLACK_SIGNING_SECRET": "SECRET-signing-3a9f7c1e5d",
    "OPENAI_API_KEY": "sk-SECRET-openai-6b2d8e4f0a",
    "DISCORD_TOKEN": "SECRET-discord-9c7a5e3b1f",
}


def leaks(text: str) -> list[str]:
    """Which secrets the text shows, whole or by their distinctive tail."""
    return [name for name, secret in SECRETS.items() if secret in text or secret.rsplit("-", 1)[1] in text]


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "OPENAI_"))}
    return env | SECRETS | {"LOG_LEVEL": "DEBUG", "STEWARD_TIMEZONE": "UTC"} | extra


async def steward(args: list[str], env: dict[str, str], log: Path) -> int:
    """Run `steward ARGS` to the end; its output goes to `log`."""
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", *args, cwd=ROOT, env=env,
                                                       stdout=out, stderr=asyncio.subprocess.STDOUT)
        return await asyncio.wait_for(process.wait(), 240)


async def until(predicate: object, timeout: float, log: Path) -> None:
    try:
        await wait_for(predicate, timeout=timeout)  # type: ignore[arg-type]
    except AssertionError:
        raise AssertionError(f"timed out; the process said:\n{log.read_text(errors='replace')[-3000:]}") from None


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    try:
        with sqlite3.connect(database) as conn:
            return list(conn.execute(sql))
    except sqlite3.OperationalError:
        return []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.answer = {"title": "Booking the training room", "problem": "How to book the training room.",
                     "what_worked": "Booking it in the room finder.", "steps": ["Open the room finder"],
                     "tips": [], "tags": ["rooms"]}
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_no_secret_in_any_log_report_export_or_database(
    tmp_path: Path, llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sample = ROOT / "examples" / "sample-community.jsonl"
    logs: list[Path] = []

    def log(name: str) -> Path:
        logs.append(tmp_path / f"{name}.log")
        return logs[-1]

    # 1. Offline: a replay with its report, the demo, a lessons export and the audit report.
    offline = environment(DATABASE_URL=f"sqlite:///{tmp_path}/demo.db", OPENAI_BASE_URL=llm.base_url)
    report = tmp_path / "report.json"
    assert await steward(["replay", str(sample), "--report", str(report), "--database",
                          f"sqlite:///{tmp_path}/replay.db"], offline, log("replay")) == 0
    assert await steward(["run", "--demo"], offline, log("demo")) == 0
    assert await steward(["lessons", "export", str(tmp_path / "lessons")], offline, log("export")) == 0
    assert await steward(["audit", "--out", str(tmp_path / "audit.html")], offline, log("audit")) == 0
    assert llm.requests, "the replay asked the model (the key was used)"
    assert all(h.get("Authorization") == f"Bearer {SECRETS['OPENAI_API_KEY']}" for h in llm.headers)

    # 2. Live: Slack in Socket Mode and Discord at once, a lesson distilled by the model.
    slack, discord_fake = FakeSlack(), fd.FakeDiscord(channels={"810000000000000002": fd.text_channel(
        "810000000000000002", "help")}, members={"600000000000000001": fd.member("600000000000000001", "alice")})
    slack.valid_tokens = {SECRETS["SLACK_BOT_TOKEN"], SECRETS["SLACK_APP_TOKEN"]}
    monkeypatch.setattr(fd, "TOKEN", SECRETS["DISCORD_TOKEN"])
    await slack.start()
    await discord_fake.start()
    live_db = tmp_path / "live.db"
    metrics_port = free_port()
    live = environment(DATABASE_URL=f"sqlite:///{live_db}", OPENAI_BASE_URL=llm.base_url,
                       SLACK_API_URL=slack.api_url, DISCORD_API_URL=discord_fake.rest_url,
                       DISCORD_GATEWAY_URL=discord_fake.gateway_url, DISCORD_APPLICATION_ID=fd.APP_ID,
                       SWEEP_SECONDS="1", METRICS_PORT=str(metrics_port))
    live_log = log("live")
    before = len(llm.requests)
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=live,
                                                   stdout=live_log.open("wb"), stderr=asyncio.subprocess.STDOUT)
    try:
        await until(lambda: slack.open_connections == 1 and discord_fake.identifies == 1, 60, live_log)
        root = f"{time.time():.6f}"
        for n, (user, text) in enumerate([("UALICE", "How do I book the training room for Friday?"),
                                          ("UBOB", "Use the room finder in Outlook and pick Training."),
                                          ("UALICE", "That worked, thanks!")]):
            ts = root if n == 0 else f"{time.time():.6f}"
            event = {"type": "message", "channel": "C1", "user": user, "text": text, "ts": ts, "event_ts": ts,
                     "channel_type": "channel", **({"thread_ts": root} if n else {})}
            await slack.push("events_api", {"token": "t", "team_id": TEAM, "api_app_id": "A1", "type":
                                            "event_callback", "event": event, "event_id": f"Ev{n}",
                                            "event_time": int(time.time())})
            await asyncio.sleep(0.05)
        await until(lambda: len(rows(live_db, "SELECT 1 FROM message")) >= 3, 30, live_log)
        await slack.push("interactive", {"type": "message_action", "callback_id": "save_lesson", "team": {"id": TEAM},
                                         "user": {"id": "UALICE", "team_id": TEAM}, "channel": {"id": "C1"},
                                         "token": "t", "trigger_id": trigger_id(), "message_ts": root,
                                         "message": {"ts": root, "text": "How do I book the training room?"},
                                         "response_url": slack.response_url("lesson")})
        await slack.push("slash_commands", {"token": "t", "team_id": TEAM, "channel_id": "C1", "user_id": "UBOB",
                                            "command": "/steward", "text": "help", "trigger_id": trigger_id(),
                                            "response_url": slack.response_url("help")})
        await discord_fake.dispatch("MESSAGE_CREATE", fd.message(
            "910000000000000001", "810000000000000002", discord_fake.members["600000000000000001"]["user"],
            "Where is the rollout plan?"))
        await until(lambda: {r["key"] for r in slack.responses} >= {"lesson", "help"}, 30, live_log)
        assert len(llm.requests) > before, "the model distilled the lesson"
        async with aiohttp.ClientSession() as session:
            for path in ("metrics", "readyz"):
                async with session.get(f"http://127.0.0.1:{metrics_port}/{path}") as response:
                    (tmp_path / f"served-{path}.txt").write_bytes(await response.read())
        assert b"steward_events_total{" in (tmp_path / "served-metrics.txt").read_bytes()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0, live_log.read_text(errors="replace")[-3000:]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await discord_fake.stop()

    # 3. Slack HTTP mode: signed requests, and forged ones that are refused and logged.
    port = free_port()
    http_log = log("http")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=ROOT,
        env=environment(DATABASE_URL=f"sqlite:///{tmp_path}/http.db", SLACK_API_URL=slack.api_url,
                        SLACK_MODE="http", SLACK_HTTP_PORT=str(port), OPENAI_BASE_URL=llm.base_url, LOG_FORMAT="json")
        | {"DISCORD_TOKEN": ""},
        stdout=http_log.open("wb"), stderr=asyncio.subprocess.STDOUT)
    try:
        await until(lambda: "Steward is running" in http_log.read_text(errors="replace"), 60, http_log)
        body = urlencode({"token": "t", "team_id": TEAM, "channel_id": "C1", "user_id": "UBOB",
                          "command": "/steward", "text": "help", "response_url": slack.response_url("http-help"),
                          "trigger_id": trigger_id()}).encode()
        ts = str(int(time.time()))
        good = Raw("signed", [("Content-Type", "application/x-www-form-urlencoded"),
                              ("X-Slack-Request-Timestamp", ts),
                              ("X-Slack-Signature", sign(body, ts, SECRETS["SLACK_SIGNING_SECRET"]))], body)
        assert await send(port, good) == 200
        assert await send(port, good) == 401  # a replay
        forged = Raw("forged", [("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", "v0=" + "0" * 64)], body)
        assert await send(port, forged) == 401
        await until(lambda: any(r["key"] == "http-help" for r in slack.responses), 20, http_log)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0, http_log.read_text(errors="replace")[-3000:]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await slack.close()

    # Everything written: logs, the report, the exports, the audit, the databases; and this process's own log.
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert report in written and (tmp_path / "audit.html") in written
    assert any(p.parent.name == "lessons" or "lessons" in p.parts for p in written), "lessons were exported"
    found = {str(p.relative_to(tmp_path)): leaks(p.read_bytes().decode("utf-8", errors="replace")) for p in written}
    found["(test process log)"] = leaks(caplog.text)
    assert {where: names for where, names in found.items() if names} == {}
    assert [json.loads(line)["level"] for line in http_log.read_text().splitlines() if line.strip()], "JSON lines"
    lines = sum(len(p.read_text(errors="replace").splitlines()) for p in logs)
    assert lines > 200, "the processes logged at DEBUG (there was something to search)"
    assert json.loads(report.read_text())  # the report is real JSON, not an error message
