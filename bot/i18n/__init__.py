"""Message catalogs: every text a member can see, in English and German.

`translate("flag.unanswered", "de", asker="Anna")` looks the key up in the language's catalog and falls back to
English, so a missing German text shows English rather than a key.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "de")
_HERE = Path(__file__).parent


@cache
def catalog(language: str) -> dict[str, str]:
    """The language's texts: `en.json` plus every `<part>.en.json` beside it (one file per feature area)."""
    merged: dict[str, str] = {}
    for path in sorted(_HERE.glob(f"*{language}.json")):
        if path.name == f"{language}.json" or path.name.endswith(f".{language}.json"):
            merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def translate(key: str, language: str = "en", /, **params: Any) -> str:
    template = catalog(language).get(key) or catalog("en").get(key)
    if template is None:
        logger.error("missing message %s", key)
        return key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        logger.exception("message %s (%s) does not fit its parameters", key, language)
        return template


def supported(language: str | None) -> str:
    """The given language if Steward speaks it, else English."""
    return language if language in LANGUAGES else "en"
