"""Time to acknowledge Slack event requests in HTTP mode.

Starts Steward's Slack adapter in HTTP mode (on a temporary SQLite database, against a local stand-in for the
Web API), then a second process sends 2,000 signed event requests one after another and reports the
acknowledgement latency: `ack p50 X ms, p99 Y ms`. Run: `python benchmarks/slack_ack.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import statistics
import tempfile
import time

from aiohttp import web
from pydantic import SecretStr

from adapters.slack.adapter import SlackAdapter
from bot.app.wiring import build_engine
from bot.core.clock import SystemClock
from bot.settings import Settings

REQUESTS = 2000
SECRET = "benchmark-secret"
TEAM = "TBENCH"


async def web_api(request: web.Request) -> web.Response:
    """Just enough Web API for the adapter: auth.test and users.info."""
    method = request.match_info["method"]
    body: dict[str, object] = {"ok": True}
    if method == "auth.test":
        body |= {"team_id": TEAM, "user_id": "UBOT", "bot_id": "BBOT"}
    elif method == "users.info":
        body["user"] = {"id": request.query.get("user", "U1"), "tz": "UTC", "locale": "en-US"}
    return web.json_response(body)


def send_requests(port: int, results: multiprocessing.Queue[list[float]]) -> None:
    """The second process: signed event requests, one at a time, timing each acknowledgement."""
    import aiohttp
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(SECRET)
    texts = ["How do I get access to the pilot workspace?", "Thanks, that helped!", "Where is the rollout plan?"]

    async def run() -> list[float]:
        url = f"http://127.0.0.1:{port}/slack/events"
        timings = []
        async with aiohttp.ClientSession() as session:
            for i in range(REQUESTS):
                ts = f"{time.time():.6f}"
                event = {
                    "type": "message",
                    "channel": f"C{i % 5}",
                    "user": f"U{i % 40}",
                    "text": texts[i % 3],
                    "ts": ts,
                    "event_ts": ts,
                }
                body = json.dumps(
                    {
                        "token": "t",
                        "team_id": TEAM,
                        "api_app_id": "A1",
                        "type": "event_callback",
                        "event": event,
                        "event_id": f"Ev{i}",
                        "event_time": int(time.time()),
                    }
                )
                stamp = str(int(time.time()))
                headers = {
                    "X-Slack-Request-Timestamp": stamp,
                    "Content-Type": "application/json",
                    "X-Slack-Signature": verifier.generate_signature(timestamp=stamp, body=body) or "",
                }
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"request {i} answered {response.status}")
                timings.append((time.perf_counter() - started) * 1000)
        return timings

    results.put(asyncio.run(run()))


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    api = web.Application()
    api.router.add_route("*", "/api/{method}", web_api)
    runner = web.AppRunner(api, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    api_port = runner.addresses[0][1]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite:///{tmp}/bench.db",
            slack_bot_token=SecretStr("xoxb-bench"),
            slack_signing_secret=SecretStr(SECRET),
            slack_mode="http",
            slack_http_port=0,
            slack_api_url=f"http://127.0.0.1:{api_port}/api/",
        )
        engine = await build_engine(settings, SystemClock())
        adapter = SlackAdapter(settings, engine, http_host="127.0.0.1")
        await adapter.start()
        try:
            spawn = multiprocessing.get_context("spawn")
            results: multiprocessing.Queue[list[float]] = spawn.Queue()
            sender = spawn.Process(target=send_requests, args=(adapter.http_port, results))
            sender.start()
            timings: list[float] = await asyncio.get_running_loop().run_in_executor(None, results.get)
            sender.join()
        finally:
            await adapter.stop()
            await engine.db.dispose()
            await runner.cleanup()
    cuts = statistics.quantiles(timings, n=100)
    print(f"ack p50 {statistics.median(timings):.1f} ms, p99 {cuts[98]:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
