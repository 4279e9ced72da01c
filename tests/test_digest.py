"""The weekly digest: schedules in local time, exactly-once posting, rendering in English and German."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.app.engine import Engine
from bot.app.narrator import MAX_OPENING_CHARS, capped, make_narrator
from bot.core.actions import Action, PostEphemeral, PostMessage, action_text
from bot.core.events import Event, TimePassed
from bot.rules import RuleContext
from bot.settings import Settings
from facilitation_rules.digest import Figures, Period, Schedule, WeeklyDigest, parse_day, parse_time
from storage import digests
from storage.db import create_engine
from storage.lesson_model import T_LESSON
from storage.migrate import upgrade
from storage.repository import T_OUTBOX
from tests.conftest import make_settings
from tests.e2e.openai.fake_openai import FakeOpenAI
from tests.support import WS, at, command, community, message

BERLIN = "Europe/Berlin"


# --- schedules ------------------------------------------------------------------------------------------------
def test_monday_nine_in_berlin_is_eight_utc_in_winter_and_seven_in_summer() -> None:
    schedule = Schedule(0, time(9), BERLIN)
    assert schedule.latest(at("2026-03-04 12:00")) == at("2026-03-02 08:00")
    assert schedule.following(at("2026-03-04 12:00")) == at("2026-03-09 08:00")
    assert schedule.following(at("2026-03-30 06:59")) == at("2026-03-30 07:00")
    assert schedule.latest(at("2026-03-30 07:00")) == at("2026-03-30 07:00")


def test_the_week_across_the_clock_change_is_an_hour_shorter() -> None:
    schedule = Schedule(0, time(9), BERLIN)
    period = schedule.period_ending(at("2026-03-30 07:00"))
    assert period == Period(at("2026-03-23 08:00"), at("2026-03-30 07:00"))
    assert period.end - period.start == timedelta(hours=167)
    assert schedule.period_key(period) == "2026-W13"


def test_days_and_times_in_both_languages() -> None:
    assert [parse_day(d) for d in ("mon", "Monday", "Mo", "Montag", "fri", "Fr", "so")] == [0, 0, 0, 0, 4, 4, 6]
    assert parse_time("9:30") == time(9, 30) and parse_time("17") == time(17)
    for bad in ("x", "m"):
        with pytest.raises(ValueError):
            parse_day(bad)
    with pytest.raises(ValueError):
        parse_time("25:00")


# --- helpers --------------------------------------------------------------------------------------------------
def collect(engine: Engine) -> list[Action]:
    seen: list[Action] = []

    def observe(_event: Event, actions: Sequence[Action], _ctx: RuleContext) -> None:
        seen.extend(actions)

    engine.observers.append(observe)
    return seen


def digest_posts(actions: Sequence[Action]) -> list[PostMessage]:
    return [a for a in actions if isinstance(a, PostMessage) and a.key.startswith("digest:")]


def digest_due(engine: Engine, now: datetime) -> datetime | None:
    """When the digest rule next has work (other rules have their own deadlines)."""
    rule = next(r for r in engine.rules if isinstance(r, WeeklyDigest))
    return rule.next_due(engine.context(now))


async def tick(engine: Engine, when: datetime) -> None:
    engine.clock.set(when)  # type: ignore[attr-defined]
    await engine.handle(TimePassed(workspace="", at=when))


async def busy_week(engine: Engine) -> None:
    """A week in #help (Berlin): two questions, one answered and thanked."""
    await engine.handle(message("anna", "Hi all, glad to be here", at("2026-02-24 09:00")))
    q = message("cara", "How do I request access to the staging cluster?", at("2026-03-03 09:00"))
    await engine.handle(q)
    await engine.handle(message("ben", "Use the access form in the wiki", at("2026-03-03 09:20"), thread=q.message_id))
    await engine.handle(message("cara", "Thanks, that worked!", at("2026-03-03 09:40"), thread=q.message_id))
    await engine.handle(message("dave", "Who can approve staging cluster budgets?", at("2026-03-05 10:00")))
    for hour in range(10, 14):
        await engine.handle(message("anna", f"Status update {hour}", at(f"2026-03-06 {hour}:00")))


async def outbox_digests(url: str) -> int:
    db = create_engine(url)
    try:
        async with db.connect() as conn:
            return int((await conn.execute(select(func.count()).where(T_OUTBOX.c.key.like("digest:%")))).scalar() or 0)
    finally:
        await db.dispose()


