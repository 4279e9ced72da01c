"""Community health figures on a small scenario community whose answers were worked out by hand.

Week under test: 2026-03-02 00:00 to 2026-03-09 00:00 UTC; the week before is the comparison.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from facilitation_rules.digest import Period
from storage import metrics
from storage.db import create_engine
from storage.lesson_model import T_LESSON
from storage.migrate import upgrade
from storage.repository import T_CHANNEL, T_MEMBER, T_MESSAGE, T_NUDGE, T_QUESTION

WS = "console:metrics"
WEEK = Period(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


MEMBERS = {  # id: (first seen, is bot)
    "anna": ("2026-02-01 09:00", False),
    "ben": ("2026-02-01 09:00", False),
    "cara": ("2026-03-02 09:55", False),
    "dave": ("2026-03-04 10:00", False),
    "eve": ("2026-02-20 09:00", False),
    "finn": ("2026-01-20 09:00", False),  # silent since 3 February: inactive (four weeks) from 3 March
    "pia": ("2026-02-01 09:00", False),
    "stewbot": ("2026-03-01 09:00", True),
}

MESSAGES = [  # id, channel, user, posted, text, bot, deleted
    ("f1", "help", "finn", "2026-02-03 09:00", "See you all after my leave", False, False),
    ("q7", "help", "anna", "2026-02-20 09:00", "Who runs the onboarding sessions?", False, False),
    ("x1", "help", "ben", "2026-02-26 09:00", "Morning all", False, False),
    ("q0", "help", "eve", "2026-02-27 10:00", "Is there a glossary?", False, False),
    ("a0", "help", "anna", "2026-02-27 11:00", "Yes, in the wiki", False, False),
    ("q1", "help", "cara", "2026-03-02 10:00", "How do I configure the deployment pipeline for staging?", False, False),
    ("a1", "help", "ben", "2026-03-02 10:30", "Look at the wiki page", False, False),
    ("q2", "help", "ben", "2026-03-03 09:00", "Where is the deployment pipeline documented?", False, False),
    ("a2", "help", "anna", "2026-03-03 11:00", "In the handbook", False, False),
    ("q3", "help", "anna", "2026-03-04 08:00", "Who owns the staging budget?", False, False),
    ("d1", "help", "dave", "2026-03-04 10:00", "oops", False, True),
    ("a3", "help", "ben", "2026-03-04 12:00", "Finance does", False, False),
    ("q4", "help", "cara", "2026-03-05 09:00", "Any template for the stakeholder map?", False, False),
    ("b1", "help", "stewbot", "2026-03-05 10:00", "A reminder", True, False),
    ("q5", "help", "ben", "2026-03-06 09:00", "Lunch anyone?", False, False),
    ("q6", "help", "cara", "2026-03-08 23:00", "Deployment pipeline fails on staging again", False, False),
    ("a6", "help", "anna", "2026-03-09 01:00", "Retry it", False, False),
    ("g1", "general", "ben", "2026-03-03 12:00", "Hello", False, False),
    ("g2", "general", "dave", "2026-03-04 12:00", "Hi, I am new", False, False),
    ("s1", "secret", "pia", "2026-03-03 09:00", "Private chat", False, False),
    ("sq", "secret", "pia", "2026-03-03 09:10", "Secret deployment pipeline staging question?", False, False),
    ("sa", "secret", "ben", "2026-03-03 09:20", "Secret answer", False, False),
]

QUESTIONS = [  # id, channel, asker, status, asked, responder, responded, resolved
    ("q7", "help", "anna", "asked", "2026-02-20 09:00", None, None, None),
    ("q0", "help", "eve", "resolved", "2026-02-27 10:00", "anna", "2026-02-27 11:00", "2026-03-03 10:00"),
    ("q1", "help", "cara", "resolved", "2026-03-02 10:00", "ben", "2026-03-02 10:30", "2026-03-02 11:00"),
    ("q2", "help", "ben", "resolved", "2026-03-03 09:00", "anna", "2026-03-03 11:00", "2026-03-04 09:00"),
    ("q3", "help", "anna", "answered", "2026-03-04 08:00", "ben", "2026-03-04 12:00", None),
    ("q4", "help", "cara", "flagged", "2026-03-05 09:00", None, None, None),
    ("q5", "help", "ben", "not_a_question", "2026-03-06 09:00", None, None, None),
    ("q6", "help", "cara", "answered", "2026-03-08 23:00", "anna", "2026-03-09 01:00", None),
    ("sq", "secret", "pia", "resolved", "2026-03-03 09:10", "ben", "2026-03-03 09:20", "2026-03-03 09:30"),
]

NUDGES = [  # member, question, sent, led to an answer
    ("ben", "q3", "2026-03-04 09:00", True),
    ("anna", "q4", "2026-03-05 12:00", False),
    ("ben", "sq", "2026-03-03 09:15", True),
]


LESSONS = [  # title, channel, created, private lesson
    ("Staging access", "help", "2026-03-02 11:00", False),
    ("Pipeline retries", "help", "2026-03-03 12:00", False),
    ("Budget owners", "help", "2026-03-04 12:00", False),
    ("Stakeholder map template", "help", "2026-03-05 12:00", False),
    ("Wiki structure", "help", "2026-03-06 12:00", False),
    ("Handbook chapters", "help", "2026-03-08 22:00", False),
    ("Kept to the channel", "help", "2026-03-04 13:00", True),
    ("From the private channel", "secret", "2026-03-03 09:40", False),
    ("Welcome pack", "general", "2026-03-04 13:00", False),
    ("Glossary", "help", "2026-02-27 12:00", False),
    ("Next week already", "help", "2026-03-09 00:00", False),
]


def _rows() -> dict[Any, list[dict[str, Any]]]:
    return {
        T_CHANNEL: [
            {
                "workspace_id": WS,
                "id": cid,
                "name": cid,
                "watched": True,
                "private": cid == "secret",
                "kind": "text",
                "settings": {},
            }
            for cid in ("help", "general", "secret")
        ],
        T_MEMBER: [
            {
                "workspace_id": WS,
                "id": mid,
                "name": mid.title(),
                "is_bot": bot,
                "is_facilitator": False,
                "dm_closed": False,
                "first_seen_at": t(seen),
                "last_seen_at": t(seen),
            }
            for mid, (seen, bot) in MEMBERS.items()
        ],
        T_MESSAGE: [
            {
                "workspace_id": WS,
                "id": mid,
                "channel_id": ch,
                "user_id": user,
                "thread_id": None,
                "reply_to": None,
                "is_bot": bot,
                "text": None if deleted else text,
                "posted_at": t(posted),
                "edited_at": None,
                "deleted_at": t(posted) if deleted else None,
            }
            for mid, ch, user, posted, text, bot, deleted in MESSAGES
        ],
        T_QUESTION: [
            {
                "workspace_id": WS,
                "id": qid,
                "channel_id": ch,
                "asker_id": asker,
                "language": "en",
                "status": status,
                "asked_at": t(asked),
                "first_response_id": f"a-{qid}" if who else None,
                "first_responder_id": who,
                "first_response_at": t(when) if when else None,
                "resolved_at": t(resolved) if resolved else None,
                "followup": False,
                "suggested_experts": [],
                "nudged_experts": [],
            }
            for qid, ch, asker, status, asked, who, when, resolved in QUESTIONS
        ],
        T_NUDGE: [
            {
                "workspace_id": WS,
                "member_id": who,
                "question_id": qid,
                "kind": "expert",
                "reason": "",
                "sent_at": t(sent),
                "led_to_answer": led,
            }
            for who, qid, sent, led in NUDGES
        ],
        T_LESSON: [
            {
                "workspace_id": WS,
                "source_message_id": f"src{i}",
                "channel_id": ch,
                "title": title,
                "summary": "",
                "steps": [],
                "tags": [],
                "permalink": f"https://chat.example/{i}",
                "contributors": [],
                "created_at": t(created),
                "updated_at": t(created),
                "verified_at": None,
                "verified_by": None,
                "private": private,
            }
            for i, (title, ch, created, private) in enumerate(LESSONS)
        ],
    }


@pytest.fixture
async def db(database_url: str) -> Any:
    await upgrade(database_url)
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        for table, rows in _rows().items():
            await conn.execute(insert(table), rows)
    yield engine
    await engine.dispose()


async def test_channel_week(db: Any) -> None:
    f = await metrics.figures(db, WS, WEEK, "help")
    assert (f.messages, f.active_members, f.new_members) == (9, 3, 1)
    assert (f.questions_asked, f.questions_answered, f.questions_resolved) == (5, 3, 3)
    assert f.response_rate == pytest.approx(0.6)
    assert f.median_first_response_s == pytest.approx(7200)
    assert f.p90_first_response_s == pytest.approx(12960)
    assert [q.id for q in f.oldest_unanswered] == ["q7", "q4"]
    assert f.oldest_unanswered[1].excerpt == "Any template for the stakeholder map?"
    assert [(h.member, h.answers) for h in f.helpers] == [("anna", 2), ("ben", 1)]
    assert (f.first_responses, f.answerer_concentration) == (3, 1)
    assert f.new_contributors == ("cara",)
    assert f.inactive_contributors == ("finn",)  # eve posted on 27 February: not four weeks ago yet
    assert f.trending == ("deployment pipeline",)  # "staging" alone is one question's, twice a verb or a modifier
    assert f.nudges_answered == 1
    assert f.first_message_at == t("2026-02-03 09:00")


async def test_new_public_lessons_of_the_channel_newest_first(db: Any) -> None:
    f = await metrics.figures(db, WS, WEEK, "help")
    assert f.new_lessons == 6
    assert [lesson.title for lesson in f.lessons] == [
        "Handbook chapters", "Wiki structure", "Stakeholder map template", "Budget owners", "Pipeline retries"
    ]
    assert f.lessons[0].link == "https://chat.example/5"


async def test_new_lessons_of_the_workspace_leave_private_ones_out(db: Any) -> None:
    f = await metrics.figures(db, WS, WEEK)
    assert f.new_lessons == 7 and "Welcome pack" in {lesson.title for lesson in f.lessons}
    assert (await metrics.figures(db, WS, WEEK, "secret")).new_lessons == 0
    before = await metrics.figures(db, WS, WEEK.previous(), "help", detail=False)
    assert (before.new_lessons, before.lessons) == (1, ())


async def test_week_before_for_comparison(db: Any) -> None:
    f = await metrics.figures(db, WS, WEEK.previous(), "help", detail=False)
    assert (f.messages, f.active_members, f.questions_asked, f.questions_answered) == (3, 3, 1, 1)
    assert f.median_first_response_s == pytest.approx(3600)
    assert f.helpers == () and f.trending == ()


async def test_workspace_leaves_private_channels_out(db: Any) -> None:
    f = await metrics.figures(db, WS, WEEK)
    assert (f.messages, f.active_members, f.new_members) == (11, 4, 2)
    assert f.new_contributors == ("cara", "dave")
    assert f.inactive_contributors == ("finn",)  # eve posted on 27 February: not four weeks ago yet
    assert f.questions_asked == 5 and f.nudges_answered == 1
    assert "pia" not in {h.member for h in f.helpers}


async def test_private_channel_has_no_figures(db: Any) -> None:
    f = await metrics.figures(db, WS, WEEK, "secret")
    assert f.messages == 0 and f.questions_asked == 0 and f.first_message_at is None


async def test_empty_week(db: Any) -> None:
    empty = Period(t("2025-01-06 00:00"), t("2025-01-13 00:00"))
    f = await metrics.figures(db, WS, empty, "help")
    assert (f.messages, f.questions_asked, f.response_rate, f.median_first_response_s) == (0, 0, None, None)
    assert f.answerer_concentration is None and f.helpers == () and f.oldest_unanswered == ()


def test_percentile_matches_percentile_cont() -> None:
    assert metrics.percentile([1800.0, 7200.0, 14400.0], 0.9) == pytest.approx(12960)
    assert metrics.percentile([5.0], 0.5) == 5.0
    assert metrics.percentile([], 0.5) is None
