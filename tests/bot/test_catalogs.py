"""Every text exists in English and German, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import catalog, translate

CATALOGS = Path(__file__).resolve().parents[2] / "bot" / "i18n"


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_english_and_german_have_the_same_keys_and_placeholders() -> None:
    english, german = catalog("en"), catalog("de")
    assert english.keys() == german.keys()
    for key in english:
        assert placeholders(english[key]) == placeholders(german[key]), key


@pytest.mark.parametrize("area", sorted({p.name.split(".")[0] for p in CATALOGS.glob("*.en.json")}))
def test_each_feature_area_ships_both_languages(area: str) -> None:
    assert (CATALOGS / f"{area}.de.json").exists()


def test_a_missing_key_shows_the_key_and_german_falls_back_to_english_never_crashing() -> None:
    assert translate("no.such.key", "de") == "no.such.key"
    assert "Danke" in translate("solved.done", "de")
    assert re.search(r"solved", translate("solved.done", "fr"), re.IGNORECASE)
