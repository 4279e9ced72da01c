"""The monthly sponsor report: participation and health trends with the portal's charts, escalations, decisions,
lessons, newcomer conversion and the facilitators' notes, as print-ready HTML or Markdown, in English or German.

Written on request (`steward report --month 2026-03`) and posted monthly by the `SponsorReports` rule. Its
figures are the digest's and the portal's (`storage.metrics`), for the calendar month in the community's time
zone; figures about fewer than WEB_MIN_GROUP people read "too few to show". Private channels never contribute
words, names or figures, except to the count of escalated questions.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from bot.app.sponsor.figures import ReportError, SponsorReport, collect, community, parse_month
from bot.app.sponsor.render import render_html, render_markdown, summary
from storage.db import create_engine
from storage.migrate import upgrade

logger = logging.getLogger(__name__)
__all__ = [
    "ReportError", "SponsorReport", "collect", "parse_month", "render_html", "render_markdown", "summary",
    "write_report",
]


async def write_report(
    url: str,
    out: Path,
    month_text: str,
    *,
    now: datetime,
    floor: int,
    fmt: str = "html",
    workspace: str | None = None,
    language: str | None = None,
) -> SponsorReport:
    """Collect the month's figures and write the report to `out`; ReportError says in one line what is wrong.

    The schema is brought up to date first (as every start does). The report's language is `language`, else the
    community's own."""
    month = parse_month(month_text)
    if month > now.date().replace(day=1):
        raise ReportError(f"{month_text} has not begun yet")
    if out.exists() and out.is_dir():
        raise ReportError(f"{out} is a directory; --out names the file to write")
    await upgrade(url)
    db = create_engine(url)
    try:
        ws, name, timezone, own_language = await community(db, workspace)
        report = await collect(db, ws, month, timezone=timezone, floor=floor, name=name)
    finally:
        await db.dispose()
    lang = language or own_language
    document = render_markdown(report, lang) if fmt == "markdown" else render_html(report, lang)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(document, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return report
