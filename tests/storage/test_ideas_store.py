"""Ideas and initiatives on SQLite and PostgreSQL: one idea per event, one vote per member, forward-only statuses,
reactions found through the card's outbox row, the digest's figures, progress counts and forget-me."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from bot.core.cocreation import DecisionDraft
from storage.commitments import CommitmentStore
from storage.db import create_engine
from storage.decisions import DecisionStore
from storage.ideas import IdeaStore, ideas_in
from storage.initiatives import InitiativeStore, active_in
from storage.migrate import upgrade
from storage.repository import T_OUTBOX
from tests.support import at

WS = "discord:1"
NOW = at("2026-03-02 09:00")


def card(idea_id: int) -> str:
    return f"idea:{WS}:{idea_id}"


async def test_ideas_are_stored_once_voted_on_once_per_member_and_move_only_forward(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    store = IdeaStore(db)
    try:
        first, created = await store.record(WS, origin="command:1", channel="C1", text="Shared calendar",
                                            author="ana", language="en", private=False, now=NOW, card_key=card)
        again, created_again = await store.record(WS, origin="command:1", channel="C1", text="Other", author="ana",
                                                  language="en", private=False, now=NOW, card_key=card)
        assert created and not created_again and again.id == first.id and first.card_key == card(first.id)

        voted, counted = await store.vote(WS, first.id, "ben", origin="click:1", now=NOW)
        assert counted and voted is not None and voted.voters == ("ben",) and voted.revision == 1
        same, counted_again = await store.vote(WS, first.id, "ben", origin="click:1", now=NOW)
        assert counted_again and same is not None and same.revision == 1, "the same click, handled again"
        twice, counted_twice = await store.vote(WS, first.id, "ben", origin="click:2", now=NOW)
        assert not counted_twice and twice is not None and twice.votes == 1

        moved, ok = await store.move(WS, first.id, "accepted", by="ana", reason="", origin="c:2", now=NOW)
        assert ok and moved is not None and moved.status == "accepted"
        back, ok_back = await store.move(WS, first.id, "proposed", by="ana", reason="", origin="c:3", now=NOW)
        assert not ok_back and back is not None and back.status == "accepted"
        done, ok_done = await store.move(WS, first.id, "declined", by="fran", reason="no budget", origin="c:4",
                                         now=NOW)
        assert ok_done and done is not None and (done.status, done.reason) == ("declined", "no budget")
        closed, counted_closed = await store.vote(WS, first.id, "cem", origin="click:3", now=NOW)
        assert not counted_closed and closed is not None and closed.votes == 1

        # A reaction names the platform message; Discord keeps the card as "channel/message".
        async with db.begin() as conn:
            await conn.execute(insert(T_OUTBOX).values(
                workspace_id=WS, key=card(first.id), action={}, status="sent", attempts=1, created_at=NOW,
                due_at=NOW, platform_ref="C1/555",
            ))
        found = await store.by_card(WS, "555")
        assert found is not None and found.id == first.id and await store.by_card(WS, "556") is None
    finally:
        await db.dispose()


async def test_digest_figures_progress_and_forget_me(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    ideas, plans = IdeaStore(db), InitiativeStore(db)
    try:
        for n, (text, channel, private) in enumerate([("Calendar", "C1", False), ("Glossary", "C1", False),
                                                      ("Leads only", "P1", True)], start=1):
            await ideas.record(WS, origin=f"command:{n}", channel=channel, text=text, author="ana", language="en",
                               private=private, now=NOW + timedelta(minutes=n), card_key=card)
        await ideas.vote(WS, 2, "ben", origin="v1", now=NOW)
        await ideas.vote(WS, 2, "cem", origin="v2", now=NOW)
        await ideas.vote(WS, 1, "ben", origin="v3", now=NOW)
        async with db.connect() as conn:
            digest = await ideas_in(conn, WS, ["C1"], NOW, NOW + timedelta(days=7))
        assert digest.new_count == 2 and [(i.id, i.votes) for i in digest.supported] == [(2, 2), (1, 1)]
        found = await ideas.open_ideas(WS, ["GLOSS"], channel="C1")
        assert [i.id for i in found] == [2]
        assert [i.id for i in await ideas.open_ideas(WS)] == [2, 1], "a private channel's idea is listed there only"

        rollout, created = await plans.create(WS, "Rollout", goal="CRM for all", channel="C1", by="fran", now=NOW)
        same, created_again = await plans.create(WS, " rollout ", goal="", channel="C1", by="fran", now=NOW)
        assert created and not created_again and same.id == rollout.id
        decision, _ = await DecisionStore(db).record(
            WS, DecisionDraft(title="CRM", outcome="Go"), origin="d1", channel="C1", thread="t1", permalink="",
            language="en", private=False, recorded_by="ana", now=NOW, consent_until=NOW, card_key=lambda i, r: "k")
        commitment, _ = await CommitmentStore(db).record(
            WS, origin="m1", owner="ben", channel="C1", thread=None, message="m1", text="send the list",
            language="en", now=NOW, due=NOW + timedelta(days=1), ask_at=NOW)
        assert await plans.item_exists(WS, "decision", decision.id) and not await plans.item_exists(WS, "idea", 9)
        for kind, item in [("decision", decision.id), ("idea", 1), ("idea", 2), ("commitment", commitment.id)]:
            assert await plans.add(WS, rollout, kind, item, by="fran", now=NOW)
        assert not await plans.add(WS, rollout, "idea", 1, by="fran", now=NOW)
        await ideas.move(WS, 1, "done", by="ana", reason="", origin="x", now=NOW)
        progress = await plans.progress(rollout, NOW + timedelta(days=2))
        assert (progress.decisions, progress.decisions_taken) == (1, 0)
        assert progress.ideas == (("proposed", 1), ("done", 1))
        assert (progress.commitments_done, progress.commitments_open, progress.commitments_overdue) == (0, 1, 1)
        async with db.connect() as conn:
            assert [p.initiative.name for p in await active_in(conn, WS, ["C1"], NOW)] == ["Rollout"]
            assert await active_in(conn, WS, ["C2"], NOW) == ()

        assert await ideas.forget_member(WS, "ana") == 3  # the ideas she proposed
        assert await ideas.forget_member(WS, "ben") == 2  # the ideas he voted for
        remaining = await ideas.all(WS)
        assert all(i.author_id is None for i in remaining) and remaining[1].voters == ("cem",)
        assert await plans.forget_member(WS, "fran") == 5
        assert (await plans.named(WS, "ROLLOUT")).created_by is None  # type: ignore[union-attr]
    finally:
        await db.dispose()
