"""Figures whose queries read only a window of history, checked against their definitions over every row.

"Became inactive in the week" and "answered for the first time in the week" are defined over all history (the last
post before the week's end; the earliest answer in scope). Their queries look at a few weeks of rows and along an
index instead, so a community's digest costs the same in its third year as in its first month. Random small
communities, on SQLite and PostgreSQL, show the shortcut gives the same answers as the definition.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from facilitation_rules.digest import Period
from storage import metrics
from storage.db import create_engine
from storage.migrate import upgrade
from storage.repository import T_CHANNEL, T_MEMBER, T_MESSAGE, T_QUESTION, T_RESPONSE

EPOCH = datetime(2026, 1, 5, tzinfo=UTC)
MEMBERS = ("ana", "bo", "cy", "bot")
CHANNELS = ("help", "general", "secret")  # "secret" is private: never in scope
workspaces = itertools.count()

WEEK_HOURS = 7 * 24
# ten weeks, often exactly on a week's boundary: where a period starts or ends, shifted by INACTIVE_AFTER or not
hours = st.one_of(st.integers(min_value=0, max_value=10 * WEEK_HOURS),
                  st.integers(min_value=0, max_value=10).map(lambda n: n * WEEK_HOURS))
posts = st.lists(st.tuples(st.sampled_from(MEMBERS), st.sampled_from(CHANNELS), hours, st.booleans()), max_size=25)
answers = st.lists(  # responder, asker, channel, hour, accepted, status of the question
    st.tuples(st.sampled_from(MEMBERS), st.sampled_from(MEMBERS), st.sampled_from(CHANNELS), hours,
              st.booleans(), st.sampled_from(["answered", "resolved", "not_a_question"])),
    max_size=25,
)
weeks = st.integers(min_value=0, max_value=9)
scopes = st.sampled_from([None, "help"])


def at(hour: int) -> datetime:
    return EPOCH + timedelta(hours=hour)


def week(n: int) -> Period:
    return Period(EPOCH + timedelta(days=7 * n), EPOCH + timedelta(days=7 * (n + 1)))


def in_scope(channel: str, scope: str | None) -> bool:
    return channel != "secret" and scope in (None, channel)


def inactive_by_definition(rows: Sequence[tuple[str, str, int, bool]], scope: str | None, period: Period) -> tuple[
        str, ...]:
    last: dict[str, datetime] = {}
    for member, channel, hour, deleted in rows:
        if member != "bot" and not deleted and in_scope(channel, scope) and at(hour) < period.end:
            last[member] = max(last.get(member, at(hour)), at(hour))
    since, until = period.start - metrics.INACTIVE_AFTER, period.end - metrics.INACTIVE_AFTER
    return tuple(sorted(m for m, moment in last.items() if since < moment <= until))


def answerers_by_definition(rows: Sequence[tuple[str, str, str, int, bool, str]], scope: str | None,
                            period: Period) -> tuple[int, tuple[str, ...]]:
    counted = [(responder, at(hour)) for responder, asker, channel, hour, accepted, status in rows
               if in_scope(channel, scope) and not accepted and responder != asker and responder != "bot"
               and status != "not_a_question" and at(hour) < period.end]
    answerers = {r for r, moment in counted if moment >= period.start}
    if not any(moment < period.start for _, moment in counted):
        return len(answerers), ()
    first = {r: min(moment for who, moment in counted if who == r) for r in answerers}
    return len(answerers), tuple(sorted(r for r in answerers if first[r] >= period.start))


async def community(db: AsyncEngine, workspace: str, post_rows: Sequence[tuple[str, str, int, bool]],
                    answer_rows: Sequence[tuple[str, str, str, int, bool, str]]) -> None:
    async with db.begin() as conn:
        await conn.execute(insert(T_CHANNEL), [
            {"workspace_id": workspace, "id": c, "name": c, "watched": True, "private": c == "secret", "kind": "text",
             "settings": {}} for c in CHANNELS
        ])
        await conn.execute(insert(T_MEMBER), [
            {"workspace_id": workspace, "id": m, "name": m, "is_bot": m == "bot", "is_facilitator": False,
             "dm_closed": False, "first_seen_at": EPOCH, "last_seen_at": EPOCH} for m in MEMBERS
        ])
        if post_rows:
            await conn.execute(insert(T_MESSAGE), [
                {"workspace_id": workspace, "id": f"m{n}", "channel_id": channel, "user_id": member, "thread_id": None,
                 "reply_to": None, "is_bot": member == "bot", "text": None if deleted else "hello",
                 "posted_at": at(hour), "edited_at": None, "deleted_at": at(hour) if deleted else None}
                for n, (member, channel, hour, deleted) in enumerate(post_rows)
            ])
        if answer_rows:
            await conn.execute(insert(T_QUESTION), [
                {"workspace_id": workspace, "id": f"q{n}", "channel_id": channel, "asker_id": asker, "language": "en",
                 "status": status, "asked_at": at(hour), "first_response_id": f"a{n}", "first_responder_id": responder,
                 "first_response_at": at(hour), "resolved_at": None, "followup": False, "suggested_experts": [],
                 "nudged_experts": []}
                for n, (responder, asker, channel, hour, _, status) in enumerate(answer_rows)
            ])
            await conn.execute(insert(T_RESPONSE), [
                {"workspace_id": workspace, "question_id": f"q{n}", "message_id": f"a{n}", "responder_id": responder,
                 "at": at(hour), "recorded_at": at(hour), "first": True, "accepted": accepted}
                for n, (responder, _, _, hour, accepted, _) in enumerate(answer_rows)
            ])


@pytest.fixture
async def db(database_url: str) -> Any:
    await upgrade(database_url)
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(post_rows=posts, answer_rows=answers, n=weeks, scope=scopes)
@example(post_rows=[], answer_rows=[("ana", "bo", "help", 0, False, "answered"),  # a first answer at the very start
                                    ("bo", "ana", "help", WEEK_HOURS, False, "answered")], n=1, scope=None)
async def test_windowed_figures_match_their_definitions(
    db: AsyncEngine, post_rows: list[tuple[str, str, int, bool]],
    answer_rows: list[tuple[str, str, str, int, bool, str]], n: int, scope: str | None,
) -> None:
    workspace = f"console:w{next(workspaces)}"  # one database for all examples: each its own community
    await community(db, workspace, post_rows, answer_rows)
    period = week(n)
    found = await metrics.figures(db, workspace, period, scope)
    assert found.inactive_contributors == inactive_by_definition(post_rows, scope, period)
    assert (found.answerers, found.first_time_helpers) == answerers_by_definition(answer_rows, scope, period)
