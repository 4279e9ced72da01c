"""A local OpenAI-compatible server: POST /v1/chat/completions, recording every request.

`mode` picks the behaviour: "ok" answers with `answer` as JSON content, "error" returns HTTP 500, "slow" waits
longer than any client timeout in the tests, "garbage" answers with content that is not JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.mode = "ok"
        self.answer: dict[str, Any] = {}
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()  # set at stop, so a "slow" request never delays the teardown

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.completions)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def completions(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        if self.mode == "error":
            return web.json_response({"error": {"message": "boom", "type": "server_error"}}, status=500)
        if self.mode == "slow":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), 5)
        content = "not json at all" if self.mode == "garbage" else json.dumps(self.answer)
        return web.json_response({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": self.requests[-1]["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })
