"""Message catalogs: every text a member can see, in English and German, formatted with Babel.

`translate("flag.unanswered", "de", asker="Anna")` looks the key up in the language's catalog and falls back to
English, so a missing German text shows English rather than a key. A text that depends on a number is written
once per plural category (`{"one": ..., "other": ...}`, CLDR's names); `count` chooses the form by the
language's plural rules and is shown as that language writes numbers. `names` joins a list as the language
does ("Anna, Ben and Chris", "Anna, Ben und Chris"). Durations, shares, dates and times are written by Babel
from CLDR's data too (`duration`, `percent`, `local_date`, ...), so no catalog spells out a unit or a date order.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_interval, format_skeleton, format_timedelta, get_day_names
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "de")
_HERE = Path(__file__).parent


Template = str | dict[str, str]  # one text, or one per plural category ("one", "other", ...)


@cache
def catalog(language: str) -> dict[str, Template]:
    """The language's texts: `en.json` plus every `<part>.en.json` beside it (one file per feature area)."""
    merged: dict[str, Template] = {}
    for path in sorted(_HERE.glob(f"*{language}.json")):
        if path.name == f"{language}.json" or path.name.endswith(f".{language}.json"):
            merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def translate(key: str, language: str = "en", /, **params: Any) -> str:
    found = catalog(language).get(key) or catalog("en").get(key)
    if found is None:
        logger.error("missing message %s", key)
        return key
    count = params.get("count")
    if isinstance(found, dict):
        category = _locale(language).plural_form(count) if isinstance(count, int | float) else "other"
        found = found.get(category) or found["other"]
    template = found
    if isinstance(count, int | float) and not isinstance(count, bool):
        params["count"] = format_decimal(count, locale=supported(language))
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        logger.exception("message %s (%s) does not fit its parameters", key, language)
        return template


def names(items: list[str] | tuple[str, ...], language: str = "en") -> str:
    """A list as the language writes it: "a, b and c" in English, "a, b und c" in German."""
    return format_list(list(items), locale=supported(language)) if items else ""


def percent(share: float, language: str = "en") -> str:
    """A share (0.5) as the language writes a percentage: "50%" in English, "50 %" in German."""
    return format_percent(share, locale=supported(language))


def duration(seconds: float, language: str = "en") -> str:
    """A span in one rounded unit ("45 minutes", "3 hours", "2 Tage"): a digest line needs the size, not the detail.

    A unit is used once a whole one has passed (six days stay "6 days", not "1 week"); under a minute is "1 minute".
    """
    return format_timedelta(
        timedelta(seconds=max(0.0, seconds)),
        granularity="minute",
        threshold=1,
        format="long",
        locale=supported(language),
    )


def weekday(index: int, language: str = "en") -> str:
    """The day's full name, Monday being 0 as in `datetime.weekday()`: "Friday", "Freitag"."""
    return str(get_day_names("wide", locale=supported(language))[index])


def time_of_day(value: time, language: str = "en") -> str:
    """A time of day on the 24-hour clock in both languages ("16:30"), as the commands take it."""
    return format_skeleton("Hm", value, locale=supported(language))


def local_date(moment: date | datetime, timezone: str = "UTC", language: str = "en") -> str:
    """A day as the language writes it ("Mar 9, 2026", "9. März 2026"); a moment is first seen in `timezone`."""
    return format_skeleton("yMMMd", _day_in(moment, timezone), locale=supported(language))


def month_year(day: date, language: str = "en") -> str:
    """A month as the language names it: "March 2026", "März 2026"."""
    return format_skeleton("yMMMM", day, locale=supported(language))


def local_datetime(moment: datetime, timezone: str = "UTC", language: str = "en") -> str:
    """A moment as a reader in `timezone` sees it: "Mar 9, 2026, 09:40", "9. März 2026, 09:40"."""
    local = moment.astimezone(ZoneInfo(timezone))
    pattern = str(_locale(language).datetime_formats["medium"]).replace("'", "")
    return pattern.replace("{1}", local_date(local.date(), language=language)).replace(
        "{0}", time_of_day(local.time(), language)
    )


def date_span(start: date | datetime, end: date | datetime, timezone: str = "UTC", language: str = "en") -> str:
    """The days from `start` to `end` (both included), a shared month or year written once: "Mar 2 – 9, 2026",
    "2.–9. März 2026"."""
    first, last = _day_in(start, timezone), _day_in(end, timezone)
    return format_interval(first, last, "yMMMd", locale=supported(language))


def _day_in(moment: date | datetime, timezone: str) -> date:
    """The day a moment falls on in the zone; a day is the day it is."""
    return moment.astimezone(ZoneInfo(timezone)).date() if isinstance(moment, datetime) else moment


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(supported(language))


def supported(language: str | None) -> str:
    """The given language if Steward speaks it, else English."""
    return language if language in LANGUAGES else "en"
