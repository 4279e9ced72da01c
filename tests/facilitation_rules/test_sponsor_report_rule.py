"""The sponsor report rule on its own: when each month's report falls due, what it hands to the shell, and what
`/steward report` answers. No database, no engine."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.changes import Set, apply_all
from bot.core.events import CommandInvoked, TimePassed
from bot.rules import RuleContext
from bot.state import CommunityState
from facilitation_rules.sponsor_report import (
    SETTING,
    AddReportNote,
    PreviewSponsorReport,
    PublishSponsorReport,
    SponsorReports,
    occurrence,
)
from tests.conftest import make_settings

WS = "console:view"
WEEKDAYS = frozenset(range(5))


def context(now: datetime, *, channel: str = "sponsors", done: str | None = None) -> RuleContext:
    state = CommunityState()
    workspace = state.workspace(WS)
    workspace.timezone = "Europe/Berlin"
    if done is not None:
        workspace.settings = {SETTING: done}
    settings = make_settings("sqlite:///unused.db", sponsor_report_channel=channel)
    return RuleContext(now=now, settings=settings, state=state)


def test_the_report_goes_out_on_the_first_working_day_at_ten_community_time() -> None:
    # March 2026 begins on a Sunday: Monday the 2nd; April 1 is a Wednesday; August 1 a Saturday.
    assert occurrence(date(2026, 2, 1), "Europe/Berlin", WEEKDAYS) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert occurrence(date(2026, 3, 1), "Europe/Berlin", WEEKDAYS) == datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    assert occurrence(date(2026, 7, 1), "Europe/Berlin", WEEKDAYS) == datetime(2026, 8, 3, 8, 0, tzinfo=UTC)
    assert occurrence(date(2026, 12, 1), "UTC", WEEKDAYS) == datetime(2027, 1, 1, 10, 0, tzinfo=UTC)


def test_a_due_month_is_handed_over_and_remembered() -> None:
    rule = SponsorReports(enabled=True)
    ctx = context(datetime(2026, 4, 1, 8, 5, tzinfo=UTC), done="2026-02")
    assert rule.next_due(ctx) == datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    decision = rule.handle(TimePassed(workspace="", at=ctx.now), ctx)
    [remember] = [d for d in decision if isinstance(d, Set)]
    [publish] = [d for d in decision if isinstance(d, PublishSponsorReport)]
    assert publish == PublishSponsorReport(workspace=WS, month="2026-03", channel="sponsors")
    apply_all([remember], ctx.state)
    assert ctx.state.workspace(WS).settings[SETTING] == "2026-03"
    assert rule.handle(TimePassed(workspace="", at=ctx.now), ctx) == []
    assert rule.next_due(ctx) == datetime(2026, 5, 1, 8, 0, tzinfo=UTC)  # Friday, May 1


def test_a_community_seen_first_waits_for_the_next_report_still_ahead() -> None:
    rule = SponsorReports(enabled=True)
    before = context(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # 08:00 Berlin: February's report is ahead
    [remember] = rule.handle(TimePassed(workspace="", at=before.now), before)
    apply_all([remember], before.state)  # type: ignore[list-item]
    assert before.state.workspace(WS).settings[SETTING] == "2026-01"
    assert rule.next_due(before) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    after = context(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))  # past it: March's report is the next
    [remember] = rule.handle(TimePassed(workspace="", at=after.now), after)
    apply_all([remember], after.state)  # type: ignore[list-item]
    assert after.state.workspace(WS).settings[SETTING] == "2026-02"
    assert rule.next_due(after) == datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def test_history_is_remembered_without_posting_and_no_channel_means_no_report() -> None:
    rule = SponsorReports(enabled=True)
    importing = context(datetime(2026, 4, 2, tzinfo=UTC), done="2026-02")
    importing.backfill = True
    decision = rule.handle(TimePassed(workspace="", at=importing.now), importing)
    assert [type(d) for d in decision] == [Set]

    silent = context(datetime(2026, 4, 2, tzinfo=UTC), channel="", done="2026-02")
    assert rule.next_due(silent) is None and rule.handle(TimePassed(workspace="", at=silent.now), silent) == ()
    assert SponsorReports(enabled=False).next_due(context(datetime(2026, 4, 2, tzinfo=UTC))) is None


def test_the_command_says_when_and_where_and_keeps_notes() -> None:
    rule = SponsorReports(enabled=True)
    ctx = context(datetime(2026, 3, 10, 9, 0, tzinfo=UTC), done="2026-02")

    def run(args: str) -> list[object]:
        event = CommandInvoked(workspace=WS, at=ctx.now, channel="help", user="fran", args=args, is_admin=True)
        return list(rule.report_command(event, args.split()[1:], ctx))

    [answer] = run("report")
    assert answer.text == "The report on March 2026 goes to #sponsors on Apr 1, 2026, 10:00 (Europe/Berlin)."  # type: ignore[attr-defined]
    [note] = run("report note The pilot teams met twice.")
    assert isinstance(note, AddReportNote) and note.month == "2026-03" and note.text == "The pilot teams met twice."
    [usage] = run("report note")
    assert "Usage: `/steward report`" in usage.text  # type: ignore[attr-defined]
    [usage] = run("report sometime")
    assert "Usage" in usage.text  # type: ignore[attr-defined]
    assert rule.commands()["report"].facilitators_only


def test_a_preview_of_the_month_so_far_needs_no_channel_and_takes_no_more_words() -> None:
    rule = SponsorReports(enabled=True)
    ctx = context(datetime(2026, 3, 13, 14, 47, tzinfo=UTC), channel="")

    def run(args: str) -> list[object]:
        event = CommandInvoked(workspace=WS, at=ctx.now, channel="facilitators", user="fran", args=args, is_admin=True)
        return list(rule.report_command(event, args.split()[1:], ctx))

    for args in ("report preview", "report Vorschau"):
        [preview] = run(args)
        assert isinstance(preview, PreviewSponsorReport) and preview.month == "2026-03", args
    [usage] = run("report preview now")
    assert "`/steward report preview`" in usage.text  # type: ignore[attr-defined]
    [unavailable] = list(
        SponsorReports(enabled=False).report_command(
            CommandInvoked(workspace=WS, at=ctx.now, channel="facilitators", user="fran", args="report preview"),
            ["preview"],
            ctx,
        )
    )
    assert "not available right now" in unavailable.text  # type: ignore[attr-defined]
