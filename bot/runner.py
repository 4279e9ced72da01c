"""Starting Steward: the demo on the sample community, the console, or the real platforms."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.ports import AdapterStartError, PlatformAdapter
from bot.settings import Settings
from storage.db import redact

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.app.engine import Engine
    from bot.app.health import HealthServer
    from bot.app.metrics import Metrics

logger = logging.getLogger(__name__)

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sample-community.jsonl"
SAMPLE_KEY = SAMPLE.with_name("sample-answer-key.json")
TRY_IT = (
    "\nThe sample community is stored in {database}; every command shows it:\n"
    "  make console  (or {steward} run --console): talk to Steward in it\n"
    "  make web  (or {steward} web): its portal; then open {link}\n"
    "    to sign in as {name}, a facilitator (the link works once, for 30 minutes;\n"
    "    {steward} web login --as {member} makes another)\n"
    "  {steward} lessons export data/lessons: its lessons as files\n"
    "  {steward} audit --out data/audit.html: what Steward saw and did, week by week"
)
SAMPLE_FACILITATOR = ("U01ANNA", "Anna Becker")  # writes in the sample's #facilitators
SAMPLE_FACILITATORS = ("U01ANNA", "U01JONAS")  # the programme office: what only facilitators may do, they do


@dataclass(frozen=True)
class AnswerKey:
    """What the sample community's messages are (examples/sample-answer-key.json)."""

    not_questions: tuple[str, ...]
    answered: tuple[str, ...]
    unanswered: tuple[str, ...]
    stuck_member: str
    stuck_questions: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = SAMPLE_KEY) -> AnswerKey:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            not_questions=tuple(m for group in data["not_questions"].values() for m in group),
            answered=tuple(data["answered"]),
            unanswered=tuple(data["unanswered"]),
            stuck_member=data["stuck"]["member"],
            stuck_questions=tuple(data["stuck"]["questions"]),
        )

    @property
    def questions(self) -> frozenset[str]:
        return frozenset((*self.answered, *self.unanswered, *self.stuck_questions))


def against_key(report: dict[str, Any], key: AnswerKey) -> list[str]:
    """How the replay did against the answer key: questions found, unanswered ones flagged, false alarms."""
    found = {q["id"]: q for q in report.get("questions", [])}
    judged = key.questions | set(key.not_questions)
    said = {m for m in found if m in judged}
    hits = len(said & key.questions)
    precision = hits / len(said) if said else 0.0
    recall = hits / len(key.questions)
    flagged = {m for m, q in found.items() if q.get("flagged_at")}
    alarms = sorted(flagged & set((*key.not_questions, *key.answered)))
    return [
        f"Against the sample's answer key ({SAMPLE_KEY.name}):",
        f"  questions recognised: precision {precision:.2f}, recall {recall:.2f}",
        f"  unanswered questions flagged: {len(flagged & set(key.unanswered))} of {len(key.unanswered)}",
        f"  false alarms (flags on answered questions or non-questions): {len(alarms)}"
        + (f" ({', '.join(alarms)})" if alarms else ""),
    ]


def sample_settings(settings: Settings) -> Settings:
    """The settings the sample is replayed with: its facilitators are known, as a workspace admin would name them
    (a transcript cannot say who is one), so their initiatives and idea moves are theirs to make."""
    known = [x.strip() for x in settings.facilitators.split(",") if x.strip()]
    return settings.model_copy(update={"facilitators": ",".join(dict.fromkeys([*known, *SAMPLE_FACILITATORS]))})


def sample_workspace() -> str:
    """The sample community's workspace id, as replay gives it (platform:workspace of the meta line)."""
    from bot.core.transcript import read_meta

    meta = read_meta(SAMPLE)
    return f"{meta.platform}:{meta.workspace}"


