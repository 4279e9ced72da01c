"""The audit report's figures against a small community whose numbers are worked out by hand below."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert
from typer.testing import CliRunner

from bot.app.audit import collect, render_html, render_markdown, write_audit
from bot.cli import app
from bot.i18n import catalog, translate
from storage.migrate import upgrade
from storage.repository import T_CHANNEL, T_MEMBER, T_MESSAGE, T_QUESTION, T_REACTION, T_WORKSPACE

WS = "console:audit"


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(f"2024-{day}").replace(hour=hour, minute=minute, tzinfo=UTC)


def question(qid: str, channel: str, asker: str, asked: datetime, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "workspace_id": WS,
        "id": qid,
        "channel_id": channel,
        "asker_id": asker,
        "asked_at": asked,
        "status": "asked",
        "suggested_experts": [],
        "nudged_experts": [],
        "first_response_at": None,
        "first_responder_id": None,
        "resolved_at": None,
        "flagged_at": None,
    }
    row.update(extra)
    return row


def answered(asked: datetime, after: timedelta, by: str) -> dict[str, Any]:
    return {"first_response_at": asked + after, "first_responder_id": by, "status": "answered"}


def message(mid: str, channel: str, user: str, posted: datetime, body: str = "", **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "workspace_id": WS,
        "id": mid,
        "channel_id": channel,
        "user_id": user,
        "posted_at": posted,
        "text": body,
        "is_bot": False,
        "thread_id": None,
    }
    row.update(extra)
    return row


# Week of 4 March: q1 (30 min, Ben, resolved), q2 (2 h, Ben), q3 (1 h, Cleo, #random), q4 unanswered and flagged.
# Week of 11 March: q5 (4 h, Ben), q6 unanswered in #random; q7 is "not a question", q8 sits in a private channel.
# Waits 30 min, 1 h, 2 h, 4 h -> median 1.5 h, p90 3.4 h (interpolated between closest ranks, as the digest and
# PostgreSQL's percentile_cont compute it). #help: 30 min, 2 h, 4 h -> 2 h / 3.6 h.
Q1, Q2, Q3, Q4 = at("03-04", 10), at("03-05", 10), at("03-06", 9), at("03-07", 10)
Q5, Q6, Q7, Q8 = at("03-11", 9), at("03-12", 9), at("03-13", 9), at("03-13", 10)
QUESTIONS = [
    question(
        "q1", "help", "ana", Q1, **answered(Q1, timedelta(minutes=30), "ben"), resolved_at=Q1 + timedelta(hours=1)
    ),
    question("q2", "help", "cleo", Q2, **answered(Q2, timedelta(hours=2), "ben")),
    question("q3", "random", "dev", Q3, **answered(Q3, timedelta(hours=1), "cleo")),
    question(
        "q4", "help", "dev", Q4, flagged_at=Q4 + timedelta(hours=4), suggested_experts=["ben", "cleo", "ana"],
        nudged_experts=["cleo", "ana"],  # what the rules decided (Ben was busy), not the first suggestions
    ),
    question("q5", "help", "cleo", Q5, **answered(Q5, timedelta(hours=4), "ben")),
    question("q6", "random", "ana", Q6),
    question("q7", "help", "ana", Q7, status="not_a_question"),
    question("q8", "secret", "ana", Q8, **answered(Q8, timedelta(minutes=5), "ben")),
]
MESSAGES = [
    message("old-a", "help", "ana", at("01-15", 9), "Hello all"),
    message("old-b", "help", "ben", at("01-15", 10), "Welcome"),
    message("old-c", "help", "cleo", at("01-15", 11), "Hi"),
    message("old-e", "help", "eve", at("01-10", 9), "Hi, I am Eve"),
    message("q1", "help", "ana", Q1, "How do I share a SharePoint folder with a partner?"),
    message("r1", "help", "ben", Q1 + timedelta(minutes=30), "Use Share, then people you specify.", thread_id="q1"),
    message("r2", "help", "ana", Q1 + timedelta(minutes=40), "Does that work for guests too?", thread_id="q1"),
    message("r3", "help", "ben", Q1 + timedelta(minutes=50), "Yes, once IT allowed guests.", thread_id="q1"),
    message("q2", "help", "cleo", Q2, "Which SharePoint permissions do guests get?"),
    message("r4", "help", "ben", Q2 + timedelta(hours=2), "Read only by default.", thread_id="q2"),
    message("q3", "random", "dev", Q3, "Is the canteen open on Friday?"),
    message("q4", "help", "dev", Q4, "Where is the status report template?"),
    message("q5", "help", "cleo", Q5, "SharePoint sync fails on my laptop, any idea?"),
    message("q6", "random", "ana", Q6, "Who books the rooms for the workshop?"),
    message("bot", "help", "relay", Q6, "Build deployed", is_bot=True),
]


@pytest.fixture
async def community(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    await upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(T_WORKSPACE), [{"id": WS, "platform": "console", "name": "Audit", "settings": {}}])
        conn.execute(
            insert(T_CHANNEL),
            [
                {"workspace_id": WS, "id": cid, "name": cid, "private": cid == "secret", "settings": {}}
                for cid in ("help", "random", "secret")
            ],
        )
        conn.execute(
            insert(T_MEMBER),
            [{"workspace_id": WS, "id": m, "name": m.title()} for m in ("ana", "ben", "cleo", "dev", "eve")],
        )
        conn.execute(insert(T_QUESTION), QUESTIONS)
        conn.execute(insert(T_MESSAGE), MESSAGES)
        conn.execute(
            insert(T_REACTION),
            [
                {"workspace_id": WS, "message_id": "r1", "user_id": "ana", "emoji": "+1", "reacted_at": Q1},
                {
                    "workspace_id": WS,
                    "message_id": "r3",
                    "user_id": "ana",
                    "emoji": "white_check_mark",
                    "reacted_at": Q1,
                },
            ],
        )
    engine.dispose()
    return url


async def test_figures_match_the_hand_computed_community(community: str) -> None:
    audit = await collect(community)
    assert (audit.questions, audit.answered, audit.unanswered_count, audit.resolved, audit.flagged) == (6, 4, 2, 1, 1)
    assert (audit.median_s, audit.p90_s) == (5400, pytest.approx(12240))
    weeks = {w.week: (w.asked, w.answered, w.unanswered, w.resolved, w.median_s) for w in audit.weeks}
    assert weeks == {date(2024, 3, 4): (4, 3, 1, 1, 3600), date(2024, 3, 11): (2, 1, 1, 0, 14400)}
    channels = {c.channel: (c.asked, c.answered, c.median_s, c.p90_s) for c in audit.channels}
    assert channels == {"help": (4, 3, 7200, pytest.approx(12960)), "random": (2, 1, 3600, 3600)}  # not "secret"
    assert [u.id for u in audit.unanswered] == ["q6", "q4"]
    assert [(a.member, a.answers, a.share) for a in audit.answerers] == [("Ben", 3, 0.75), ("Cleo", 1, 0.25)]
    assert audit.answerers[0].topics[0].lower() == "sharepoint folder"
    assert audit.half_of_answers_by == 1
    assert audit.new_contributors == ["Dev"]
    assert audit.inactive_contributors == ["Eve"]
    assert [(t.id, t.replies, t.reactions) for t in audit.lessons] == [("q1", 3, 2)]
    assert [(f.id, f.experts) for f in audit.would_flag] == [("q4", ["Cleo", "Ana"])]
    assert audit.would_nudge == [("Ana", 1), ("Cleo", 1)]


async def test_members_seen_only_in_private_channels_are_no_contributors(community: str) -> None:
    """Fay only wrote in #secret lately, Gus only long ago: a shared report names neither as a new or an inactive
    contributor, and their private lines do not stretch the period it covers."""
    engine = create_engine(community)
    with engine.begin() as conn:
        conn.execute(insert(T_MEMBER), [{"workspace_id": WS, "id": m, "name": m.title()} for m in ("fay", "gus")])
        conn.execute(insert(T_MESSAGE), [
            message("s1", "secret", "fay", at("03-12", 8), "Draft of the reorg memo"),
            message("s2", "secret", "gus", at("01-05", 9), "Budget numbers for the board"),
            message("s3", "secret", "ana", at("03-20", 9), "Later, privately"),
        ])
    engine.dispose()
    audit = await collect(community)
    assert audit.new_contributors == ["Dev"]
    assert audit.inactive_contributors == ["Eve"]
    assert audit.until == Q6


async def test_since_limits_the_questions(community: str) -> None:
    audit = await collect(community, since=at("03-11", 0))
    assert (audit.questions, audit.answered) == (2, 1)
    assert audit.new_contributors == []
    assert "| Period | Mar 11\u2009–\u200912, 2024 |" in render_markdown(audit, "en")
    assert "| Zeitraum | 11.–12. März 2024 |" in render_markdown(audit, "de")


async def test_reports_are_self_contained(community: str, tmp_path: Path) -> None:
    audit = await collect(community)
    page = render_html(audit, "en")
    assert "data:image/png;base64," in page and "<script" not in page and "http" not in page
    markdown = render_markdown(audit, "en")
    assert "| help | 4 | 3 | 2 hours | 4 hours |" in markdown and "| random | 2 | 1 | 1 hour | 1 hour |" in markdown
    assert "| Answered | 4 (67%) |" in markdown and "| Mar 4, 2024 | 4 | 3 | 1 | 1 | 1 hour | 2 hours |" in markdown
    assert "| Mar 7, 2024, 10:00 | help | Dev | Where is the status report template? |" in markdown
    assert "Monday at 00:00 UTC" in markdown
    out = tmp_path / "report.md"
    await write_audit(community, out, fmt="markdown", language="en")
    assert out.read_text(encoding="utf-8") == markdown


ENGLISH_TITLES = [translate(key, "en") for key in catalog("en") if key.startswith(("audit.section_", "audit.title"))]


async def test_the_german_report_speaks_german(community: str, tmp_path: Path) -> None:
    audit = await collect(community)
    markdown = render_markdown(audit, "de")
    assert "## Fragen pro Woche" in markdown and "## Unbeantwortete Fragen" in markdown
    assert "## Zeit bis zur ersten Antwort pro Kanal" in markdown
    assert "| help | 4 | 3 | 2 Stunden | 4 Stunden |" in markdown
    assert "| random | 2 | 1 | 1 Stunde | 1 Stunde |" in markdown
    assert "montags um 00:00 UTC" in markdown and "von Anfang an bis 12. März 2024" in markdown
    assert "| 7. März 2024, 10:00 | help | Where is the status report template? | 7. März 2024, 14:00 |" in markdown
    assert "Erste Antworten kamen von 2 Personen; Ben gab 75\u00a0% davon" in markdown
    page = render_html(audit, "de")
    assert '<html lang="de">' in page and "<h2>Wer was beantwortet</h2>" in page
    assert "<title>Rückblick auf die Moderation der Community</title>" in page
    for title in ENGLISH_TITLES:
        assert title not in markdown and title not in page, title
    out = tmp_path / "bericht.md"
    await write_audit(community, out, fmt="markdown", language="de")
    assert out.read_text(encoding="utf-8") == markdown


def test_cli_writes_the_report(community: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", community)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["audit", "--since", "2024-03-01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith('<!doctype html><html lang="en">')


def test_cli_language_defaults_to_the_community_language(
    community: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", community)
    monkeypatch.setenv("STEWARD_LANGUAGE", "de")
    out = tmp_path / "report.md"
    result = CliRunner().invoke(app, ["audit", "--format", "markdown", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("# Rückblick auf die Moderation der Community")
    result = CliRunner().invoke(app, ["audit", "--format", "markdown", "--language", "EN", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("# Community facilitation audit")


def test_cli_rejects_an_unknown_language(community: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", community)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["audit", "--language", "fr", "--out", str(out)])
    assert result.exit_code == 2
    assert "--language must be one of en, de" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


def test_cli_on_an_empty_database_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    asyncio.run(upgrade(url))
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(app, ["audit", "--out", str(tmp_path / "r.html")])
    assert result.exit_code != 0 and "no history" in result.output


def test_what_members_wrote_is_escaped_in_the_html_and_in_markdown_tables() -> None:
    from bot.app.audit.figures import Audit, QuestionRow

    moment = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    question = QuestionRow(id="q", channel="help", asker="Ann", asked_at=moment,
                           text='Does <b>bold</b> & "quoting" | piping work?')
    audit = Audit(since=None, until=moment, questions=1, unanswered=[question])
    page = render_html(audit, "en")
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoting&#34;" in page
    markdown = render_markdown(audit, "en")
    assert "\\| piping" in markdown, "a pipe in a cell does not split the Markdown table"
