"""The sponsor report on the sample community: its figures are the digest's and the portal's for the same month,
a private channel's words never appear (only its escalations, counted), and figures about fewer than
WEB_MIN_GROUP people read "too few to show"."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.app.sponsor import collect, render_html, render_markdown, summary
from bot.app.sponsor.figures import ReportError, SponsorReport, month_period, parse_month
from bot.i18n import percent, translate
from storage import metrics
from storage.cocreation_model import T_DECISION
from storage.db import create_engine
from storage.repository import T_QUESTION
from storage.sponsor_report import add_note, escalations
from tests.web.community import PRIVATE_CHANNEL, SECRET, WORKSPACE, build

MARCH = date(2026, 3, 1)
ZONE = "Europe/Berlin"
AT = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def community_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample community, its private #steering channel with an escalated question and a decision taken there
    (both carrying the secret word), and two facilitators' notes for March."""
    path = build(tmp_path_factory.mktemp("sponsor"))

    async def add_private_facts() -> None:
        db = create_engine(f"sqlite:///{path}")
        try:
            async with db.begin() as conn:
                await conn.execute(T_QUESTION.update().where(
                    T_QUESTION.c.workspace_id == WORKSPACE, T_QUESTION.c.id == "p1"
                ).values(status="escalated", flagged_at=AT, escalated_at=AT))
                await conn.execute(T_DECISION.insert().values(
                    workspace_id=WORKSPACE, channel_id=PRIVATE_CHANNEL, thread_id="p1", origin="private-1",
                    title=f"Budget {SECRET} goes to the steering group", options=[], reasons=[SECRET],
                    participants=[], authors=[], recorded_at=AT, consent_until=AT, updated_at=AT, agreed_at=AT,
                    status="agreed", private=True,
                ))
            await add_note(db, WORKSPACE, "2026-03", "U01ANNA", "Two <b>new</b> teams joined the pilot.", at=AT)
            await add_note(db, WORKSPACE, "2026-02", "U01ANNA", "A note for February only.", at=AT)
        finally:
            await db.dispose()

    asyncio.run(add_private_facts())
    return path


@pytest.fixture
def url(community_db: Path, tmp_path: Path) -> str:
    copy = tmp_path / "steward.db"
    shutil.copy(community_db, copy)
    return f"sqlite:///{copy}"


def report_of(url: str, floor: int = 3) -> SponsorReport:
    async def read() -> SponsorReport:
        db = create_engine(url)
        try:
            return await collect(db, WORKSPACE, MARCH, timezone=ZONE, floor=floor, name="Acme Wandel")
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_the_figures_are_the_digests_and_the_portals_for_the_same_month(url: str) -> None:
    period = month_period(MARCH, ZONE)
    assert period.start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC) and period.end == datetime(2026, 3, 31, 22, 0,
                                                                                               tzinfo=UTC)

    async def independently() -> tuple[metrics.Figures, list[metrics.HealthWeek], tuple[metrics.Cohort, ...]]:
        db = create_engine(url)
        try:
            return (await metrics.figures(db, WORKSPACE, period), await metrics.health(db, WORKSPACE, [period]),
                    await metrics.conversion(db, WORKSPACE, period))
        finally:
            await db.dispose()

    digest, [portal], [cohort] = asyncio.run(independently())
    report = report_of(url)
    md = render_markdown(report, "en")
    assert f"| Questions asked | {digest.questions_asked} |" in md and digest.questions_asked == 43
    assert f"| Active members | {digest.active_members} |" in md
    assert f"| Messages | {digest.messages} |" in md
    assert f"| Questions answered | {digest.questions_answered} ({percent(digest.response_rate or 0, 'en')}) |" in md
    march = next(m for m in report.trend if m.period == period)
    assert march == portal, "the trend's month is the portal's health for that span"
    assert f"| March 2026 | {portal.active_members} | {portal.asked} | {percent(portal.response_rate or 0, 'en')} |" \
        in md
    assert (report.cohort.joined, report.cohort.posted, report.cohort.answered) == \
        (cohort.joined, cohort.posted, cohort.answered) == (4, 3, 2)  # type: ignore[union-attr]
    assert "Joined this month: 4. Posted since: 3. Answered someone's question since: 2." in md
    assert [d.title for d in digest.decisions] == [d.title for d in report.figures.decisions]
    assert all(f"- {d.title}" in md for d in digest.decisions) and digest.decisions
    assert translate("sponsor.lessons_added", "en", count=digest.new_lessons) in md
    assert "Two <b>new</b> teams joined the pilot." in md and "February only" not in md
    html = render_html(report, "en")
    assert "Two &lt;b&gt;new&lt;/b&gt; teams joined the pilot." in html, "members' and facilitators' words escaped"
    assert html.count("<svg") == 3, "the portal's three health charts, inline"
    assert "Contributors per month" in html