async def add_lesson(engine: Engine, title: str, when: datetime, *, private: bool = False) -> None:
    """A lesson captured in #help (stored directly: how it was distilled does not matter here)."""
    async with engine.db.begin() as conn:
        await conn.execute(
            insert(T_LESSON).values(
                workspace_id=WS, source_message_id=f"src-{title}", channel_id="help", title=title, summary="",
                steps=[], tags=[], permalink=f"https://chat.example/{len(title)}", contributors=[],
                created_at=when, updated_at=when, verified_at=None, verified_by=None, private=private,
            )
        )


# --- posting exactly once -------------------------------------------------------------------------------------
async def test_digest_is_due_at_the_channels_schedule_and_posted_once(settings: Settings) -> None:
    engine = await community(settings, at("2026-02-24 08:00"))
    seen = collect(engine)
    await busy_week(engine)
    # Nothing ticked while the week was fed in: the digest due on 2 March is still owed (posted late).
    assert digest_due(engine, at("2026-03-06 14:00")) == at("2026-03-02 08:00")
    await tick(engine, at("2026-03-06 14:00"))
    assert digest_due(engine, at("2026-03-06 14:00")) == at("2026-03-09 08:00")
    await tick(engine, at("2026-03-09 08:00"))
    await tick(engine, at("2026-03-09 08:01"))
    posts = digest_posts(seen)
    assert [p.key for p in posts] == ["digest:help:2026-W09", "digest:help:2026-W10"]
    text = action_text(posts[1])
    assert "Weekly digest for <#help>, Mar 2\u2009–\u20099, 2026" in text  # Monday 09:00 Berlin to Monday 09:00
    assert "Thank you, <@ben>, for answers" in text
    assert '"Who can approve staging cluster budgets?" by dave in <#help>, waiting 4 days' in text  # 3 d 22 h
    assert "Questions: 2 asked (last week 0), 1 answered, 1 resolved" in text
    assert "Response rate: 50%" in text
    assert "Time to first response: median 20 minutes, 90% within 20 minutes" in text
    assert digest_due(engine, at("2026-03-09 08:01")) == at("2026-03-16 08:00")
    await engine.db.dispose()


async def test_restart_does_not_post_again(settings: Settings) -> None:
    first = await community(settings, at("2026-02-24 08:00"))
    await busy_week(first)
    await tick(first, at("2026-03-09 08:05"))
    await first.db.dispose()
    second = await community(settings, at("2026-03-09 08:30"))
    seen = collect(second)
    await tick(second, at("2026-03-09 08:30"))
    assert digest_posts(seen) == []
    assert await outbox_digests(settings.database_url) == 1
    await second.db.dispose()


async def test_a_missed_digest_is_posted_late_once(settings: Settings) -> None:
    first = await community(settings, at("2026-02-24 08:00"))
    await busy_week(first)
    await first.db.dispose()  # nobody runs on Monday morning
    late = await community(settings, at("2026-03-10 15:00"))
    seen = collect(late)
    assert digest_due(late, at("2026-03-10 15:00")) == at("2026-03-09 08:00")
    await tick(late, at("2026-03-10 15:00"))
    await tick(late, at("2026-03-10 15:01"))
    assert [p.key for p in digest_posts(seen)] == ["digest:help:2026-W10"]
    await late.db.dispose()


@pytest.mark.parametrize("replicas", [2, 3])
async def test_schedulers_sharing_one_database_post_once(database_url: str, replicas: int) -> None:
    settings = make_settings(database_url, steward_timezone=BERLIN)
    engines = [await community(settings, at("2026-02-24 08:00"))]
    await busy_week(engines[0])
    engines += [await community(settings, at("2026-03-09 07:00")) for _ in range(replicas - 1)]
    seen = [collect(e) for e in engines]
    await asyncio.gather(*(tick(e, at("2026-03-09 08:00")) for e in engines))
    assert sum(len(digest_posts(s)) for s in seen) == 1
    assert await outbox_digests(database_url) == 1
    for engine in engines:
        await engine.db.dispose()


async def test_concurrent_claims_have_one_winner(database_url: str) -> None:
    await upgrade(database_url)
    dbs = [create_engine(database_url) for _ in range(4)]
    try:
        won = await asyncio.gather(
            *(
                digests.claim(
                    db, workspace=WS, channel="help", period_key="2026-W10", owner=f"o{i}", at=at("2026-03-09 08:00")
                )
                for i, db in enumerate(dbs)
            )
        )
        assert sorted(won) == [False, False, False, True]
    finally:
        for db in dbs:
            await db.dispose()


