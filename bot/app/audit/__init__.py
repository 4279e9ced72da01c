"""The facilitation audit: what happened to the community's questions, and what Steward would have done.

Written for a facilitator to hand to a sponsor: one self-contained HTML file (charts embedded as PNG) or
Markdown, in English or German (texts from the `audit.*` catalogs). Counts come from SQL aggregates over the
stored tables; medians and percentiles of response times are taken over one row per question. Weeks start
Monday 00:00 UTC whatever the community's time zone, and the report says so. Private channels are left out:
the report is meant to be shared.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from bot.app.audit.figures import Audit, AuditError, collect
from bot.app.audit.render import render_html, render_markdown
from storage.migrate import upgrade

logger = logging.getLogger(__name__)
__all__ = ["Audit", "AuditError", "collect", "render_html", "render_markdown", "write_audit"]


async def write_audit(
    url: str,
    out: Path,
    *,
    since: datetime | None = None,
    fmt: str = "html",
    workspace: str | None = None,
    language: str,
) -> Audit:
    """Collect the figures and write the report; raise AuditError when there is nothing to report.

    The schema is brought up to date first (as every start does), so a database nobody has set up yet reads as
    one without history rather than failing on a missing table.
    """
    await upgrade(url)
    audit = await collect(url, since=since, workspace=workspace)
    if audit.questions == 0 and not audit.new_contributors and not audit.inactive_contributors:
        raise AuditError("the database holds no history to audit (import an export first: steward import ...)")
    out.parent.mkdir(parents=True, exist_ok=True)
    report = render_markdown(audit, language) if fmt == "markdown" else render_html(audit, language)
    out.write_text(report, encoding="utf-8")
    return audit
