"""What the portal asks the co-creation stores on SQLite and PostgreSQL: decisions found and listed within a
reader's channels (private ones too, when the reader may see them), and what an initiative groups."""

from __future__ import annotations

from bot.core.cocreation import DecisionDraft
from storage.db import create_engine
from storage.decisions import DecisionStore
from storage.initiatives import InitiativeStore
from storage.migrate import upgrade
from tests.support import at

WS = "slack:T1"
NOW = at("2026-03-02 09:00")


async def test_decisions_are_searched_and_listed_within_the_readers_channels(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    store = DecisionStore(db)
    try:
        for n, (title, channel, private) in enumerate([
            ("Internal trainers for the rollout", "C1", False),
            ("Trainers paid from the steering budget", "secret", True),
            ("Trainers for the warehouse", "C2", False),
        ]):
            await store.record(WS, DecisionDraft(title=title, outcome="Agreed."), origin=f"o{n}", channel=channel,
                               thread=f"t{n}", permalink="", language="en", private=private, recorded_by="ana",
                               now=at(f"2026-03-0{n + 2} 09:00"), consent_until=NOW,
                               card_key=lambda i, r: f"decision:{WS}:{i}:{r}")
        inside = {"C1", "C2", "secret"}
        assert {d.channel_id for d in await store.search(WS, "trainers", 10, channels=inside)} == inside
        assert {d.channel_id for d in await store.search(WS, "trainers", 10, channels={"C1", "C2"})} == {"C1", "C2"}
        assert [d.channel_id for d in await store.recent(WS, 10, channels={"C1", "secret"})] == ["secret", "C1"]
        assert await store.search(WS, "trainers", 10, channels=set()) == []
        assert [d.channel_id for d in await store.recent(WS, 10)] == ["C2", "C1"], "without channels: public ones"
    finally:
        await db.dispose()


async def test_an_initiative_lists_what_it_groups_in_the_order_added(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    store = InitiativeStore(db)
    try:
        plan, _ = await store.create(WS, "Digital workplace", goal="Teams for all", channel="C1", by="ana", now=NOW)
        other, _ = await store.create(WS, "Warehouse", goal="", channel="C1", by="ana", now=NOW)
        for n, (kind, item) in enumerate([("idea", 7), ("decision", 3), ("commitment", 1)]):
            assert await store.add(WS, plan, kind, item, by="ana", now=at(f"2026-03-0{n + 3} 09:00"))
        assert await store.add(WS, other, "idea", 8, by="ana", now=NOW)
        assert await store.items(plan) == [("idea", 7), ("decision", 3), ("commitment", 1)]
        assert await store.items(other) == [("idea", 8)]
    finally:
        await db.dispose()
