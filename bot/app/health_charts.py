"""Health charts as SVG, drawn by pygal: the portal's health page and the sponsor report draw the same ones.

They take anything that can look up a catalog text and format a date in the reader's language (the portal's
`Texts`, the report's texts), so both documents read alike. Only periods with enough people are drawn: callers
pass what `enough_people` let through.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

import pygal
from pygal.style import Style

from storage.metrics import HealthWeek

_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#888",
    colors=("#00798c", "#edae49", "#d1495b", "#30638e"),
    font_family="system-ui, sans-serif",
)


class ChartTexts(Protocol):
    """What a chart needs of the reader's language."""

    def gettext(self, key: str, **params: Any) -> str: ...

    def date(self, moment: date | datetime | None) -> str: ...


def enough_people(count: int | None, floor: int) -> bool:
    """Whether a figure about `count` people may be shown (the k-anonymity floor, WEB_MIN_GROUP)."""
    return count is not None and count >= floor


def _chart(kind: type[pygal.graph.graph.Graph], title: str, labels: list[str]) -> pygal.graph.graph.Graph:
    chart = kind(
        style=_STYLE, width=720, height=300, js=[], disable_xml_declaration=True, explicit_size=False,
        show_legend=True, legend_at_bottom=True, x_label_rotation=30, print_values=False, title=title,
    )
    chart.x_labels = labels
    return chart


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def response_times(weeks: Sequence[HealthWeek], texts: ChartTexts) -> str:
    chart = _chart(pygal.Line, texts.gettext("portal.chart_response_time"), [texts.date(w.period.start) for w in weeks])
    chart.add(texts.gettext("portal.median"), [_hours(w.median_first_response_s) for w in weeks])
    chart.add(texts.gettext("portal.p90"), [_hours(w.p90_first_response_s) for w in weeks])
    return str(chart.render(is_unicode=True))


def response_rates(weeks: Sequence[HealthWeek], texts: ChartTexts) -> str:
    chart = _chart(pygal.Bar, texts.gettext("portal.chart_response_rate"), [texts.date(w.period.start) for w in weeks])
    chart.range = (0, 100)
    chart.add(texts.gettext("portal.response_rate"), [_share(w.response_rate) for w in weeks])
    chart.add(texts.gettext("portal.unanswered_share"), [_share(w.unanswered_share) for w in weeks])
    return str(chart.render(is_unicode=True))


def contributors(weeks: Sequence[HealthWeek], texts: ChartTexts) -> str:
    chart = _chart(
        pygal.StackedBar, texts.gettext("portal.chart_contributors"), [texts.date(w.period.start) for w in weeks]
    )
    chart.add(texts.gettext("portal.returning"), [w.returning_contributors for w in weeks])
    chart.add(texts.gettext("portal.new"), [w.new_contributors for w in weeks])
    return str(chart.render(is_unicode=True))


CHARTS = (response_times, response_rates, contributors)


def _share(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)
