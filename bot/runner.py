"""Starting Steward: the demo on the sample community, the console, or the real platforms."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.ports import AdapterStartError, PlatformAdapter
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.app.engine import Engine

logger = logging.getLogger(__name__)

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sample-community.jsonl"
DEMO_DATABASE = Path("data") / "demo.db"
CONSOLE_DATABASE = Path("data") / "console.db"


def run_demo(settings: Settings, out: object = print) -> None:
    """Replay the sample community into a fresh local database and tell what Steward noticed and did."""
    from adapters.console.render import Narrator, print_summary
    from bot.app.replay import replay

    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DATABASE}{suffix}").unlink(missing_ok=True)
    settings = settings.model_copy(update={"database_url": f"sqlite:///{DEMO_DATABASE}"})
    printer = out if callable(out) else print
    printer("No Slack or Discord tokens in .env: showing what Steward does on the sample community")
    printer(f"({SAMPLE.name}, two weeks of a change community, replayed on a simulated clock).\n")
    result = asyncio.run(replay(SAMPLE, settings, on_actions=Narrator(printer)))
    print_summary(result, printer)
    printer(f"\nThe replay is stored in {DEMO_DATABASE}. Try it yourself: `steward run --console`.")


def console_start(settings: Settings, now: datetime) -> datetime:
    """The console's simulated clock starts in working hours (now, or the next opening), so flags can fall due."""
    from facilitation_rules.working_time import WorkingHours

    hours = WorkingHours(settings.steward_timezone, settings.work_start_hour, settings.work_end_hour,
                         settings.working_weekdays)
    return hours.add(now.replace(second=0, microsecond=0), 0)


async def run_console(settings: Settings) -> None:
    from adapters.console.adapter import run_console_session
    from bot.app.wiring import build_engine
    from bot.core.clock import SimulatedClock

    clock = SimulatedClock(console_start(settings, datetime.now(UTC)))
    for suffix in ("", "-wal", "-shm"):  # every console session starts with an empty community
        Path(f"{CONSOLE_DATABASE}{suffix}").unlink(missing_ok=True)
    console_settings = settings.model_copy(update={"database_url": f"sqlite:///{CONSOLE_DATABASE}"})
    engine = await build_engine(console_settings, clock)
    try:
        await run_console_session(engine, clock)
    finally:
        await engine.flush()
        await engine.close()


def platform_adapters(settings: Settings, engine: Engine) -> list[PlatformAdapter]:
    adapters: list[PlatformAdapter] = []
    if settings.has_slack:
        from adapters.slack.adapter import SlackAdapter

        adapters.append(SlackAdapter(settings, engine))
    if settings.has_discord:
        from adapters.discord.adapter import DiscordAdapter

        adapters.append(DiscordAdapter(settings, engine))
    return adapters


async def run_platforms(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Connect to every configured platform and facilitate until stopped."""
    from bot.app.delivery import DeliveryWorker
    from bot.app.scheduler import Scheduler
    from bot.app.wiring import build_engine
    from bot.core.clock import SystemClock

    stop = stop or asyncio.Event()
    clock = SystemClock()
    # PostgreSQL is how several replicas share work: then each workspace is decided under a lease.
    engine = await build_engine(settings, clock, shared=settings.database_url.startswith("postgres"))
    adapters = platform_adapters(settings, engine)
    worker = DeliveryWorker(engine.db, [a.sender for a in adapters], clock)
    engine.on_outbox.append(worker.wake)
    scheduler = Scheduler(engine, sweep_seconds=settings.sweep_seconds)
    started: list[PlatformAdapter] = []
    try:
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
        scheduler.start()
        logger.info("Steward is running; press Ctrl+C to stop")
        await worker.run(stop)
    except AdapterStartError as exc:
        logger.error("%s", exc)
        raise SystemExit(2) from exc
    finally:
        scheduler.shutdown()
        for adapter in reversed(started):
            await adapter.stop()
        await engine.close()
