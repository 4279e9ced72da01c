"""Newcomer conversion, who answered, credits and a member's contributions, on SQLite and PostgreSQL, from rows
whose answers were worked out by hand.

The community keeps Berlin time. March 2026 starts at 2026-02-28 23:00 UTC there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert

from bot.core.digest_figures import Period
from bot.core.recognition import Credit
from storage import metrics
from storage.db import create_engine
from storage.lesson_model import T_LESSON
from storage.migrate import upgrade
from storage.recognition import CreditStore, purge_credit_reasons
from storage.repository import T_CHANNEL, T_MEMBER, T_MESSAGE, T_QUESTION, T_RESPONSE, T_WORKSPACE

WS = "console:newcomers"


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


MEMBERS = {  # id: (joined at, joined channel, is bot)
    "old": (None, None, False),
    "feb": ("2026-02-28 22:30", "help", False),  # 23:30 in Berlin: still February there
    "nina": ("2026-02-28 23:30", "help", False),  # 00:30 on 1 March in Berlin: March
    "omar": ("2026-03-03 09:00", "help", False),
    "pia": ("2026-03-04 09:00", "secret", False),  # a private channel: never counted
    "quinn": ("2026-03-05 09:00", "general", False),
    "rob": ("2026-03-05 10:00", "help", True),
}
MESSAGES = [  # id, channel, user, posted
    ("q0", "help", "feb", "2026-02-25 09:00"),  # asked before feb joined the channel: not a newcomer's post
    ("x0", "help", "old", "2026-02-25 10:00"),
    ("q1", "help", "old", "2026-03-02 09:00"),
    ("n1", "help", "nina", "2026-03-02 09:05"),  # nina answers q1: posted and answered
    ("o1", "general", "omar", "2026-03-03 10:00"),  # omar posts
    ("q2", "help", "quinn", "2026-03-05 11:00"),  # quinn asks ...
    ("p1", "secret", "pia", "2026-03-05 12:00"),  # pia posts in the private channel only
    ("x1", "help", "old", "2026-03-06 09:00"),  # old answers quinn
    ("o2", "help", "omar", "2026-03-20 09:00"),  # omar answers q3, after the week under test
    ("q3", "help", "old", "2026-03-19 09:00"),
    ("r1", "help", "rob", "2026-03-06 09:00"),
]
QUESTIONS = [  # id, asker, first responder, asked
    ("q0", "feb", "old", "2026-02-25 09:00"),
    ("q1", "old", "nina", "2026-03-02 09:00"),
    ("q2", "quinn", "old", "2026-03-05 11:00"),
    ("q3", "old", "omar", "2026-03-19 09:00"),
]
RESPONSES = [  # question, message, responder, at
    ("q0", "x0", "old", "2026-02-25 10:00"),
    ("q1", "n1", "nina", "2026-03-02 09:05"),
    ("q2", "x1", "old", "2026-03-06 09:00"),
    ("q3", "o2", "omar", "2026-03-20 09:00"),
]


async def a_community(url: str) -> Any:
    await upgrade(url)
    db = create_engine(url)
    async with db.begin() as conn:
        await conn.execute(insert(T_WORKSPACE), [{"id": WS, "platform": "console", "name": "n",
                                                  "timezone": "Europe/Berlin", "language": "en", "settings": {}}])
        await conn.execute(insert(T_CHANNEL), [
            {"workspace_id": WS, "id": c, "name": c, "watched": True, "private": c == "secret", "kind": "text",
             "settings": {}} for c in ("help", "general", "secret")
        ])
        await conn.execute(insert(T_MEMBER), [
            {"workspace_id": WS, "id": m, "name": m, "is_bot": bot, "is_facilitator": False, "dm_closed": False,
             "joined_at": t(joined) if joined else None, "joined_channel": channel}
            for m, (joined, channel, bot) in MEMBERS.items()
        ])
        await conn.execute(insert(T_MESSAGE), [
            {"workspace_id": WS, "id": mid, "channel_id": ch, "user_id": user, "is_bot": user == "rob",
             "text": f"text of {mid}", "posted_at": t(posted)}
            for mid, ch, user, posted in MESSAGES
        ])
        await conn.execute(insert(T_QUESTION), [
            {"workspace_id": WS, "id": q, "channel_id": "help", "asker_id": asker, "status": "answered",
             "asked_at": t(asked), "first_responder_id": responder, "first_response_id": f"{responder}-a",
             "first_response_at": t(asked), "suggested_experts": [], "nudged_experts": []}
            for q, asker, responder, asked in QUESTIONS
        ])
        await conn.execute(insert(T_RESPONSE), [
            {"workspace_id": WS, "question_id": q, "message_id": m, "responder_id": who, "at": t(when),
             "recorded_at": t(when), "first": True, "accepted": False}
            for q, m, who, when in RESPONSES
        ])
    return db


async def test_newcomer_conversion_per_month_and_who_answered(database_url: str) -> None:
    db = await a_community(database_url)
    try:
        week = Period(t("2026-03-02 00:00"), t("2026-03-09 00:00"))
        feb, march = await metrics.conversion(db, WS, Period(t("2026-02-20 00:00"), week.end))
        assert (feb.first_day, feb.joined, feb.posted, feb.answered) == (date(2026, 2, 1), 1, 0, 0)
        # nina posted and answered; omar posted (his answer comes after the week); quinn asked, which is a post;
        # pia joined a private channel and rob is a bot: neither counts.
        assert (march.first_day, march.joined, march.posted, march.answered) == (date(2026, 3, 1), 3, 3, 1)
        [later] = await metrics.conversion(db, WS, Period(t("2026-03-15 00:00"), t("2026-03-22 00:00")))
        assert (later.joined, later.posted, later.answered) == (3, 3, 2), "as of the later week, omar answered"
        [general] = await metrics.conversion(db, WS, week, channel="general")
        assert (general.joined, general.posted, general.answered) == (1, 0, 0), "quinn asked in help, not general"

        figures = await metrics.figures(db, WS, week)
        assert figures.answerers == 2 and figures.first_time_helpers == ("nina",), "old answered before"
        assert [c.first_day for c in figures.newcomers] == [date(2026, 3, 1)]
        before = await metrics.figures(db, WS, Period(t("2026-02-23 00:00"), week.start))
        assert before.answerers == 1 and before.first_time_helpers == (), "no history before it: nobody is 'first'"
    finally:
        await db.dispose()


async def test_credits_are_kept_once_and_contributions_name_answers_thanks_and_lessons(database_url: str) -> None:
    db = await a_community(database_url)
    try:
        store = CreditStore(db)
        thanks = Credit(key="n1:old", member="nina", by="old", how="thanks", at=t("2026-03-02 09:10"),
                        channel="help", question="q1", message="n1")
        assert await store.record(WS, (thanks,)) == 1
        assert await store.record(WS, (thanks,)) == 0, "the same thank-you again is the same credit"
        await store.record(WS, (Credit(key="command:x", member="nina", by="quinn", how="command",
                                       at=t("2026-03-03 09:00"), reason="for the_100% answer"),))
        async with db.begin() as conn:
            await conn.execute(insert(T_MESSAGE), [  # the roots of the lessons' threads: questions old asked
                {"workspace_id": WS, "id": mid, "channel_id": "help", "user_id": "old", "is_bot": False,
                 "text": "?", "posted_at": t("2026-03-04 08:00")} for mid in ("zz", "q9")
            ])
            await conn.execute(insert(T_LESSON), [
                {"workspace_id": WS, "source_message_id": source, "channel_id": "help", "title": title,
                 "contributors": contributors, "created_at": t("2026-03-04 09:00"), "updated_at": t("2026-03-04 09:00"),
                 "steps": [], "tags": []}
                for source, title, contributors in [
                    ("q1", "Sharing folders", ["old", "nina"]),  # from a thread nina answered in
                    ("zz", "A thread without a question", ["old", "nina_2"]),  # another member, not a LIKE match
                    ("q9", "Credited on the lesson", ["old", "nina"]),
                ]
            ])
        found = await store.contributions(WS, "nina")
        assert found.answered_first == 1 and found.answered[0].id == "q1"
        assert found.credits == 2 and [c.by for c in found.recent_credits] == ["quinn", "old"]
        assert found.lessons == 2 and {r.title for r in found.lesson_refs} == {"Sharing folders",
                                                                                "Credited on the lesson"}
        assert (await store.contributions(WS, "old")).lessons == 0, "lessons from his own questions are not his answers"

        assert await purge_credit_reasons(db, t("2026-03-03 08:00")) == 0, "a reason within retention stays"
        await store.forget_member(WS, "quinn")
        [kept] = [c for c in (await store.contributions(WS, "nina")).recent_credits if c.how == "command"]
        assert kept.by is None and kept.reason == "", "a forgotten thanker's name and words go"
        await store.record(WS, (Credit(key="command:y", member="nina", by="omar", how="command",
                                       at=t("2026-03-03 09:00"), reason="thanks for the pairing"),))
        assert await purge_credit_reasons(db, t("2026-06-01 00:00")) == 1, "MESSAGE_RETENTION_DAYS: the words go"
        assert {c.reason for c in (await store.contributions(WS, "nina")).recent_credits} == {""}
        await store.forget_member(WS, "nina")
        assert (await store.contributions(WS, "nina")).credits == 0
    finally:
        await db.dispose()