def run_demo(settings: Settings, out: object = print) -> None:
    """Replay the sample community into the database (`DATABASE_URL`) and tell what Steward noticed and did.

    Only the sample's own workspace is started afresh: whatever else the database holds stays.
    """
    from adapters.console.render import Narrator, print_summary
    from bot.app.replay import replay

    printer = out if callable(out) else print
    asyncio.run(_forget(settings, sample_workspace()))
    printer("No Slack or Discord tokens in .env: showing what Steward does on the sample community")
    printer(f"({SAMPLE.name}, two weeks of a change community, replayed on a simulated clock).\n")
    result = asyncio.run(replay(SAMPLE, sample_settings(settings), on_actions=Narrator(printer)))
    print_summary(result, printer)
    for line in against_key(result.report, AnswerKey.load()):
        printer(line)
    member, name = SAMPLE_FACILITATOR
    link = asyncio.run(_sign_in_link(settings, sample_workspace(), member))
    printer(TRY_IT.format(database=redact(settings.database_url), steward=_steward(), link=link, name=name,
                          member=member))


async def _sign_in_link(settings: Settings, workspace: str, member: str) -> str:
    """A one-time portal link for the member, at the address `steward web` will serve."""
    from bot.app.errands.portal import portal_address
    from storage.db import create_engine
    from storage.portal import issue_sign_in

    db = create_engine(settings.database_url)
    try:
        token = await issue_sign_in(db, workspace, member, now=datetime.now(UTC))
    finally:
        await db.dispose()
    return f"{portal_address(settings.web_base_url, settings.web_host, settings.web_port)}/signin/{token}"


async def _forget(settings: Settings, workspace: str) -> None:
    from storage.db import create_engine
    from storage.migrate import upgrade
    from storage.workspaces import forget_workspace

    await upgrade(settings.database_url)
    db = create_engine(settings.database_url)
    try:
        await forget_workspace(db, workspace)
        await _count_from_one(db)
    finally:
        await db.dispose()


