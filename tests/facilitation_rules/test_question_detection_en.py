"""English question rules added for speech, chat and service-style dialogue (hand-written examples)."""

from __future__ import annotations

import pytest

from facilitation_rules.text.clauses import split_sentences
from facilitation_rules.text.questions import classify_question


def _verdict(text: str) -> tuple[bool, str]:
    verdict = classify_question(text, "en")
    return verdict.is_question, verdict.reason


@pytest.mark.parametrize(
    "text",
    [
        "Could you set up the room for the town hall?",
        "sorry to bother you, can you forward the invite to my team?",
        "Priya, could you please transfer the budget file to the shared drive?",
        "If the pilot slips, would you remind the sponsors on Monday?",
        "Will you draw me a quick diagram of the approval flow?",
        "Do you mind if I join the steering call?",
        "Would it be okay if I skip the Friday retro?",
        "How about we move the kickoff to Thursday?",
    ],
)
def test_requests_for_a_deed_are_not_questions(text: str) -> None:
    is_question, reason = _verdict(text)
    assert not is_question
    assert reason == "request-for-action"


@pytest.mark.parametrize(
    "text",
    [
        "Could you tell me where the rollout checklist lives?",
        "Can you give me a rough idea of the training dates?",
        "can you give us your opinion on the new template?",
        "Can you speak German well enough for the Munich sessions?",
        "Will you take long with the survey results?",
        "Would you like the workshop in person or online?",
        "How about the budget for the second wave?",
        "may i ask who owns the change log?",
    ],
)
def test_requests_for_information_stay_questions(text: str) -> None:
    assert classify_question(text, "en").is_question


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("oh, does she really?", "backchannel"),
        ("do they really.", "backchannel"),
        ("or something?", "backchannel"),
        ("and then my manager said, well, do we even need that?", "reported-speech"),
        ("we keep it in the, oh, what do you call it?", "word-search"),
        ("-- before the second wave starts?", "continuation"),
        ("what's more, the team liked the new dashboard", "connective"),
        ("how long it will take depends on the vendor", "wh-subordinate"),
        ("why yes, I did sign up", "interjection"),
        ("any employee can join the champions network", "free-choice"),
        ("yeah, so did Maria", "statement-opening"),
        ("what was I thinking, booking two workshops in one day", "rhetorical"),
    ],
)
def test_non_questions_with_question_form(text: str, reason: str) -> None:
    assert _verdict(text) == (False, reason)


@pytest.mark.parametrize(
    "text",
    [
        "what",
        "why...",
        "whose the new lead for finance",
        "whys that",
        "hey lovely people how are you",
        "o are you coming to the demo",
        "what up with the intranet today",
        "I have a clarification on the new travel policy",
        "team, anyone suggest a good template for stakeholder maps",
        "Hi all, I'm having a problem with the new approval workflow",
    ],
)
def test_chat_questions_without_question_mark(text: str) -> None:
    assert classify_question(text, "en").is_question


@pytest.mark.parametrize(
    "text",
    [
        "ya",
        "you,",
        "what,",
        "please help yourself to the leftover sandwiches.",
        "they said the kickoff went well, isn't it,",
    ],
)
def test_chat_non_questions(text: str) -> None:
    assert not classify_question(text, "en").is_question


def test_title_abbreviation_does_not_split_sentence() -> None:
    assert split_sentences("Hello, this is Ana. May I speak to Mr. Brown?") == [
        "Hello, this is Ana.",
        "May I speak to Mr Brown?",
    ]
    assert split_sentences("Ask Dr. Weber. Then ask Ms. Li.") == ["Ask Dr Weber.", "Then ask Ms Li."]
    assert split_sentences("ping mr.\nthanks") == ["ping mr.", "thanks"]
