"""Starting Steward: the demo on the sample community, the console, or the real platforms."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

from bot.settings import Settings

logger = logging.getLogger(__name__)

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sample-community.jsonl"
DEMO_DATABASE = Path("data") / "demo.db"


def run_demo(settings: Settings, out: object = print) -> None:
    """Replay the sample community into a fresh local database and tell what Steward noticed and did."""
    from adapters.console.render import Narrator, print_summary
    from bot.replay import replay

    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DATABASE}{suffix}").unlink(missing_ok=True)
    settings = settings.model_copy(update={"database_url": f"sqlite:///{DEMO_DATABASE}"})
    printer = out if callable(out) else print
    printer("No Slack or Discord tokens in .env: showing what Steward does on the sample community")
    printer(f"({SAMPLE.name}, two weeks of a change community, replayed on a simulated clock).\n")
    result = asyncio.run(replay(SAMPLE, settings, on_actions=Narrator(printer)))
    print_summary(result, printer)
    printer(f"\nThe replay is stored in {DEMO_DATABASE}. Try it yourself: `steward run --console`.")


async def run_console(settings: Settings) -> None:
    from adapters.console.adapter import run_console_session
    from bot.app import build_engine
    from bot.clock import SimulatedClock

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = SimulatedClock(now)
    console_settings = settings.model_copy(update={"database_url": "sqlite:///data/console.db"})
    engine = await build_engine(console_settings, clock)
    try:
        await run_console_session(engine, clock)
    finally:
        await engine.flush()
        await engine.db.dispose()


async def run_platforms(settings: Settings) -> None:
    """Connect to the configured platforms; the Slack and Discord adapters are not built yet."""
    missing = []
    if settings.has_slack:
        missing.append("Slack")
    if settings.has_discord:
        missing.append("Discord")
    logger.error(
        "%s tokens are set, but the %s adapter is not built yet; `steward run --demo` shows the sample community",
        " and ".join(missing),
        " and ".join(missing),
    )
    raise SystemExit(2)
