"""Every text exists in English and German, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import catalog, translate

CATALOGS = Path(__file__).resolve().parents[2] / "bot" / "i18n"


def placeholders(template: str | dict[str, str]) -> set[str]:
    forms = template.values() if isinstance(template, dict) else [template]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name} - {"count"}


def test_english_and_german_have_the_same_keys_and_placeholders() -> None:
    english, german = catalog("en"), catalog("de")
    assert english.keys() == german.keys()
    for key in english:
        assert placeholders(english[key]) == placeholders(german[key]), key
        if isinstance(english[key], dict) or isinstance(german[key], dict):
            assert {"one", "other"} <= set(english[key]) and {"one", "other"} <= set(german[key]), key


def test_a_number_chooses_its_plural_form_and_is_written_as_the_language_writes_numbers() -> None:
    assert translate("unanswered.list", "en", count=1, lines="-").startswith("One question is still waiting")
    assert translate("unanswered.list", "en", count=3, lines="-").startswith("3 questions are still waiting")
    assert translate("unanswered.list", "de", count=1, lines="-").startswith("Eine Frage wartet")
    assert translate("digest.n_messages", "de", count=1234) == "1.234 Nachrichten"
    assert translate("digest.n_messages", "en", count=1234) == "1,234 messages"
    assert "(s)" not in "".join(str(text) for text in catalog("en").values())


def test_lists_are_joined_as_each_language_joins_them() -> None:
    from bot.i18n import names

    assert names(["Anna", "Ben", "Chris"], "en") == "Anna, Ben, and Chris"
    assert names(["Anna", "Ben", "Chris"], "de") == "Anna, Ben und Chris"
    assert names(["Anna"], "de") == "Anna" and names([], "en") == ""


@pytest.mark.parametrize("area", sorted({p.name.split(".")[0] for p in CATALOGS.glob("*.en.json")}))
def test_each_feature_area_ships_both_languages(area: str) -> None:
    assert (CATALOGS / f"{area}.de.json").exists()


def test_a_missing_key_shows_the_key_and_german_falls_back_to_english_never_crashing() -> None:
    assert translate("no.such.key", "de") == "no.such.key"
    assert "Danke" in translate("solved.done", "de")
    assert re.search(r"solved", translate("solved.done", "fr"), re.IGNORECASE)
