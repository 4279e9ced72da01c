"""Question detection on the project's own labelled chat messages, plus named hard cases."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.core.text.language import detect_language
from facilitation_rules.text.questions import QuestionVerdict, classify_question, is_question, normalize

DATA = Path(__file__).resolve().parents[1] / "data" / "questions_labelled.jsonl"


def _rows() -> list[dict[str, object]]:
    with DATA.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.mark.parametrize("lang", ["en", "de"])
def test_labelled_set_has_enough_messages(lang: str) -> None:
    rows = [r for r in _rows() if r["lang"] == lang]
    assert len(rows) >= 100
    assert {r["is_question"] for r in rows} == {True, False}


@pytest.mark.parametrize("lang", ["en", "de"])
@pytest.mark.parametrize("hint", [None, "en", "de"])
def test_accuracy_per_language(lang: str, hint: str | None) -> None:
    rows = [r for r in _rows() if r["lang"] == lang]
    correct = sum(is_question(str(r["text"]), hint) == r["is_question"] for r in rows)
    assert correct / len(rows) >= 0.9


@pytest.mark.parametrize("lang", ["en", "de"])
def test_language_detection_on_labelled_set(lang: str) -> None:
    rows = [r for r in _rows() if r["lang"] == lang]
    correct = sum(detect_language(str(r["text"])) == lang for r in rows)
    assert correct / len(rows) >= 0.9


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("anyone know how to reset my SSO password", "en"),
        ("does the workshop start at 10", "en"),
        ("i was wondering if the training is recorded", "en"),
        ("not sure whether the form goes to HR or IT", "en"),
        ("<@U123> where is the rollout plan", "en"),
        ("kann mir jemand sagen wo die Folien liegen", "de"),
        ("bin mir nicht sicher, ob der Workshop verschoben wurde", "de"),
        ("habt ihr schon Zugriff auf das neue Portal", "de"),
        ("wie lange dauert die Freigabe", "de"),
        ("gibt es eine Anleitung dafür", "de"),
        ("I'm getting an error when I open the new CRM", "en"),
        ("das Login funktioniert bei mir seit heute nicht", "de"),
    ],
)
def test_questions_without_question_mark(text: str, hint: str) -> None:
    assert is_question(text, hint)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("oh really?", "backchannel"),
        ("right?", "backchannel"),
        ("echt?", "backchannel"),
        ("who cares?", "rhetorical"),
        ("Who doesn't love another password reset?", "rhetorical"),
        ("I think it works now?", "rhetorical"),
        ("Could you please send me the invite?", "request-for-action"),
        ("How about a coffee on Friday?", "request-for-action"),
        ("Wie wäre es mit Freitag?", "request-for-action"),
        ("What do you call a meeting without an agenda? A chat.", "joke"),
        ("what a great session!", "exclamation"),
    ],
)
def test_non_questions_name_their_reason(text: str, reason: str) -> None:
    verdict = classify_question(text)
    assert not verdict.is_question
    assert verdict.reason == reason


@pytest.mark.parametrize(
    "text",
    [
        "hi all",
        "Moin zusammen",
        "thanks!",
        "Danke, hat geklappt",
        "The slides are in the wiki.",
        "wie gesagt, passt",
    ],
)
def test_statements_and_greetings_are_not_questions(text: str) -> None:
    assert not is_question(text)


def test_verdict_fields() -> None:
    verdict = classify_question("Where do I find the training slides?", "en")
    assert isinstance(verdict, QuestionVerdict)
    assert verdict.is_question and verdict.reason == "qmark" and verdict.language == "en"
    assert 0.0 <= verdict.score <= 1.0


def test_markup_is_ignored() -> None:
    text = "<@U42> see <https://example.com/x?y=1|the doc> :eyes: ```what? code?``` thanks"
    assert "?" not in normalize(text)
    assert not is_question(text, "en")


def test_question_in_later_sentence_counts() -> None:
    assert is_question("Hi all! We just moved to the new ticket tool. Where do I see my old tickets?", "en")


def test_speed_is_a_few_microseconds_per_message() -> None:
    texts = [str(r["text"]) for r in _rows()] * 20
    start = time.perf_counter()
    for text in texts:
        classify_question(text)
    per_message = (time.perf_counter() - start) / len(texts)
    assert per_message < 200e-6  # generous bound for slow CI machines; typical is ~20 µs


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("Fine, thanks. And you?", "en", True),  # return question
        ("<@U7> ?", "en", True),  # summons
        ("pardon?", "en", True),  # clarification request
        ("The canteen? It closed last year, we eat in town now.", "en", False),  # echo, then statement
        ("<@U7> has a good point about the rollout", "en", False),  # handle is the subject
        ("my bike won't start since the rain", "en", False),  # complaint without technical detail
        ("the export doesn't work since the update, error code 42", "en", True),
        ("ich weiß nicht ob der Raum noch frei ist", "de", True),
        ("stündlich, oder wann kommt der nächste Bus", "de", True),
        ("sollen wir das am Freitag machen", "de", False),  # proposal without "?"
        ("Sollen wir das am Freitag machen?", "de", True),
        ("ach, haben Sie nicht", "de", False),
        ("was Neues gibt es nicht", "de", False),
    ],
)
def test_dialogue_patterns(text: str, hint: str, expected: bool) -> None:
    assert is_question(text, hint) is expected


def test_a_german_headless_relative_clause_introduces_people_rather_than_asking() -> None:
    assert not is_question("Erinnerung: bitte bis Freitag anmelden. Wer schon angemeldet ist, gern mit 👍 reagieren.")
    assert is_question("Wer ist schon angemeldet?")
    assert is_question("Wer weiß, wie man sich anmeldet")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all good, where are you based", True),  # answer first, then a question after the comma
        ("we moved to the new office, which is next to the station", False),  # relative clause
        ("I talked to the vendor, what a mess.", False),
        ("busy week and you", True),  # short answer handed back
        ("it was just me and you", False),
        ("who wanna test the pilot group", True),
        ("hey how u doin today", True),
    ],
)
def test_unpunctuated_chat_questions(text: str, expected: bool) -> None:
    assert is_question(text, "en") is expected


@pytest.mark.parametrize(
    "text",
    [
        "just wondering if the survey is anonymous",
        "curious if someone has migrated the team calendars already",
        "wanted to ask whether the old forms still work",
        "I hope someone here can explain the new approval flow",
        "I have a doubt about the travel policy",
        "looking for a way to export my survey results",
        "if anyone knows who owns the intranet page, ping me",
        "I'm looking for some documentation on the new expense tool",
        "since the update I'm unable to upload files to the portal",
        "Could you please tell me where the templates are?",
        "Could you please share the onboarding checklist?",
        "why don't you like the new dashboard?",
    ],
)
def test_indirect_requests_for_information(text: str) -> None:
    assert is_question(text, "en")


def test_suggestions_with_why_dont_stay_requests_for_action() -> None:
    verdict = classify_question("Why don't we meet on Thursday instead?", "en")
    assert not verdict.is_question and verdict.reason == "request-for-action"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("you're on the new version of the portal right", True),
        ("u joined the kickoff call right", True),
        ("you're absolutely right", False),
        ("you turn right after the lobby.", False),
    ],
)
def test_tag_right_without_comma(text: str, expected: bool) -> None:
    assert is_question(text, "en") is expected


def test_you_know_filler_with_qmark_is_not_a_question() -> None:
    verdict = classify_question("the rollout always takes longer than planned, you know?", "en")
    assert not verdict.is_question and verdict.reason == "filler-tag"
    assert is_question("how do you know?", "en")
