"""The decisions log and the commitments on SQLite and PostgreSQL: idempotent writes, consent, search, forget-me."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select

from bot.core.cocreation import DecisionDraft, commitment_subject
from storage.commitments import CommitmentStore
from storage.db import create_engine
from storage.decisions import DecisionStore, decided_in
from storage.lesson_search import index_terms
from storage.migrate import upgrade
from storage.repository import T_NUDGE
from tests.support import at

WS = "slack:T1"
NOW = at("2026-03-02 09:00")


def key(decision_id: int, round_: int) -> str:
    return f"decision:{WS}:{decision_id}:{round_}"


def draft(title: str, outcome: str, *, reasons: tuple[str, ...] = (), by: str = "ana") -> DecisionDraft:
    return DecisionDraft(
        title=title, question="Which tool?", options=("Option A", "Option B"), outcome=outcome, reasons=reasons,
        participants=("ana", "ben"), title_author=None, question_author="ana", outcome_author=by,
        option_authors=("ben", "ana"), reason_authors=tuple(by for _ in reasons),
    )


async def test_decisions_are_stored_once_per_event_voted_on_reopened_and_agreed(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    store = DecisionStore(db)
    try:
        first, created = await store.record(
            WS, draft("Use Teams for the kickoff", "Let's go with Teams."), origin="command:1", channel="C1",
            thread="t1", permalink="https://x", language="en", private=False, recorded_by="ana", now=NOW,
            consent_until=NOW + timedelta(days=6), card_key=key,
        )
        again, created_again = await store.record(
            WS, draft("Other", "Other."), origin="command:1", channel="C1", thread="t1", permalink="", language="en",
            private=False, recorded_by="ana", now=NOW, consent_until=NOW, card_key=key,
        )
        assert created and not created_again and again.id == first.id and again.title == "Use Teams for the kickoff"
        assert first.card_key == key(first.id, 0) and first.status == "proposed"
        assert (await store.live_in_thread(WS, "t1")) == first

        agreed, counted = await store.vote(WS, first.id, "ben", "agree", origin="click:1", now=NOW)
        assert counted and agreed is not None and agreed.agreements == ("ben",)
        assert (await store.vote(WS, first.id, "ben", "agree", origin="click:2", now=NOW))[1] is False
        objected, counted = await store.vote(WS, first.id, "cem", "object", origin="click:3", now=NOW)
        assert counted and objected is not None and (objected.status, objected.objected_by) == ("objected", "cem")
        assert await store.agree(WS, first.id, 0, NOW + timedelta(days=7)) is None, "an objection stops it"

        reopened = await store.repropose(WS, first.id, draft("Use Teams", "Teams, recorded."), origin="command:2",
                                         now=NOW, consent_until=NOW + timedelta(days=6), card_key=key)
        assert reopened is not None and (reopened.status, reopened.round) == ("reopened", 1)
        assert reopened.card_key == key(first.id, 1) and reopened.agreements == ()
        same = await store.repropose(WS, first.id, draft("x", "y"), origin="command:2", now=NOW,
                                     consent_until=NOW, card_key=key)
        assert same is not None and same.title == "Use Teams", "the same event proposes it once"
        assert await store.agree(WS, first.id, 0, NOW + timedelta(days=7)) is None, "an old round closes nothing"
        assert await store.agree(WS, first.id, 1, NOW + timedelta(days=5)) is None, "not before its time"
        stood = await store.agree(WS, first.id, 1, NOW + timedelta(days=6))
        assert stood is not None and stood.status == "agreed" and stood.agreed_at == NOW + timedelta(days=6)
        assert (await store.vote(WS, first.id, "dan", "object", origin="click:4", now=NOW))[1] is False
        async with db.connect() as conn:
            found = await decided_in(conn, WS, ["C1"], NOW, NOW + timedelta(days=7))
        assert [(d.title, d.why) for d in found] == [("Use Teams", "Teams, recorded.")]
        assert await store.agreed_unannounced(WS, NOW, lambda i, r: f"decision-agreed:{WS}:{i}:{r}") == [stood]
    finally:
        await db.dispose()


async def test_decisions_are_found_by_english_and_german_stems_and_private_ones_stay_in_their_channel(
    database_url: str,
) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    store = DecisionStore(db)
    try:
        for n, (title, outcome, channel, private) in enumerate([
            ("Schulungen intern", "Wir haben uns für interne Trainer entschieden.", "C1", False),
            ("Kickoff on Teams", "Let's go with Teams for the kickoff meetings.", "C1", False),
            ("Budget for trainers", "We decided on internal trainers.", "secret", True),
        ]):
            await store.record(WS, draft(title, outcome), origin=f"o{n}", channel=channel, thread=f"t{n}",
                               permalink="", language="en", private=private, recorded_by="ana", now=NOW,
                               consent_until=NOW, card_key=key)
        assert [d.title for d in await store.search(WS, "Trainer")] == ["Schulungen intern"]
        assert {d.title for d in await store.search(WS, "trainers", channel="secret")} == {
            "Schulungen intern", "Budget for trainers"}
        assert [d.title for d in await store.search(WS, "meeting kickoff")] == ["Kickoff on Teams"]
        assert await store.search(WS, "nothing like this") == []
        assert [d.title for d in await store.recent(WS, 5)] == ["Kickoff on Teams", "Schulungen intern"]
        assert index_terms("Schulungen")  # the same stems as the lessons
    finally:
        await db.dispose()


async def test_an_offer_is_made_once_per_thread(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    store = DecisionStore(db)
    try:
        assert await store.add_offer(WS, "t1", "C1", "m2", NOW)
        assert await store.add_offer(WS, "t1", "C1", "m2", NOW), "the same message again: its offer (a retry)"
        assert not await store.add_offer(WS, "t1", "C1", "m3", NOW), "another message: once per thread"
        assert [o["message_id"] for o in await store.offers(WS)] == ["m2"]
    finally:
        await db.dispose()


async def test_forget_me_takes_a_members_commitments_votes_and_words(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    decisions, commitments = DecisionStore(db), CommitmentStore(db)
    try:
        decision, _ = await decisions.record(
            WS, draft("Teams", "Let's go with Teams.", reasons=("Half the team is remote.",), by="ben"), origin="o1",
            channel="C1", thread="t1", permalink="", language="en", private=False, recorded_by="ben", now=NOW,
            consent_until=NOW, card_key=key,
        )
        await decisions.vote(WS, decision.id, "ben", "agree", origin="v1", now=NOW)
        for who in ("ben", "ana"):
            await commitments.record(WS, origin=f"message:{who}", owner=who, channel="C1", thread=None,
                                     message=f"m-{who}", text="I'll do it by Friday.", language="en", now=NOW,
                                     due=NOW + timedelta(days=4), ask_at=NOW + timedelta(days=3))
        await decisions.forget_member(WS, "ben")
        await commitments.forget_member(WS, "ben")
        kept = await decisions.get(WS, decision.id)
        assert kept is not None and kept.participants == ("ana",) and kept.recorded_by is None
        assert kept.outcome == "" and kept.reasons == () and kept.options == ("Option B",) and kept.agreements == ()
        assert [c.owner_id for c in await commitments.pending(WS, due_after=NOW)] == ["ana"]
        assert await decisions.search(WS, "teams") == [kept], "the title stays; the words ben wrote are gone"
        assert await decisions.search(WS, "remote") == []
    finally:
        await db.dispose()


async def test_a_commitment_counts_as_asked_once_its_nudge_row_exists(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    store = CommitmentStore(db)
    try:
        made, created = await store.record(WS, origin="message:m1", owner="ben", channel="C1", thread="t1",
                                           message="m1", text="I'll do it by Friday.", language="en", now=NOW,
                                           due=NOW + timedelta(days=4), ask_at=NOW + timedelta(days=3))
        again, created_again = await store.record(WS, origin="message:m1", owner="ben", channel="C1", thread=None,
                                                  message="m1", text="x", language="en", now=NOW, due=NOW,
                                                  ask_at=NOW)
        assert created and not created_again and again == made and made.anchor == "t1"
        assert [c.id for c in await store.pending(WS, due_after=NOW)] == [made.id]
        async with db.begin() as conn:
            await conn.execute(insert(T_NUDGE).values(
                workspace_id=WS, member_id="ben", question_id=commitment_subject(made.id, 0), kind="commitment",
                reason="commitment due", sent_at=NOW + timedelta(days=3), led_to_answer=False,
            ))
        assert await store.asked(made) and await store.pending(WS, due_after=NOW) == []
        moved = await store.postpone(WS, made.id, due=NOW + timedelta(days=7), ask_at=NOW + timedelta(days=6),
                                     now=NOW)
        assert moved is not None and (moved.round, moved.postponed) == (1, True) and not await store.asked(moved)
        twice = await store.postpone(WS, made.id, due=NOW + timedelta(days=9), ask_at=NOW, now=NOW)
        assert twice is not None and twice.due_at == NOW + timedelta(days=7), "moved once only"
        assert (await store.by_message(WS, "m1")) == moved and (await store.by_message(WS, "t1")) == moved
        done = await store.mark_done(WS, made.id, NOW)
        assert done is not None and done.status == "done" and await store.open_of(WS, "ben") == []
        async with db.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(T_NUDGE))).scalar() == 1
    finally:
        await db.dispose()
