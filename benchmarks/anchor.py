"""The anchor figure: how many Slack message events per second slack-bolt itself dispatches to a listener that
does nothing, on this machine, now. Benchmarks print their figures beside it, as a ratio, because absolute
figures drift between machines (and between runs on a shared one) while the ratio mostly does not.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest


async def _authorize(**_: Any) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=None, team_id="TANCHOR", bot_user_id="UBOT", bot_id="BBOT", bot_token="x")


async def bolt_noop_dispatch(events: int = 20_000) -> float:
    """Message events per second through `AsyncApp.async_dispatch` to a no-op listener (Socket Mode requests: no
    signature to check), counting until every listener ran."""
    app = AsyncApp(authorize=_authorize, request_verification_enabled=False, ignoring_self_events_enabled=False)
    handled = 0

    @app.event("message")
    async def noop() -> None:
        nonlocal handled
        handled += 1

    bodies = [
        {
            "token": "t", "team_id": "TANCHOR", "api_app_id": "A1", "type": "event_callback",
            "event_id": f"Ev{n}", "event_time": 1_700_000_000,
            "event": {"type": "message", "channel": "C1", "user": "U1", "text": "hello", "ts": f"1700000000.{n:06d}",
                      "channel_type": "channel"},
        }
        for n in range(events)
    ]
    started = time.perf_counter()
    for body in bodies:
        await app.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
    while handled < events:  # bolt acks first and runs listeners as tasks
        await asyncio.sleep(0)
    return events / (time.perf_counter() - started)


if __name__ == "__main__":
    print(f"anchor: slack-bolt no-op dispatch {asyncio.run(bolt_noop_dispatch()):,.0f} events/s")
