"""The operators' port: /healthz, /readyz with each check named, and /metrics, served by a real aiohttp server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import aiohttp
import pytest

from bot.app.health import FAILING, OK, Check, HealthServer, database_check, run_check
from bot.app.metrics import Metrics, database_depths
from bot.core.ports import AdapterStartError
from storage.db import create_engine
from storage.migrate import upgrade


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Switch:
    """A platform connection a test turns on and off."""

    def __init__(self) -> None:
        self.up = True

    async def __call__(self) -> bool:
        return self.up


async def get(port: int, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, response.content_type, await response.text()


@pytest.fixture
async def serve() -> AsyncIterator[object]:
    servers: list[HealthServer] = []

    async def start(checks: Mapping[str, Check], metrics: Metrics | None = None, **kwargs: float) -> int:
        port = free_port()
        server = HealthServer("127.0.0.1", port, checks, metrics, **kwargs)
        await server.start()
        servers.append(server)
        return port

    yield start
    for server in servers:
        await server.stop()


async def test_liveness_answers_while_the_loop_runs(serve) -> None:  # type: ignore[no-untyped-def]
    port = await serve({"slack": Switch()})
    status, kind, body = await get(port, "/healthz")
    assert (status, kind) == (200, "application/json") and body == '{"status": "ok"}'


async def test_readiness_names_each_check_and_fails_with_the_one_that_is_down(  # type: ignore[no-untyped-def]
    serve, sqlite_url: str
) -> None:
    await upgrade(sqlite_url)
    db = create_engine(sqlite_url)
    slack = Switch()
    try:
        port = await serve({"database": database_check(db), "slack": slack})
        status, _, body = await get(port, "/readyz")
        assert status == 200
        assert body == '{"status": "ready", "checks": {"database": "ok", "slack": "ok"}}'

        slack.up = False
        status, _, body = await get(port, "/readyz")
        assert status == 503
        assert body == '{"status": "not ready", "checks": {"database": "ok", "slack": "failing"}}'
    finally:
        await db.dispose()


async def test_a_check_that_raises_or_hangs_fails_instead_of_hanging_the_probe(serve) -> None:  # type: ignore[no-untyped-def]
    async def raises() -> bool:
        raise ConnectionResetError("gone")

    async def hangs() -> bool:
        await asyncio.Event().wait()
        return True

    port = await serve({"raises": raises, "hangs": hangs, "fine": Switch()}, check_seconds=0.2)
    status, _, body = await get(port, "/readyz")
    assert status == 503
    assert body == '{"status": "not ready", "checks": {"raises": "failing", "hangs": "failing", "fine": "ok"}}'


async def test_an_unreachable_database_fails_its_check() -> None:
    port = free_port()  # nothing listens there
    db = create_engine(f"postgresql://steward@127.0.0.1:{port}/steward")
    try:
        assert await run_check("database", database_check(db)) == FAILING
    finally:
        await db.dispose()


async def test_a_sqlite_database_passes_its_check(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/steward.db"
    await upgrade(url)
    db = create_engine(url)
    try:
        assert await run_check("database", database_check(db)) == OK
    finally:
        await db.dispose()


async def test_metrics_are_served_in_prometheus_text_with_the_depths_read_then(  # type: ignore[no-untyped-def]
    serve, sqlite_url: str
) -> None:
    await upgrade(sqlite_url)
    db = create_engine(sqlite_url)
    metrics = Metrics()
    metrics.read_depths_with(database_depths(db))
    try:
        port = await serve({"database": database_check(db)}, metrics)
        status, kind, body = await get(port, "/metrics")
        assert status == 200 and kind == "text/plain"
        assert "steward_build_info{" in body and "steward_queue_depth_read 1.0" in body
        assert "# TYPE steward_events_total counter" in body
    finally:
        await db.dispose()


async def test_a_port_in_use_is_one_clear_error_naming_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        server = HealthServer("127.0.0.1", port, {})
        with pytest.raises(AdapterStartError, match=f"METRICS_HOST=127.0.0.1 METRICS_PORT={port}"):
            await server.start()
