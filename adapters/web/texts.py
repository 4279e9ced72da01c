"""The portal's words and formats: the chat's message catalogs and Babel formatting, bound to a reader's language.

Templates get `_` (through Jinja2's i18n extension) and the formatting helpers of one `Texts`, so a page reads
exactly as Steward's chat messages do in that language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from bot import i18n


class Texts:
    """Catalog lookups and Babel formats in one language and time zone."""

    def __init__(self, language: str, timezone: str = "UTC") -> None:
        self.language = i18n.supported(language)
        self.timezone = timezone

    def gettext(self, key: str, **params: Any) -> str:
        return i18n.translate(key, self.language, **params)

    def ngettext(self, key: str, _plural: str, count: int, **params: Any) -> str:
        return i18n.translate(key, self.language, count=count, **params)

    def duration(self, seconds: float | None) -> str:
        return "–" if seconds is None else i18n.duration(seconds, self.language)

    def percent(self, share: float | None) -> str:
        return "–" if share is None else i18n.percent(share, self.language)

    def date(self, moment: dt.date | dt.datetime | None) -> str:
        return "" if moment is None else i18n.local_date(moment, self.timezone, self.language)

    def datetime(self, moment: dt.datetime | None) -> str:
        return "" if moment is None else i18n.local_datetime(moment, self.timezone, self.language)

    def span(self, start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> str:
        return i18n.date_span(start, end, self.timezone, self.language)

    def names(self, items: Iterable[str]) -> str:
        return i18n.names(list(items), self.language)

    def template_globals(self) -> dict[str, Any]:
        """What every template may call."""
        return {
            "_": self.gettext, "gettext": self.gettext, "ngettext": self.ngettext, "lang": self.language,
            "duration": self.duration, "percent": self.percent, "fmt_date": self.date,
            "fmt_datetime": self.datetime, "span": self.span, "names": self.names,
        }