def test_escalations_are_counted_per_channel_and_a_private_channel_is_never_named_or_quoted(url: str) -> None:
    report = report_of(url)
    assert report.escalations.private == 1 and report.escalations.total == 8
    assert dict(report.escalations.per_channel) == {"help": 4, "wandel-de": 3}
    for language in ("en", "de"):
        for document in (render_markdown(report, language), render_html(report, language), summary(report, language)):
            assert SECRET not in document and SECRET.lower() not in document
            assert PRIVATE_CHANNEL not in document
    md = render_markdown(report, "en")
    assert "8 questions needed the facilitators' help this month." in md
    assert "| #help | 4 |" in md and "One of them came from a private channel (not named)." in md
    assert "1 davon" in render_markdown(report, "de") or "Eine davon kam aus einem privaten Kanal" in \
        render_markdown(report, "de")


def test_figures_about_too_few_people_are_not_shown(url: str) -> None:
    report = report_of(url, floor=50)
    md, html = render_markdown(report, "en"), render_html(report, "en")
    too_few = translate("sponsor.too_few", "en", count=50)
    assert too_few == "Too few to show (fewer than 50 people)."
    assert "| Active members | 13 |" not in md and "| Questions asked | 43 |" not in md
    assert f"| March 2026 | {too_few} |" in md
    assert "Joined this month" not in md and md.count(too_few) == 3  # the month, its trend row, the newcomers
    assert "<svg" not in html and too_few in html
    assert "Acme Wandel, March 2026" in summary(report, "en") and "Too few people were active" in \
        summary(report, "en")
    assert "| #help | 4 |" in md, "counts of questions are not about people: they stay"


def test_a_month_is_written_yyyy_mm() -> None:
    assert parse_month("2026-03") == MARCH
    with pytest.raises(ReportError, match="expected YYYY-MM"):
        parse_month("03/2026")


def test_the_report_in_german(url: str) -> None:
    report = report_of(url)
    md = render_markdown(report, "de")
    assert md.startswith("# Bericht für die Sponsor*innen: Acme Wandel, März 2026")
    assert "| Gestellte Fragen | 43 |" in md and "| März 2026 |" in md
    text = summary(report, "en")
    assert re.fullmatch(
        r"The sponsor report for Acme Wandel, March 2026: 13 active members, 43 questions \(81% answered\), "
        r"1 new lessons?, 2 decisions\. The full report is attached\.", text
    ), text


async def test_escalations_are_counted_alike_on_postgresql(postgres_url: str) -> None:
    from storage.migrate import upgrade
    from storage.repository import T_CHANNEL

    await upgrade(postgres_url)
    db = create_engine(postgres_url)
    try:
        async with db.begin() as conn:
            for channel, private in (("help", False), ("steering", True)):
                await conn.execute(T_CHANNEL.insert().values(workspace_id=WORKSPACE, id=channel, name=channel,
                                                             private=private, watched=True, kind="text", settings={}))
            for n, (channel, when) in enumerate([("help", AT), ("help", AT), ("steering", AT),
                                                 ("help", datetime(2026, 4, 2, tzinfo=UTC))]):
                await conn.execute(T_QUESTION.insert().values(
                    workspace_id=WORKSPACE, id=f"q{n}", channel_id=channel, asker_id="U1", status="escalated",
                    asked_at=when, escalated_at=when, suggested_experts=[], nudged_experts=[],
                ))
        found = await escalations(db, WORKSPACE, month_period(MARCH, ZONE))
        assert (found.total, found.per_channel, found.private) == (3, (("help", 2),), 1)
    finally:
        await db.dispose()


def test_the_month_so_far_as_a_private_card_keeps_the_floor_and_the_private_channel_out(url: str) -> None:
    from bot.app.sponsor.render import preview_card

    as_of = datetime(2026, 3, 20, 11, 0, tzinfo=UTC)
    report = report_of(url)
    card = preview_card(report, "en", as_of).as_text()
    assert card.startswith("Sponsor report so far: Acme Wandel, March 2026")
    assert f"{report.figures.active_members} active members" in card and "43 questions (" in card
    assert "8 questions needed the facilitators' help this month." in card and "• #help: 4" in card
    assert all(d.title in card for d in report.figures.decisions) and report.figures.decisions
    assert "Two <b>new</b> teams joined the pilot." in card and "February only" not in card
    assert "Joined this month: 4. Posted since: 3." in card
    assert "Month to date, as of Mar 20, 2026, 12:00." in card and "`steward report --month 2026-03`" in card
    assert SECRET not in card and PRIVATE_CHANNEL not in card

    few = preview_card(report_of(url, floor=50), "de", as_of).as_text()
    too_few = translate("sponsor.too_few", "de", count=50)
    assert few.startswith("Bericht für die Sponsor*innen bis heute: Acme Wandel, März 2026")
    assert few.count(too_few) == 2, "the month's figures and the newcomers: about too few people"
    assert "aktive Mitglieder" not in few and "• #help: 4" in few, "counts of questions are not about people"