async def test_an_abandoned_claim_is_taken_over_unless_its_post_is_in_the_outbox(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    key = {"workspace": WS, "period_key": "2026-W10"}
    try:
        for channel in ("help", "general"):
            assert await digests.claim(db, channel=channel, owner="died", at=at("2026-03-09 08:00"), **key)
        async with db.begin() as conn:
            await conn.execute(
                insert(T_OUTBOX).values(
                    workspace_id=WS,
                    key="digest:general:2026-W10",
                    action={},
                    status="pending",
                    attempts=0,
                    created_at=at("2026-03-09 08:00"),
                    due_at=at("2026-03-09 08:00"),
                )
            )
        soon, later = at("2026-03-09 08:05"), at("2026-03-09 09:00")
        assert not await digests.claim(db, channel="help", owner="next", at=soon, **key)
        assert await digests.claim(db, channel="help", owner="next", at=later, **key)
        assert not await digests.claim(db, channel="general", owner="next", at=later, **key)
    finally:
        await db.dispose()


# --- content ------------------------------------------------------------------------------------------------
def speaks(engine: Engine, language: str) -> None:
    """#help's language setting: the test week's questions are English, the digest is to be in `language`."""
    channel = engine.state.channel(WS, "help")
    channel.settings = {**channel.settings, "language": language}
    engine.state.touch_channel(channel)



async def test_german_digest(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, steward_timezone=BERLIN)
    engine = await community(settings, at("2026-02-24 08:00"), language="de")
    speaks(engine, "de")
    seen = collect(engine)
    await busy_week(engine)
    await tick(engine, at("2026-03-09 08:00"))
    text = action_text(digest_posts(seen)[0])
    assert "Wochenrückblick für <#help>, 2.–9. März 2026" in text
    assert "Danke, <@ben>, für eure Antworten" in text
    assert "„Who can approve staging cluster budgets?“ von dave in <#help>, wartet schon 4 Tage" in text
    assert "Fragen: 2 gestellt (Vorwoche 0), 1 beantwortet, 1 gelöst" in text
    assert "Antwortquote: 50\u00a0%" in text  # Babel keeps the number and its sign on one line
    assert "Zeit bis zur ersten Antwort: Median 20 Minuten, bei 90 % höchstens 20 Minuten" in text
    assert "Neu im Wissensspeicher" not in text and "Neue Lektionen: 0 (±0 zur Vorwoche)" in text
    await engine.db.dispose()


@pytest.mark.parametrize(
    ("language", "heading", "field"),
    [
        ("en", "New in the knowledge store this week (2):", "New lessons: 2 (+2 on last week)"),
        ("de", "Neu im Wissensspeicher diese Woche (2):", "Neue Lektionen: 2 (+2 zur Vorwoche)"),
    ],
)
async def test_new_lessons_are_listed_with_links(sqlite_url: str, language: str, heading: str, field: str) -> None:
    engine = await community(make_settings(sqlite_url, steward_timezone=BERLIN), at("2026-02-24 08:00"),
                             language=language)
    speaks(engine, language)
    seen = collect(engine)
    await busy_week(engine)
    await add_lesson(engine, "Staging cluster access", at("2026-03-03 10:00"))
    await add_lesson(engine, "Budget approvals", at("2026-03-05 11:00"))
    await add_lesson(engine, "Kept in the thread", at("2026-03-05 12:00"), private=True)
    await tick(engine, at("2026-03-09 08:00"))
    text = action_text(digest_posts(seen)[0])
    listed = "\n• Budget approvals https://chat.example/16\n• Staging cluster access https://chat.example/22"
    assert heading + listed in text
    assert field in text and "Kept in the thread" not in text
    await engine.db.dispose()


async def test_a_quiet_week_gets_a_short_digest(settings: Settings) -> None:
    engine = await community(settings, at("2026-02-24 08:00"))
    seen = collect(engine)
    await busy_week(engine)
    await tick(engine, at("2026-03-09 08:00"))
    await tick(engine, at("2026-03-16 08:00"))
    quiet = digest_posts(seen)[1]
    assert quiet.key == "digest:help:2026-W11"
    assert quiet.card is not None and quiet.card.fields == ()
    assert "A quiet week in <#help>, with no new questions (messages: 0)" in action_text(quiet)
    assert "Who can approve staging cluster budgets?" in action_text(quiet)  # still waiting
    await engine.db.dispose()


async def test_no_digest_for_weeks_before_the_channel_existed(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 09:00"))
    seen = collect(engine)
    await engine.handle(message("anna", "First message ever", at("2026-03-02 09:30")))
    await tick(engine, at("2026-03-02 09:31"))
    assert digest_due(engine, at("2026-03-02 09:31")) == at("2026-03-09 08:00")
    assert digest_posts(seen) == []
    await engine.db.dispose()


async def test_private_and_facilitator_channels_get_no_digest(settings: Settings) -> None:
    engine = await community(settings, at("2026-02-24 08:00"))
    seen = collect(engine)
    await busy_week(engine)
    for channel, text in (("secret", "private talk"), ("facilitators", "planning")):
        await engine.handle(message("anna", text, at("2026-03-04 09:00"), channel=channel))
    secret = engine.state.channel(WS, "secret")
    secret.private = True
    engine.state.touch_channel(secret)
    await tick(engine, at("2026-03-09 08:00"))
    assert {p.channel for p in digest_posts(seen)} == {"help"}
    await engine.db.dispose()


# --- commands -----------------------------------------------------------------------------------------------
async def test_commands(settings: Settings) -> None:
    engine = await community(settings, at("2026-02-24 08:00"))
    seen = collect(engine)
    await busy_week(engine)
    preview = await engine.handle(command("cara", "digest preview", at("2026-03-06 15:00")))
    assert isinstance(preview[0], PostEphemeral) and preview[0].card is not None
    assert "Thank you, <@ben>" in action_text(preview[0])
    refused = await engine.handle(command("cara", "digest now", at("2026-03-06 15:01")))
    assert "facilitators only" in action_text(refused[0])
    await engine.handle(command("anna", "digest now", at("2026-03-06 15:02"), is_admin=True))
    assert [a.key.split(":")[0] for a in seen if isinstance(a, PostMessage)] == ["digest-now"]
    replies = await engine.handle(command("anna", "digest schedule fri 16:30", at("2026-03-06 15:03"), is_admin=True))
    assert "every Friday at 16:30 (Europe/Berlin)" in action_text(replies[0])
    assert digest_due(engine, at("2026-03-06 15:03")) == at("2026-03-06 15:30")
    stats = await engine.handle(command("cara", "stats 30", at("2026-03-06 15:04")))
    assert "Community health, last 30 days" in action_text(stats[0])
    one_day = await engine.handle(command("cara", "stats 1", at("2026-03-06 15:04")))
    assert "Community health, last day\n" in action_text(one_day[0])
    assert "Answerer concentration: 1 people gave half of 1 first responses" in action_text(stats[0])
    bad = await engine.handle(command("cara", "stats many", at("2026-03-06 15:05")))
    assert "between 1 and 365" in action_text(bad[0])
    await engine.db.dispose()


async def test_digest_now_late_in_the_week_replaces_the_scheduled_one(settings: Settings) -> None:
    engine = await community(settings, at("2026-02-24 08:00"))
    seen = collect(engine)
    await busy_week(engine)
    early = await engine.handle(command("anna", "digest now", at("2026-03-03 12:00"), is_admin=True))
    assert "replaces" not in action_text(early[-1])  # Tuesday: next Monday's digest is still wanted
    late = await engine.handle(command("anna", "digest now", at("2026-03-06 15:00"), is_admin=True))
    assert "replaces the scheduled digest on Monday at 09:00" in action_text(late[-1])
    await tick(engine, at("2026-03-09 08:00"))
    assert digest_posts(seen) == []
    await engine.handle(message("anna", "Another busy day", at("2026-03-10 10:00")))
    await tick(engine, at("2026-03-16 08:00"))
    assert [p.key for p in digest_posts(seen)] == ["digest:help:2026-W11"]
    assert len([a for a in seen if isinstance(a, PostMessage) and a.key.startswith("digest-now:")]) == 2
    await engine.db.dispose()


async def test_german_commands_name_the_day_and_the_local_time_in_german(sqlite_url: str) -> None:
    engine = await community(make_settings(sqlite_url, steward_timezone=BERLIN), at("2026-02-24 08:00"), language="de")
    await busy_week(engine)
    replies = await engine.handle(command("anna", "digest schedule fr 16:30", at("2026-03-06 15:03"), is_admin=True))
    assert "jeden Freitag um 16:30 (Europe/Berlin)" in action_text(replies[0])
    late = await engine.handle(command("anna", "digest now", at("2026-03-06 15:04"), is_admin=True))
    assert "ersetzt den geplanten Rückblick am Freitag um 16:30" in action_text(late[-1])
    stats = await engine.handle(command("cara", "stats 7", at("2026-03-06 15:05")))
    assert "Community-Gesundheit, letzte 7 Tage" in action_text(stats[0])
    await engine.db.dispose()


def test_a_rule_without_storage_stays_silent() -> None:
    assert WeeklyDigest().next_due(None) is None  # type: ignore[arg-type]


def test_response_rate_of_an_empty_week() -> None:
    figures = Figures(period=Period(at("2026-03-02 00:00"), at("2026-03-09 00:00")))
    assert figures.response_rate is None and figures.quiet




async def test_a_channel_silent_for_two_weeks_gets_no_digest(settings) -> None:  # type: ignore[no-untyped-def]
    from bot.app.replay import run_due_work
    from bot.core.actions import PostMessage
    from tests.support import at, community, message

    engine = await community(settings, at("2026-03-02 08:00"))
    posts: list[PostMessage] = []
    engine.observers.append(lambda e, actions, ctx: posts.extend(a for a in actions if isinstance(a, PostMessage)))
    for day in ("2026-03-02", "2026-03-03", "2026-03-04"):
        await engine.handle(message("anna", "Workshop notes are in the wiki.", at(f"{day} 09:00"), channel="news"))
    await run_due_work(engine, until=at("2026-04-01 12:00"))
    digests = [p for p in posts if p.key.startswith("digest:news:")]
    # Monday 9 March reports the active week, 16 March the quiet one; after that the channel is dormant.
    assert [p.key for p in digests] == ["digest:news:2026-W10", "digest:news:2026-W11"]
    await engine.db.dispose()


# --- the narrated opening ---------------------------------------------------------------------------------------
@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def llm_settings(sqlite_url: str, fake: FakeOpenAI) -> Settings:
    return make_settings(sqlite_url, steward_timezone=BERLIN, openai_api_key="test-key", openai_base_url=fake.base_url,
                         openai_model="local-model", openai_timeout_seconds=0.5)


def narrator_requests(fake: FakeOpenAI) -> list[dict[str, Any]]:
    """The digest's requests (a configured model also distils lessons)."""
    return [r for r in fake.requests if "weekly digest" in r["messages"][0]["content"]]


async def test_the_model_writes_the_opening_from_aggregate_figures_only(sqlite_url: str, fake_llm: FakeOpenAI) -> None:
    opening = "A lively week: more messages than the week before, and every question found its way forward."
    fake_llm.answer = {"opening": opening}
    engine = await community(llm_settings(sqlite_url, fake_llm), at("2026-02-24 08:00"), language="de")
    speaks(engine, "de")
    seen = collect(engine)
    await busy_week(engine)
    await tick(engine, at("2026-03-09 08:00"))
    card = digest_posts(seen)[0].card
    assert card is not None and card.sections[0] == opening
    assert "Fragen: 2 gestellt (Vorwoche 0)" in card.as_text()  # the figures stay the template's
    [request] = narrator_requests(fake_llm)
    assert "German" in request["messages"][0]["content"]
    assert request["max_tokens"] and request["model"] == "local-model"
    sent = request["messages"][1]["content"]
    assert "messages: 8 (previous period: 1)" in sent and "questions asked: 2" in sent
    for private in ("anna", "ben", "cara", "dave", "staging", "cluster", "access", "budgets"):
        assert private not in sent.lower()
    await engine.db.dispose()


async def test_a_failing_model_leaves_the_template_opening(sqlite_url: str, fake_llm: FakeOpenAI) -> None:
    fake_llm.mode = "error"
    engine = await community(llm_settings(sqlite_url, fake_llm), at("2026-02-24 08:00"))
    seen = collect(engine)
    await busy_week(engine)
    await tick(engine, at("2026-03-09 08:00"))
    card = digest_posts(seen)[0].card
    assert card is not None and card.sections[0] == "This week 8 messages from 4 members (+7 on last week)."
    assert 1 <= len(narrator_requests(fake_llm)) <= 2  # bounded retries
    await engine.db.dispose()


def test_without_a_model_there_is_no_narrator(settings: Settings) -> None:
    assert make_narrator(settings) is None


def test_openings_are_capped_and_never_ping() -> None:
    long = "The week was busy and friendly. " * 30
    cut = capped(long)
    assert cut is not None and len(cut) <= MAX_OPENING_CHARS and cut.endswith("friendly.")
    assert capped("x" * (MAX_OPENING_CHARS + 1)) is None
    for pinging in ("Well done, @here!", "Thanks <@U123> for all answers.", "  "):
        assert capped(pinging) is None
