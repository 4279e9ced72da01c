"""The scheduler: APScheduler's AsyncIOScheduler turns time into TimePassed events in the bot's loop.

Jobs only tick; what is due is decided by the rules from timestamps stored in the database, so a restart, a
late start or a second replica neither skips nor doubles work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import DBAPIError

from bot.app.engine import Engine
from bot.core.events import TimePassed
from storage.recognition import purge_credit_reasons
from storage.repository import purge_message_text, purge_processed_events

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 60
STARTUP_GRACE_SECONDS = 5  # the first sweep after a start waits this long at least
STOP_WAIT_SECONDS = 20.0  # a job running at stop (a sweep mid-digest, say) is let finish for this long
PROCESSED_EVENTS_KEPT = timedelta(days=30)


class Scheduler:
    def __init__(self, engine: Engine, *, sweep_seconds: int = SWEEP_SECONDS) -> None:
        self.engine = engine
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.scheduler.add_job(
            self._tracked(self.sweep),
            "interval",
            seconds=sweep_seconds,
            id="sweep",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=sweep_seconds * 5,
            # After a start, what the platforms still owe (events a crashed process never acknowledged, pushed again
            # on the new connection) comes in before time-based decisions are made without it.
            next_run_time=datetime.now(UTC) + timedelta(seconds=max(sweep_seconds, STARTUP_GRACE_SECONDS)),
        )
        self.scheduler.add_job(
            self._tracked(self.purge_expired_text),
            "interval",
            hours=6,
            id="retention",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )

        if engine.ownership is not None:
            self.scheduler.add_job(
                self._tracked(self.tend_leases),
                "interval",
                seconds=max(1, int(engine.ownership.ttl.total_seconds() / 3)),
                id="leases",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                next_run_time=datetime.now(UTC),
            )

    async def tend_leases(self) -> None:
        """Keep this process's leases, take orphaned workspaces, and handle the events other processes left."""
        async with _one_line_when_the_database_is_away("tending leases"):
            await self.engine.tend_leases()

    async def purge_expired_text(self) -> None:
        """Message text is kept only as long as MESSAGE_RETENTION_DAYS says."""
        days = self.engine.settings.message_retention_days
        before = self.engine.clock.now() - timedelta(days=days)
        purged = 0
        async with _one_line_when_the_database_is_away("the retention purge"):
            purged = await purge_message_text(self.engine.db, before)
            await purge_credit_reasons(self.engine.db, before)
            await purge_processed_events(self.engine.db, self.engine.clock.now() - PROCESSED_EVENTS_KEPT)
        if purged:
            logger.info("forgot the text of %d messages older than %d days", purged, days)

    async def sweep(self) -> None:
        """One tick: every rule does what has fallen due by now."""
        async with _one_line_when_the_database_is_away("the sweep"):
            await self.engine.handle(TimePassed(workspace="", at=self.engine.clock.now()))

    def start(self) -> None:
        self._stopping = False
        self.scheduler.start()

    def shutdown(self) -> None:
        """No further ticks; a job already running goes on (`stop` waits for it)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def stop(self) -> None:
        """No further ticks, and the running ones finished first: APScheduler's shutdown cancels a running job,
        and a sweep cancelled mid-write (its transaction rolls back) is a traceback in the log."""
        if not self.scheduler.running:
            return
        self._stopping = True
        self.scheduler.pause()  # no new runs; a running job goes on
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=STOP_WAIT_SECONDS)
            if late:
                logger.warning("%d scheduled job(s) still running at stop; they are cancelled", len(late))
        self.shutdown()

    def _tracked(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """The job, its running task known to `stop`."""

        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                if not self._stopping:
                    raise
                # Cancelled by the stop after its wait (the warning says so); its transaction rolled back and the
                # next start does the work again, so this is not a traceback in the log.
            finally:
                self._running.discard(task)

        run.__name__ = run.__qualname__ = getattr(job, "__name__", "job")
        return run


@contextlib.asynccontextmanager
async def _one_line_when_the_database_is_away(job: str) -> AsyncIterator[None]:
    """A job that fails is tried again at its next tick. An unreachable database is one clear line in the log;
    anything else is a bug, logged with its traceback."""
    try:
        yield
    except (OSError, DBAPIError) as exc:
        reason = getattr(exc, "orig", None) or exc
        logger.warning("%s failed: the database did not answer (%s); the next tick tries again", job, reason)
    except Exception:
        logger.exception("%s failed; the next tick tries again", job)
