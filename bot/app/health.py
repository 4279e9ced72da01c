"""Health, readiness and metrics of `steward run`, on a port of their own (METRICS_PORT, loopback by default).

- `/healthz`: liveness. The event loop answered this request, so the process is not hung.
- `/readyz`: readiness. Every check (the database answers `SELECT 1`, each platform connection is up) passes
  within a second; 200 or 503, with each check's state in a small JSON body.
- `/metrics`: Prometheus' text format, with the queue depths read from the database at this scrape.

This is an operator's port, kept apart from the portal: members reach the portal, only monitoring reaches this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.metrics import Metrics, QueueDepths
from bot.core.ports import AdapterStartError

logger = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]
CHECK_SECONDS = 1.0  # a check that takes longer fails: a probe must not hang on a stuck database
OK, FAILING = "ok", "failing"


def database_check(db: AsyncEngine) -> Check:
    """The database answers a trivial query."""

    async def answers() -> bool:
        async with db.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    return answers


async def run_check(name: str, check: Check, timeout: float = CHECK_SECONDS) -> str:
    """A check's state: ok, or failing when it says no, raises or takes longer than `timeout`."""
    try:
        passed = await asyncio.wait_for(check(), timeout=timeout)
    except TimeoutError:
        logger.debug("readiness check %s took longer than %.1f s", name, timeout)
        return FAILING
    except Exception as exc:
        logger.debug("readiness check %s failed: %s", name, type(exc).__name__)
        return FAILING
    return OK if passed else FAILING


class HealthServer:
    """A small aiohttp server for probes and the metrics scrape."""

    def __init__(self, host: str, port: int, checks: Mapping[str, Check], metrics: Metrics | None = None,
                 *, check_seconds: float = CHECK_SECONDS) -> None:
        self.host = host
        self.port = port
        self.checks = dict(checks)
        self.metrics = metrics
        self.check_seconds = check_seconds
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.scrape)
        return app

    async def start(self) -> None:
        """Listen on METRICS_HOST:METRICS_PORT; a port in use stops the start with the setting to change."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise AdapterStartError(
                f"cannot serve health and metrics on METRICS_HOST={self.host} METRICS_PORT={self.port}: "
                f"{exc.strerror or exc}"
            ) from exc
        logger.info("health and metrics at http://%s:%d/ (healthz, readyz, metrics)", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def readiness(self) -> dict[str, str]:
        """Every check's state, checked at once (each within `check_seconds`)."""
        names = list(self.checks)
        states = await asyncio.gather(*(run_check(n, self.checks[n], self.check_seconds) for n in names))
        return dict(zip(names, states, strict=True))

    async def healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": OK})

    async def readyz(self, _: web.Request) -> web.Response:
        checks = await self.readiness()
        ready = all(state == OK for state in checks.values())
        return web.json_response({"status": "ready" if ready else "not ready", "checks": checks},
                                 status=200 if ready else 503)

    async def scrape(self, _: web.Request) -> web.Response:
        if self.metrics is None:
            raise web.HTTPNotFound()
        try:
            await asyncio.wait_for(self.metrics.refresh_depths(), timeout=self.check_seconds)
        except TimeoutError:
            self.metrics.depths = QueueDepths()  # unread this time; the other figures still count
        response = web.Response(body=self.metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response
