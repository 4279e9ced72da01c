"""Message catalogs: every text a member can see, in English and German, formatted with Babel.

`translate("flag.unanswered", "de", asker="Anna")` looks the key up in the language's catalog and falls back to
English, so a missing German text shows English rather than a key. A text that depends on a number is written
once per plural category (`{"one": ..., "other": ...}`, CLDR's names); `count` chooses the form by the
language's plural rules and is shown as that language writes numbers. `names` joins a list as the language
does ("Anna, Ben and Chris", "Anna, Ben und Chris").
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.lists import format_list
from babel.numbers import format_decimal

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


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(supported(language))


def supported(language: str | None) -> str:
    """The given language if Steward speaks it, else English."""
    return language if language in LANGUAGES else "en"