async def _count_from_one(db: AsyncEngine) -> None:
    """The sample names its ideas, decisions and commitments by number (`initiative add … idea 1`): on SQLite, a
    table the forgetting left empty counts from 1 again, so every `make run` gives them the same numbers. A table
    that still holds rows (another workspace's) keeps counting: its ids are never reused."""
    from sqlalchemy import text

    if db.dialect.name != "sqlite":
        return
    async with db.begin() as conn:
        if (await conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"))).first() is None:
            return
        for (table,) in (await conn.execute(text("SELECT name FROM sqlite_sequence"))).all():
            quoted = '"' + str(table).replace('"', '""') + '"'
            if (await conn.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1"))).first() is None:
                await conn.execute(text("DELETE FROM sqlite_sequence WHERE name = :table"), {"table": table})


def _steward() -> str:
    """How to run `steward` from here: the project's environment, unless it is on the PATH."""
    import shutil

    local = Path(".venv") / "bin" / "steward"
    return "steward" if shutil.which("steward") and not local.exists() else str(local)


def console_start(settings: Settings, now: datetime) -> datetime:
    """The console's simulated clock starts in working hours (now, or the next opening), so flags can fall due."""
    from facilitation_rules.working_time import WorkingHours

    hours = WorkingHours(settings.steward_timezone, settings.work_start_hour, settings.work_end_hour,
                         settings.working_weekdays)
    return hours.add(now.replace(second=0, microsecond=0), 0)


async def run_console(settings: Settings) -> None:
    """Talk to Steward in the terminal, in the community the database holds: the sample's after `make run`
    (the clock goes on from its last message), else an empty one that starts now."""
    from adapters.console.adapter import WORKSPACE, run_console_session
    from bot.app.wiring import build_engine
    from bot.core.clock import SimulatedClock

    clock = SimulatedClock(console_start(settings, datetime.now(UTC)))
    engine = await build_engine(settings, clock)
    sample = sample_workspace()
    workspace = sample if sample in engine.state.workspaces else WORKSPACE
    last = max((c.last_activity_at for c in engine.state.channels.values() if c.workspace_id == workspace
                and c.last_activity_at is not None), default=None)
    if last is not None:
        clock.set(console_start(settings, last + timedelta(hours=1)))  # activity is stored to the hour
    try:
        await run_console_session(engine, clock, workspace=workspace)
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
    """Connect to every configured platform and facilitate until stopped (the `stop` event, SIGTERM or SIGINT).

    A signal ends the run the same way as the event: the scheduler stops, the adapters disconnect, and the engine
    writes what is pending and its checkpoint, so a service manager's stop (SIGTERM) is a clean stop with status 0.
    """
    from bot.app.delivery import DeliveryWorker
    from bot.app.metrics import Metrics
    from bot.app.scheduler import Scheduler
    from bot.app.wiring import build_engine
    from bot.core.clock import SystemClock

    stop = stop or asyncio.Event()
    installed = _stop_on_signals(stop)
    try:
        clock = SystemClock()
        # PostgreSQL is how several replicas share work: then each workspace is decided under a lease.
        engine = await build_engine(settings, clock, shared=settings.database_url.startswith("postgres"))
        adapters = platform_adapters(settings, engine)
        metrics = Metrics() if settings.metrics_port else None
        worker = DeliveryWorker(
            engine.db,
            [a.sender for a in adapters],
            clock,
            facilitators_channel=settings.facilitators_channel,
            language=settings.steward_language,
            ownership=engine.ownership,
            metrics=metrics,
        )
        health = _health(settings, engine, adapters, metrics)
        engine.on_outbox.append(worker.wake)
        if engine.ownership is not None:  # a workspace's sends follow its lease
            engine.ownership.on_taken.append(worker.release_abandoned)
        else:  # nobody else delivers from this database: what is still "sending" was cut off by a crash
            await worker.release_abandoned()
        scheduler = Scheduler(engine, sweep_seconds=settings.sweep_seconds)
        started: list[PlatformAdapter] = []
        try:
            if health is not None:  # before the platforms connect: a probe sees "not ready" while they do
                await health.start()
            for adapter in adapters:
                if stop.is_set():  # a signal while starting: stop without connecting the rest
                    break
                await adapter.start()
                started.append(adapter)
            if not stop.is_set():
                scheduler.start()
                logger.info("Steward is running on %s; press Ctrl+C to stop", redact(settings.database_url))
                if settings.web_port:
                    await asyncio.gather(worker.run(stop), _portal(settings, stop, engine))
                else:
                    await worker.run(stop)
        except AdapterStartError as exc:
            logger.error("%s", exc)
            raise SystemExit(2) from exc
        finally:
            if health is not None:
                await health.stop()
            await scheduler.stop()
            for adapter in reversed(started):
                await adapter.stop()
            await engine.close()
        logger.info("Steward stopped")
    finally:
        _restore_signals(installed)


def _health(
    settings: Settings, engine: Engine, adapters: list[PlatformAdapter], metrics: Metrics | None
) -> HealthServer | None:
    """The operators' port (METRICS_PORT): liveness, readiness of the database and of each platform connection,
    and the metrics, which count the engine's events and actions and read the queue depths at each scrape."""
    if metrics is None or settings.metrics_port is None:
        return None
    from bot.app.health import HealthServer, database_check
    from bot.app.metrics import database_depths

    engine.observers.append(metrics.observe)
    metrics.read_depths_with(database_depths(engine.db))
    if engine.ownership is not None:
        ownership = engine.ownership
        metrics.count_held_with(lambda: len(ownership.held))
    checks = {"database": database_check(engine.db)}
    for adapter in adapters:
        checks[adapter.platform] = adapter.ready
    return HealthServer(settings.metrics_host, settings.metrics_port, checks, metrics)


async def _portal(settings: Settings, stop: asyncio.Event, engine: Engine) -> None:
    """The web portal beside the platforms (WEB_PORT set); it stops with them, and members' settings changed
    there are commands to this engine."""
    from adapters.web.server import serve_until

    await serve_until(settings, stop, engine.handle)


STOP_SIGNALS = ("SIGTERM", "SIGINT")


def _stop_on_signals(stop: asyncio.Event) -> list[int]:
    """SIGTERM and SIGINT set `stop` instead of killing the process (which would skip every `finally`)."""
    import signal

    loop = asyncio.get_running_loop()
    installed: list[int] = []

    def on_signal(name: str) -> None:
        if stop.is_set():  # a second signal: the next one takes the default way out, should the stop hang
            logger.warning("%s received again while stopping; one more stops Steward at once", name)
            _restore_signals(installed)
            return
        logger.info("%s received; stopping", name)
        stop.set()

    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is None:
            continue
        try:
            loop.add_signal_handler(number, on_signal, name)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or a platform without them
            continue
        installed.append(number)
    return installed


def _restore_signals(installed: list[int]) -> None:
    loop = asyncio.get_running_loop()
    for number in installed:
        loop.remove_signal_handler(number)
