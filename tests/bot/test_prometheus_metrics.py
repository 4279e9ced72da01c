"""The metrics module: what the engine's observer, the delivery worker and the scrape-time depth reader count,
each in a fresh registry, with labels that never carry a member id or text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app.delivery import ChannelUnreachable, DeliveryWorker, PermanentFailure, RefLookup, RetryLater
from bot.app.engine import Engine
from bot.app.metrics import Metrics, QueueDepths, database_depths, kind_of, platform_of
from bot.core.actions import Action, PostEphemeral, PostMessage
from bot.core.clock import SimulatedClock
from bot.core.events import Decided, MemberJoined, TimePassed
from bot.settings import Settings
from tests.support import WS, at, community, message


class Platform:
    """A sender whose failures are scripted: each entry is raised once, then sends succeed."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)

    def handles(self, workspace: str) -> bool:
        return True

    async def send(self, action: Action, refs: RefLookup) -> str | None:
        if self.failures:
            raise self.failures.pop(0)
        return "ref"


def post(key: str, channel: str = "help") -> PostMessage:
    return PostMessage(key=key, workspace=WS, channel=channel, text=f"text {key}")


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Engine]:
    engine = await community(settings, at("2026-03-02 09:00"), rules=[])
    yield engine
    await engine.db.dispose()


async def queue(engine: Engine, *actions: Action) -> None:
    engine._enqueue(actions, engine.clock.now())
    await engine.flush()


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_labels_name_the_platform_and_the_event_kind() -> None:
    assert platform_of("slack:T0123") == "slack" and platform_of("discord:42") == "discord"
    assert platform_of("") == "none"
    assert kind_of(MemberJoined(workspace=WS, at=at("2026-03-02 09:00"), channel="C1", user="U1")) == "member_joined"


def test_the_observer_counts_platform_events_and_every_decided_action() -> None:
    metrics = Metrics()
    now = at("2026-03-02 09:00")
    question = message("UALICE", "Where is the rollout plan?", now, ws="slack:T1")
    metrics.observe(question, [post("a"), post("b"), PostEphemeral(key="c", workspace=WS, channel="help",
                                                                   user="UALICE", text="hi")])
    metrics.observe(Decided(workspace="slack:T1", at=now), [post("d")])  # a rule's fact: its actions count
    metrics.observe(TimePassed(workspace="", at=now), [])  # the scheduler's tick is not an event from outside
    metrics.observe(message("UBOB", "Here it is.", now, ws="slack:T1"), [])

    assert value(metrics, "steward_events_total", platform="slack", kind="message_posted", workspace="slack:T1") == 2
    assert value(metrics, "steward_events_total", platform="none", kind="time_passed", workspace="") is None
    assert value(metrics, "steward_actions_decided_total", type="post_message") == 3
    assert value(metrics, "steward_actions_decided_total", type="post_ephemeral") == 1


def test_labels_never_carry_member_ids_or_text() -> None:
    metrics = Metrics()
    metrics.observe(message("U-MEMBER-7731", "my private words about the merger", at("2026-03-02 09:00"),
                            ws="slack:T1"), [post("a", channel="C-SECRET-CHANNEL")])
    metrics.platform_error("slack:T1", "channel_gone")
    text = metrics.exposition().decode()
    assert "steward_events_total" in text and "slack:T1" in text
    for private in ("U-MEMBER-7731", "private words", "merger", "C-SECRET-CHANNEL", "text a"):
        assert private not in text


def test_each_metrics_object_has_a_registry_of_its_own() -> None:
    first, second = Metrics(), Metrics()
    first.observe(message("U1", "hello?", at("2026-03-02 09:00"), ws="discord:9"), [])
    assert value(first, "steward_events_total", platform="discord", kind="message_posted", workspace="discord:9") == 1
    assert value(second, "steward_events_total", platform="discord", kind="message_posted",
                 workspace="discord:9") is None
    families = text_string_to_metric_families(second.exposition().decode())
    [build] = [sample for family in families for sample in family.samples if sample.name == "steward_build_info"]
    assert build.value == 1 and build.labels["version"] and build.labels["python"].startswith("3.")


