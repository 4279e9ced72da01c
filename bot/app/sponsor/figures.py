"""What a month's sponsor report holds, read from the database with the digest's and the portal's own queries.

Participation and health come from `storage.metrics.figures` (the digest's figures) for the month and from
`storage.metrics.health` (the portal's charts) for the months before it; newcomer conversion is the digest's
cohort for the month. Only escalations and the facilitators' notes are the report's own (`storage.sponsor_report`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.health_charts import enough_people
from bot.core.digest_figures import Cohort, Figures, Period
from storage import metrics
from storage.metrics import HealthWeek, months_touching
from storage.repository import T_WORKSPACE
from storage.sponsor_report import Escalations, escalations, notes_of

logger = logging.getLogger(__name__)

TREND_MONTHS = 6  # the report month and the five before it
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ReportError(Exception):
    """The report cannot be written (a bad month, an unknown community); one line says why."""


@dataclass(frozen=True)
class SponsorReport:
    """One community's month, as sponsors read it. `floor` is WEB_MIN_GROUP: figures about fewer people are
    withheld ("too few to show")."""

    workspace: str
    community: str
    timezone: str
    month: date  # the month's first day
    period: Period
    floor: int
    figures: Figures
    trend: list[HealthWeek] = field(default_factory=list)  # one row per month, oldest first
    escalations: Escalations = field(default_factory=Escalations)
    notes: list[str] = field(default_factory=list)

    @property
    def month_key(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def enough(self) -> bool:
        """Whether the month's participation and health figures may be shown."""
        return enough_people(self.figures.active_members, self.floor)

    @property
    def shown_trend(self) -> list[HealthWeek]:
        return [m for m in self.trend if enough_people(m.active_members, self.floor)]

    @property
    def cohort(self) -> Cohort | None:
        """Newcomer conversion of the month (those who joined in it), as the digest counts it."""
        return next((c for c in self.figures.newcomers if c.first_day == self.month), None)

    @property
    def cohort_shown(self) -> bool:
        cohort = self.cohort
        return cohort is not None and enough_people(cohort.joined, self.floor)


def parse_month(text: str) -> date:
    """`2026-03` -> its first day; anything else is a ReportError saying what is expected."""
    found = _MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ReportError(f"not a month: {text!r} (expected YYYY-MM, e.g. 2026-03)")
    return date(int(found.group(1)), int(found.group(2)), 1)


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_period(first_day: date, timezone: str) -> Period:
    """The calendar month in the community's time zone, exactly as the digest's newcomer cohorts count months."""
    noon = datetime(first_day.year, first_day.month, 1, 12, tzinfo=ZoneInfo(timezone))
    [(period, _first)] = months_touching(Period(noon, noon), timezone)
    return period


async def community(db: AsyncEngine, workspace: str | None) -> tuple[str, str, str, str]:
    """(id, name, time zone, language) of the community asked for, or of the only one; ReportError otherwise."""
    async with db.connect() as conn:
        rows = list(await conn.execute(select(T_WORKSPACE.c.id, T_WORKSPACE.c.name, T_WORKSPACE.c.timezone,
                                              T_WORKSPACE.c.language).order_by(T_WORKSPACE.c.id)))
    if workspace is not None:
        rows = [r for r in rows if r.id == workspace]
        if not rows:
            raise ReportError(f"no community {workspace!r} in the database")
    if not rows:
        raise ReportError("the database holds no community yet (import an export first: steward import ...)")
    if len(rows) > 1:
        raise ReportError("the database holds several communities; name one with --workspace "
                          f"({', '.join(r.id for r in rows)})")
    row = rows[0]
    return row.id, row.name or row.id, row.timezone or "UTC", row.language or "en"


async def collect(
    db: AsyncEngine, workspace: str, month: date, *, timezone: str, floor: int, name: str = ""
) -> SponsorReport:
    """Everything the report shows for `month`, in the community's time zone."""
    period = month_period(month, timezone)
    trend_start = month
    for _ in range(TREND_MONTHS - 1):
        trend_start = previous_month(trend_start)
    months = [p for p, _first in months_touching(Period(month_period(trend_start, timezone).start, period.end),
                                                  timezone)]
    trend = [m for m in await metrics.health(db, workspace, months) if m.active_members or m.period == period]
    return SponsorReport(
        workspace=workspace,
        community=name or workspace,
        timezone=timezone,
        month=month,
        period=period,
        floor=floor,
        figures=await metrics.figures(db, workspace, period),
        trend=trend,
        escalations=await escalations(db, workspace, period),
        notes=await notes_of(db, workspace, f"{month:%Y-%m}"),
    )
