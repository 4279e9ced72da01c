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
from bot.core.actions import Card
from bot.core.markup import defuse, excerpt

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


PREVIEW_LISTED = 8  # decisions, lessons and notes a preview names, each; the full report has them all


def preview_card(report: SponsorReport, language: str, as_of: dt.datetime) -> Card:
    """`/steward report preview`: the month so far, as a private card (Block Kit, an embed, plain text), with the
    report's own sections and the same anonymity floor: a figure about too few people is withheld."""
    texts = ReportTexts(language, report.timezone)
    _ = texts.gettext
    too_few = _("sponsor.too_few", count=report.floor)
    f = report.figures
    if report.enough:
        month = _("report.preview_figures", members=texts.number(f.active_members),
                  messages=texts.number(f.messages), asked=texts.number(f.questions_asked),
                  rate=texts.percent(f.response_rate), resolved=texts.number(f.questions_resolved),
                  median=texts.duration(f.median_first_response_s))
    else:
        month = too_few
    escalated = [_("sponsor.escalated", count=report.escalations.total)]
    escalated += [f"• #{defuse(name)}: {texts.number(n)}" for name, n in report.escalations.per_channel]
    if report.escalations.private:
        escalated.append(_("sponsor.escalated_private", count=report.escalations.private))
    decided = [f"• {defuse(excerpt(d.title, 120))}" for d in f.decisions[:PREVIEW_LISTED]]
    learned = [_("sponsor.lessons_added", count=f.new_lessons)]
    learned += [f"• {defuse(excerpt(lesson.title, 120))}" for lesson in f.lessons[:PREVIEW_LISTED]]
    cohort = report.cohort
    if report.cohort_shown and cohort is not None:
        newcomers = _("sponsor.conversion", joined=texts.number(cohort.joined), posted=texts.number(cohort.posted),
                      answered=texts.number(cohort.answered))
    else:
        newcomers = too_few if cohort is not None and cohort.joined else _("sponsor.no_newcomers")
    notes = [f"> {defuse(excerpt(note, 300))}" for note in report.notes[:PREVIEW_LISTED]]
    sections = (
        (_("sponsor.section_month"), [month]),
        (_("sponsor.section_escalations"), escalated),
        (_("sponsor.section_decisions"), decided or [_("sponsor.no_decisions")]),
        (_("sponsor.section_lessons"), learned),
        (_("sponsor.section_newcomers"), [newcomers]),
        (_("sponsor.section_notes"), notes or [_("sponsor.no_notes")]),
    )
    return Card(
        title=_("report.preview_title", community=defuse(report.community), month=texts.date(report.month)),
        sections=tuple("\n".join([f"*{heading}*", *lines]) for heading, lines in sections),
        footer=_("report.preview_footer", when=i18n.local_datetime(as_of, report.timezone, texts.language),
                 month=report.month_key, floor=_("sponsor.footer", count=report.floor)),
    )