async def test_the_worker_counts_sends_their_latency_rate_limits_and_failures(engine: Engine) -> None:
    clock = engine.clock
    assert isinstance(clock, SimulatedClock)
    metrics = Metrics()
    worker = DeliveryWorker(engine.db, [Platform(RetryLater(30))], clock, metrics=metrics)
    await queue(engine, post("a"))
    await worker.run_once()  # 429: delayed, not failed
    assert value(metrics, "steward_platform_errors_total", platform="console", error="rate_limited") == 1
    assert value(metrics, "steward_actions_delivered_total", platform="console", type="post_message") is None
    clock.advance(timedelta(seconds=31))
    await worker.run_once()
    assert value(metrics, "steward_actions_delivered_total", platform="console", type="post_message") == 1
    assert value(metrics, "steward_delivery_latency_seconds_count", platform="console") == 1
    assert value(metrics, "steward_delivery_latency_seconds_sum", platform="console") == 31
    assert value(metrics, "steward_delivery_latency_seconds_bucket", platform="console", le="30.0") == 0
    assert value(metrics, "steward_delivery_latency_seconds_bucket", platform="console", le="60.0") == 1

    failing = Platform(PermanentFailure("missing_scope"), ChannelUnreachable("C9", "archived"))
    await queue(engine, post("b"), post("c", channel="C9"))
    await DeliveryWorker(engine.db, [failing], clock, metrics=metrics).run_once()
    assert value(metrics, "steward_actions_failed_total", platform="console", type="post_message") == 2
    assert value(metrics, "steward_platform_errors_total", platform="console", error="permanent_failure") == 1
    assert value(metrics, "steward_platform_errors_total", platform="console", error="channel_archived") == 1


async def test_a_temporary_error_counts_each_time_and_fails_once_given_up(engine: Engine) -> None:
    clock = engine.clock
    assert isinstance(clock, SimulatedClock)
    metrics = Metrics()
    worker = DeliveryWorker(engine.db, [Platform(ConnectionError("down"), ConnectionError("down"))], clock,
                            max_attempts=2, base_backoff=1, metrics=metrics)
    await queue(engine, post("a"))
    await worker.run_once()
    assert value(metrics, "steward_actions_failed_total", platform="console", type="post_message") is None
    clock.advance(timedelta(seconds=5))
    await worker.run_once()
    assert value(metrics, "steward_platform_errors_total", platform="console", error="connection_error") == 2
    assert value(metrics, "steward_actions_failed_total", platform="console", type="post_message") == 1


async def test_queue_depths_are_read_from_the_database_at_scrape_time(engine: Engine) -> None:
    metrics = Metrics()
    metrics.read_depths_with(database_depths(engine.db))
    await queue(engine, post("a"), post("b"))
    await engine.take_in(message("UALICE", "Anyone there?", engine.clock.now()))
    assert value(metrics, "steward_outbox_depth", workspace=WS) is None, "nothing is read between scrapes"
    assert value(metrics, "steward_queue_depth_read") == 0

    await metrics.refresh_depths()
    assert value(metrics, "steward_outbox_depth", workspace=WS) == 2
    assert value(metrics, "steward_inbox_depth", workspace=WS) == 1
    assert value(metrics, "steward_queue_depth_read") == 1

    await DeliveryWorker(engine.db, [Platform()], engine.clock).run_once()
    await metrics.refresh_depths()
    assert value(metrics, "steward_outbox_depth", workspace=WS) is None, "sent rows do not wait"


async def test_a_database_that_does_not_answer_leaves_the_depths_unread() -> None:
    metrics = Metrics()

    async def broken() -> QueueDepths:
        raise ConnectionRefusedError("database away")

    metrics.depths = QueueDepths(outbox={WS: 3}, read=True)
    metrics.read_depths_with(broken)
    await metrics.refresh_depths()
    assert value(metrics, "steward_queue_depth_read") == 0
    assert value(metrics, "steward_outbox_depth", workspace=WS) is None, "no figure from an older scrape"


def test_the_workspaces_held_are_read_at_each_scrape_and_absent_without_replicas() -> None:
    metrics = Metrics()
    assert value(metrics, "steward_workspaces_held") is None, "one process without leases: nothing to report"
    held = ["slack:T1", "slack:T2"]
    metrics.count_held_with(lambda: len(held))
    assert value(metrics, "steward_workspaces_held") == 2
    held.pop()
    assert value(metrics, "steward_workspaces_held") == 1
