"""The audit as a document: Jinja2 templates (HTML with autoescaping, and Markdown) over the sections."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from bot.app.audit.charts import charts_of
from bot.app.audit.figures import Audit
from bot.app.audit.sections import sections_of
from bot.i18n import supported, translate

_templates = Environment(
    loader=PackageLoader("bot.app.audit", "templates"),
    autoescape=select_autoescape(["html.j2"]),  # HTML templates escape what members wrote; Markdown ones do not
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


_templates.filters["md_cell"] = _markdown_cell


def render_markdown(audit: Audit, lang: str) -> str:
    """The report as Markdown, in `lang` (en or de)."""
    lang = supported(lang)
    return _templates.get_template("report.md.j2").render(
        title=translate("audit.title", lang),
        sections=sections_of(audit, lang),
        nothing=translate("audit.nothing", lang),
    )


def render_html(audit: Audit, lang: str) -> str:
    """The report as one self-contained HTML page (charts embedded), in `lang` (en or de)."""
    lang = supported(lang)
    return _templates.get_template("report.html.j2").render(
        lang=lang,
        title=translate("audit.title", lang),
        sections=sections_of(audit, lang),
        charts=charts_of(audit, lang),
        nothing=translate("audit.nothing", lang),
    )
