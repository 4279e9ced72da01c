"""Every text exists in English and German, with the same placeholders."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime, time, timedelta
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


@pytest.mark.parametrize(
    ("seconds", "english", "german"),
    [
        (20, "1 minute", "1 Minute"),
        (45 * 60, "45 minutes", "45 Minuten"),
        (3600, "1 hour", "1 Stunde"),
        (3 * 3600 + 20 * 60, "3 hours", "3 Stunden"),
        (23 * 3600, "23 hours", "23 Stunden"),
        (2 * 86400 + 4 * 3600, "2 days", "2 Tage"),
        (6 * 86400, "6 days", "6 Tage"),
        (14 * 86400, "2 weeks", "2 Wochen"),
    ],
)
def test_durations_are_one_rounded_unit_in_the_readers_language(seconds: float, english: str, german: str) -> None:
    from bot.i18n import duration

    assert (duration(seconds, "en"), duration(seconds, "de")) == (english, german)


def test_shares_are_written_as_each_language_writes_percentages() -> None:
    from bot.i18n import percent

    assert percent(0.5, "en") == "50%" and percent(0.755, "en") == "76%"
    assert percent(0.5, "de") == "50\u00a0%"


def test_moments_are_shown_in_the_communitys_time_zone_and_language() -> None:
    from bot.i18n import date_span, local_date, local_datetime, time_of_day, weekday

    winter, summer = datetime(2026, 3, 2, 8, 0, tzinfo=UTC), datetime(2026, 7, 6, 8, 0, tzinfo=UTC)
    assert local_datetime(winter, "Europe/Berlin", "en") == "Mar 2, 2026, 09:00"
    assert local_datetime(winter, "Europe/Berlin", "de") == "2. März 2026, 09:00"
    assert local_datetime(summer, "Europe/Berlin", "de") == "6. Juli 2026, 10:00"
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # Sunday night in UTC is Monday in Berlin
    assert local_date(late, "UTC", "en") == "Mar 1, 2026" and local_date(late, "Europe/Berlin", "en") == "Mar 2, 2026"
    assert date_span(late, late + timedelta(days=6), "Europe/Berlin", "en") == "Mar 2\u2009–\u20098, 2026"
    assert date_span(late, late + timedelta(days=6), "Europe/Berlin", "de") == "2.–8. März 2026"
    assert date_span(date(2026, 3, 30), date(2026, 4, 5), language="de") == "30. März\u2009–\u20095. Apr. 2026"
    assert (weekday(4, "en"), weekday(4, "de")) == ("Friday", "Freitag")
    assert time_of_day(time(16, 30), "en") == time_of_day(time(16, 30), "de") == "16:30"
