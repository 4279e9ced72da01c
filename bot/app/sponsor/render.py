"""The sponsor report as a document: Jinja2 templates (self-contained, print-ready HTML with the portal's SVG
charts inline, and Markdown), words from the `sponsor.*` catalogs, numbers and dates by Babel."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, select_autoescape

from bot import i18n
from bot.app.health_charts import CHARTS, enough_people
from bot.app.sponsor.figures import SponsorReport

_templates = Environment(
    loader=PackageLoader("bot.app.sponsor", "templates"),
    autoescape=select_autoescape(["html.j2"]),  # HTML escapes what members wrote; Markdown does not
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_templates.filters["md_cell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")

# The portal's charts are titled per week; the report's trend is per month.
_MONTHLY = {
    "portal.chart_contributors": "sponsor.chart_contributors",
    "portal.chart_response_rate": "sponsor.chart_response_rate",
    "portal.chart_response_time": "sponsor.chart_response_time",
}


class ReportTexts:
    """Catalog lookups and Babel formats in one language and the community's time zone."""

    def __init__(self, language: str, timezone: str) -> None:
        self.language = i18n.supported(language)
        self.timezone = timezone

    def gettext(self, key: str, **params: Any) -> str:
        return i18n.translate(_MONTHLY.get(key, key), self.language, **params)

    def date(self, moment: dt.date | dt.datetime | None) -> str:
        """A month of the trend, as the language names it ("March 2026")."""
        if moment is None:
            return ""
        day = moment.astimezone(ZoneInfo(self.timezone)).date() if isinstance(moment, dt.datetime) else moment
        return i18n.month_year(day, self.language)

    def duration(self, seconds: float | None) -> str:
        return "–" if seconds is None else i18n.duration(seconds, self.language)

    def percent(self, share: float | None) -> str:
        return "–" if share is None else i18n.percent(share, self.language)

    def number(self, value: int) -> str:
        return str(format_decimal(value, locale=self.language))


def _context(report: SponsorReport, language: str) -> dict[str, Any]:
    texts = ReportTexts(language, report.timezone)
    return {
        "r": report,
        "lang": texts.language,
        "_": texts.gettext,
        "t": texts,
        "month": texts.date(report.month),
        "enough": lambda count: enough_people(count, report.floor),
        "too_few": texts.gettext("sponsor.too_few", count=report.floor),
    }


def render_markdown(report: SponsorReport, language: str) -> str:
    return _templates.get_template("report.md.j2").render(**_context(report, language))


def render_html(report: SponsorReport, language: str) -> str:
    """One self-contained page: the charts are inline SVG (no scripts, no other files), styled for print."""
    context = _context(report, language)
    shown = report.shown_trend
    context["charts"] = [draw(shown, context["t"]) for draw in CHARTS] if shown else []
    return _templates.get_template("report.html.j2").render(**context)


def summary(report: SponsorReport, language: str) -> str:
    """The short message that goes with the attached report in the sponsors' channel."""
    texts = ReportTexts(language, report.timezone)
    month = texts.date(report.month)
    if not report.enough:
        return texts.gettext("sponsor.summary_too_few", month=month, community=report.community)
    f = report.figures
    return texts.gettext(
        "sponsor.summary", month=month, community=report.community, members=texts.number(f.active_members),
        asked=texts.number(f.questions_asked), rate=texts.percent(f.response_rate),
        lessons=texts.number(f.new_lessons), decisions=texts.number(len(f.decisions)),
    )
