"""The monthly sponsor report: posted once per community and month, and the facilitators' notes for it.

On the first working day of a month, at 10:00 in the community's time zone, the report on the month before goes
to the channel SPONSOR_REPORT_CHANNEL names (empty: never). The rule remembers the last month it handed over
in the workspace's stored settings, so it looks for the next one after a restart; the shell claims each month in
the database before it writes the report, so a second replica or a repeated tick never posts it twice. A
month that fell due while Steward was stopped is posted late, once; a community seen first waits for the next
report still ahead. An import records months without posting them, and the shell posts nothing for a month
without any history before its end (Steward had just arrived).

`/steward report` (facilitators) says when and where the next report goes; `/steward report preview` shows the
facilitator who asked this month's report so far (with or without a channel set); `/steward report note TEXT` keeps
a note for this month's report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.changes import Change, Set
from bot.core.events import CommandInvoked, Event, TimePassed
from bot.i18n import local_datetime, month_year
from bot.rules import Command, CommandErrand, Decision, Errand, RuleBase, RuleContext
from bot.state import WorkspaceState

logger = logging.getLogger(__name__)

POST_AT = time(10, 0)
PREVIEW = frozenset({"preview", "vorschau"})  # `/steward report preview`: the month so far, privately
SETTING = "sponsor_report_month"  # in the workspace's settings: the last month handed over ("2026-03")


def month_key(day: date) -> str:
    return f"{day:%Y-%m}"


def first_of(key: str) -> date:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


def following_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def occurrence(month: date, timezone: str, working_days: frozenset[int]) -> datetime:
    """When the report on `month` goes out: the next month's first working day, 10:00 local time (UTC)."""
    day = following_month(month)
    for _ in range(7):
        if day.weekday() in working_days:
            break
        day += timedelta(days=1)
    return datetime.combine(day, POST_AT, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def zone_of(workspace: WorkspaceState) -> str:
    """The community's time zone; UTC when its name is unknown."""
    try:
        ZoneInfo(workspace.timezone or "UTC")
    except (KeyError, ValueError):
        return "UTC"
    return workspace.timezone or "UTC"


class SponsorReports(RuleBase):
    """Hands each month's report to the shell when it falls due, and answers `/steward report`."""

    name = "sponsor_report"
    reacts_to = (TimePassed,)

    def __init__(self, *, enabled: bool = False) -> None:
        self.enabled = enabled  # False until the app wires the report's store in: then the rule stays silent

    def commands(self) -> Mapping[str, Command]:
        return {
            "report": Command(
                "report", self.report_command, "report.help", facilitators_only=True,
                usage="[preview | note TEXT]"
            )
        }

    def due_month(self, ctx: RuleContext, workspace: WorkspaceState) -> tuple[date, datetime]:
        """The month whose report this community waits for, and when it goes out."""
        zone, days = zone_of(workspace), ctx.settings.working_weekdays
        done = workspace.settings.get(SETTING)
        if isinstance(done, str):
            try:
                month = following_month(first_of(done))
                return month, occurrence(month, zone, days)
            except ValueError:
                logger.warning("workspace %s has an unreadable %s %r", workspace.id, SETTING, done)
        this_month = ctx.now.astimezone(ZoneInfo(zone)).date().replace(day=1)
        before = (this_month - timedelta(days=1)).replace(day=1)  # its report may still be ahead (before the 1st
        month = before if occurrence(before, zone, days) > ctx.now else this_month  # working day's 10:00)
        return month, occurrence(month, zone, days)

    def _active(self, ctx: RuleContext) -> bool:
        return self.enabled and bool(ctx.settings.sponsor_report_channel.strip())

    def next_due(self, ctx: RuleContext) -> datetime | None:
        if not self._active(ctx):
            return None
        return min((self.due_month(ctx, ws)[1] for ws in ctx.state.workspaces.values()), default=None)

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if not isinstance(event, TimePassed) or not self._active(ctx):
            return ()
        decision: list[Errand | Change] = []
        for workspace in list(ctx.state.workspaces.values()):
            month, due = self.due_month(ctx, workspace)
            if due > ctx.now:
                if SETTING not in workspace.settings:  # seen first: remember which month comes next
                    decision.append(self._handled(workspace, (month - timedelta(days=1)).replace(day=1)))
                continue
            decision.append(self._handled(workspace, month))
            if not ctx.backfill:  # history gets no reports; the first live month does
                channel = ctx.settings.sponsor_report_channel.strip()
                decision.append(PublishSponsorReport(workspace=workspace.id, month=month_key(month), channel=channel))
        return decision

    @staticmethod
    def _handled(workspace: WorkspaceState, month: date) -> Set:
        """Store in the workspace's settings that the reports up to `month` are handed over."""
        settings = {**workspace.settings, SETTING: month_key(month)}
        return Set("workspace", workspace.id, workspace.id, (("settings", settings),))

    # --- commands ------------------------------------------------------------------------------------------
    def report_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        workspace = ctx.workspace(event.workspace)
        zone = zone_of(workspace)
        this_month = ctx.now.astimezone(ZoneInfo(zone)).date().replace(day=1)
        if args and args[0].lower() in {"note", "notiz"}:
            text = " ".join(args[1:]).strip()
            if not text:
                return [ctx.reply(event, "report.usage")]
            return [AddReportNote(workspace=event.workspace, command=event, month=month_key(this_month), text=text)]
        if len(args) == 1 and args[0].lower() in PREVIEW:
            if not self.enabled:
                return [ctx.reply(event, "report.unavailable")]
            return [PreviewSponsorReport(workspace=event.workspace, command=event, month=month_key(this_month))]
        if args:
            return [ctx.reply(event, "report.usage")]
        channel = ctx.settings.sponsor_report_channel.strip()
        if not channel or not self.enabled:
            return [ctx.reply(event, "report.not_set_up")]
        month, due = self.due_month(ctx, workspace)
        lang = ctx.language(event.workspace, event.user)
        shown = channel if channel.startswith(("#", "<")) else f"#{channel}"
        return [ctx.reply(
            event, "report.next", month=month_year(month, lang), when=local_datetime(max(due, ctx.now), zone, lang),
            channel=shown, timezone=zone,
        )]


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishSponsorReport(Errand):
    """Post the report on `month` ("2026-03") to `channel`: claim the month (once per community, whoever asks),
    write the report, and post a summary with the HTML attached."""

    month: str
    channel: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddReportNote(CommandErrand):
    """Keep a facilitator's note for the report on `month`."""

    month: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewSponsorReport(CommandErrand):
    """Show the facilitator who asked the report on `month` so far, privately; nothing is claimed or posted."""

    month: str
