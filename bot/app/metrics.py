"""Prometheus metrics of `steward run`: what came in, what was decided, what reached the platforms.

Counting happens at the edges of the application (the engine's observers, the delivery worker, the adapters),
never in the rules or the core. Every metric lives in the `Metrics` object's own registry, so a test makes a fresh
one and a process serves exactly its own. Labels stay bounded: a platform, an event kind, an action type, an
error's name and a workspace id; never a member id, a channel or any text.

The queue depths (outbox, inbox) are not updated on every event: the scrape reads them from the database
(`refresh_depths`), and a collector reports what that read found.
"""

from __future__ import annotations

import logging
import platform as python_platform
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.actions import Action
from bot.core.events import Decided, Event, TimePassed
from storage.queue_depth import inbox_depth, outbox_depth

logger = logging.getLogger(__name__)

RATE_LIMITED = "rate_limited"  # the error label of an HTTP 429
# From the decision to the platform's answer: most sends take well under a second, a rate limit tens of seconds,
# a retry after an outage minutes.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


def platform_of(workspace: str) -> str:
    """The platform part of a workspace id ("slack:T0123" -> "slack"); "none" for an event without one."""
    head, sep, _ = workspace.partition(":")
    return head if sep and head else "none"


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    """`MessagePosted` -> "message_posted"."""
    return _CAMEL.sub("_", name).lower()


def kind_of(event: Event) -> str:
    """An event's kind as a label: `MessagePosted` -> "message_posted"."""
    return snake(type(event).__name__)


def error_name(exc: BaseException) -> str:
    """A bounded label for an error: its class, never its message (which may name a channel or a member)."""
    return snake(type(exc).__name__)


@dataclass
class QueueDepths:
    """Rows waiting, per workspace, as the last scrape read them."""

    outbox: dict[str, int] = field(default_factory=dict)  # pending or being sent
    inbox: dict[str, int] = field(default_factory=dict)  # taken in or handed over, not handled yet
    read: bool = False  # False: the database did not answer at the last scrape


DepthReader = Callable[[], Awaitable[QueueDepths]]


def database_depths(db: AsyncEngine) -> DepthReader:
    """Reads the queue depths from the database (one connection, two grouped counts)."""

    async def read() -> QueueDepths:
        async with db.connect() as conn:
            return QueueDepths(outbox=await outbox_depth(conn), inbox=await inbox_depth(conn), read=True)

    return read


class _DepthCollector(Collector):
    """Reports the depths the last `refresh_depths` read; nothing is counted on the way in."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depths = self.metrics.depths
        outbox = GaugeMetricFamily("steward_outbox_depth", "Outbox rows not yet sent (pending or being sent).",
                                   labels=["workspace"])
        for workspace, count in sorted(depths.outbox.items()):
            outbox.add_metric([workspace], count)
        inbox = GaugeMetricFamily("steward_inbox_depth", "Inbox events taken in or handed over, not yet handled.",
                                  labels=["workspace"])
        for workspace, count in sorted(depths.inbox.items()):
            inbox.add_metric([workspace], count)
        read = GaugeMetricFamily("steward_queue_depth_read", "1 if the depths above were read at this scrape.")
        read.add_metric([], 1 if depths.read else 0)
        yield from (outbox, inbox, read)


class Metrics:
    """The process's metrics, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events = Counter("steward_events", "Platform events the engine processed.",
                              ["platform", "kind", "workspace"], registry=r)
        self.decided = Counter("steward_actions_decided", "Actions the rules decided.", ["type"], registry=r)
        self.delivered = Counter("steward_actions_delivered", "Actions the platforms accepted.",
                                 ["platform", "type"], registry=r)
        self.failed = Counter("steward_actions_failed", "Actions given up on (marked failed in the outbox).",
                              ["platform", "type"], registry=r)
        self.latency = Histogram("steward_delivery_latency_seconds",
                                 "From the decision (the outbox row's time) to the platform accepting the action.",
                                 ["platform"], buckets=LATENCY_BUCKETS, registry=r)
        self.platform_errors = Counter("steward_platform_errors",
                                       "Sends a platform refused or failed; error=rate_limited is an HTTP 429.",
                                       ["platform", "error"], registry=r)
        self.build = Info("steward_build", "The running Steward.", registry=r)
        self.build.info({"version": _version(), "python": python_platform.python_version()})
        self.depths = QueueDepths()
        self._read_depths: DepthReader | None = None
        # The labelled counters the observer needs, found once: it runs for every event, and `labels()` is the
        # costly part of counting.
        self._event_counters: dict[tuple[type, str], Counter] = {}
        self._decided_counters: dict[str, Counter] = {}
        r.register(_DepthCollector(self))

    # --- the engine's observer -------------------------------------------------------------------------------
    def observe(self, event: Event, actions: Sequence[Action], _ctx: Any = None) -> None:
        """An engine observer: one processed platform event (not a tick, not a rule's fact) and its actions."""
        if not isinstance(event, (Decided, TimePassed)):
            key = (type(event), event.workspace)
            counter = self._event_counters.get(key)
            if counter is None:
                counter = self._event_counters[key] = self.events.labels(
                    platform_of(event.workspace), kind_of(event), event.workspace
                )
            counter.inc()
        for action in actions:
            decided = self._decided_counters.get(action.type)
            if decided is None:
                decided = self._decided_counters[action.type] = self.decided.labels(action.type)
            decided.inc()

    # --- the delivery worker ---------------------------------------------------------------------------------
    def sent(self, action: Action, decided_at: datetime, now: datetime) -> None:
        platform = platform_of(action.workspace)
        self.delivered.labels(platform, action.type).inc()
        self.latency.labels(platform).observe(max(0.0, (now - decided_at).total_seconds()))

    def gave_up(self, action: Action) -> None:
        self.failed.labels(platform_of(action.workspace), action.type).inc()

    def platform_error(self, workspace: str, error: str) -> None:
        """`error`: a bounded name (`error_name`, a reason), never a message."""
        self.platform_errors.labels(platform_of(workspace), error).inc()

    # --- scraping --------------------------------------------------------------------------------------------
    def read_depths_with(self, reader: DepthReader) -> None:
        self._read_depths = reader

    def count_held_with(self, held: Callable[[], int]) -> None:
        """With several replicas: how many workspaces this process decides for, read at each scrape."""
        gauge = Gauge("steward_workspaces_held", "Workspaces whose lease this process holds (several replicas).",
                      registry=self.registry)
        gauge.set_function(lambda: float(held()))

    async def refresh_depths(self) -> None:
        """Read the queue depths for this scrape; a database that does not answer leaves them empty and unread."""
        if self._read_depths is None:
            return
        try:
            self.depths = await self._read_depths()
        except Exception as exc:
            logger.debug("queue depths not read: %s", type(exc).__name__)
            self.depths = QueueDepths()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _version() -> str:
    try:
        return metadata.version("steward")
    except metadata.PackageNotFoundError:
        return "unknown"
