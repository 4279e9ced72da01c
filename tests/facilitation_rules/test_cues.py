"""Thanks, stuck and greeting cues in English and German, and language detection."""

from __future__ import annotations

import pytest

from bot.core.text.language import detect_language
from facilitation_rules.text.cues import is_greeting, is_stuck, is_thanks


@pytest.mark.parametrize(
    "text",
    ["thanks!", "Thank you so much", "works now :tada:", "that did it", "danke dir", "hat geklappt, super",
     "Vielen Dank!", "läuft jetzt"],
)
def test_thanks(text: str) -> None:
    assert is_thanks(text)


@pytest.mark.parametrize(
    "text", ["thanks in advance, where is the form?", "Danke schon mal vorab", "where is the form?", "hi all"]
)
def test_not_thanks(text: str) -> None:
    assert not is_thanks(text)


@pytest.mark.parametrize(
    "text",
    ["I'm stuck with the migration script", "blocked on the access request", "komme nicht weiter",
     "ich hänge bei der Anmeldung fest", "still stuck on step 3", "stehe gerade auf dem Schlauch"],
)
def test_stuck(text: str) -> None:
    assert is_stuck(text)


@pytest.mark.parametrize("text", ["alles klar, danke", "the new process is great", "Workshop läuft gut"])
def test_not_stuck(text: str) -> None:
    assert not is_stuck(text)


@pytest.mark.parametrize("text", ["hi all", "Good morning team!", "moin zusammen", "Hallo <@U123>", "servus"])
def test_greeting(text: str) -> None:
    assert is_greeting(text)


@pytest.mark.parametrize(
    "text",
    ["hi, how do I get access?", "Hallo, wo finde ich die Folien?", "thanks", "na klar, mach ich gern"],
)
def test_not_greeting(text: str) -> None:
    assert not is_greeting(text)


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("Where can I find the workshop slides?", None, "en"),
        ("Wo finde ich die Folien vom Workshop?", None, "de"),
        ("ok", "de", "de"),
        ("ok", "en", "en"),
        ("ok", None, "en"),
        ("danke, hat geklappt", "en", "de"),
        ("Teams Rollout", "de", "de"),
        ("Müssen wir uns für die Schulung anmelden", "en", "de"),
    ],
)
def test_detect_language(text: str, hint: str | None, expected: str) -> None:
    assert detect_language(text, hint) == expected
