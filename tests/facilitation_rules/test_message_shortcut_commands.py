"""What the "Record decision" and "Make an idea" message shortcuts run: the command line built from a message's
words, read back by the real command router into the same errand `/steward decide` and `/steward idea` give."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.commands import CommandRouter
from bot.core.events import CommandInvoked
from bot.rules import RuleContext
from bot.settings import Settings
from bot.state import CommunityState
from facilitation_rules import decisions, ideas
from facilitation_rules.text.decisions import MAX_TITLE_CHARS, message_title

WS = "console:view"
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def run(args: str, thread: str | None = "t1") -> list[object]:
    settings = Settings(_env_file=None, database_url="sqlite://")  # type: ignore[call-arg]
    ctx = RuleContext(now=MONDAY, settings=settings, state=CommunityState())
    router = CommandRouter([decisions.DecisionLog(enabled=True), ideas.Ideas(enabled=True)])
    event = CommandInvoked(workspace=WS, at=MONDAY, channel="help", user="ana", args=args, thread=thread)
    return list(router.dispatch(event, ctx))


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Let's go with Teams, because half of us are remote. Thanks!", "Let's go with Teams"),
        ("Wir machen das so: Teams für alle, damit niemand fehlt.", "Wir machen das so: Teams für alle"),
        ("Where do we hold the kickoff: Teams or the big room? Let me know.", "Where do we hold the kickoff: Teams or "
         "the big room?"),
        ("", ""),
    ],
)
def test_a_message_is_titled_as_a_thread_without_a_typed_title(text: str, title: str) -> None:
    assert message_title(text) == title


def test_a_long_message_is_shortened_at_a_word_with_an_ellipsis() -> None:
    title = message_title("Ship " + "the onboarding guide and " * 10 + "today.")
    assert len(title) <= MAX_TITLE_CHARS and title.endswith("…") and not title.endswith(" …")


def test_record_decision_runs_decide_with_the_message_as_one_title_even_if_it_reads_like_supersede() -> None:
    [errand] = run(decisions.shortcut_command("Supersede the 'old' plan: we decided on the new one."))
    assert isinstance(errand, decisions.RecordDecision)
    assert (errand.root, errand.supersedes, errand.by) == ("t1", None, "ana")
    assert errand.title is not None and errand.title.startswith("Supersede the 'old' plan")


def test_record_decision_on_a_message_without_text_lets_the_thread_name_it() -> None:
    [errand] = run(decisions.shortcut_command("   "))
    assert isinstance(errand, decisions.RecordDecision) and errand.title is None


def test_make_an_idea_runs_idea_with_the_messages_words_even_if_it_starts_with_status() -> None:
    text = 'status: book rooms through\na "shared" calendar'
    [errand] = run(ideas.shortcut_command(text), thread=None)
    assert isinstance(errand, ideas.ProposeIdea) and errand.text == 'status: book rooms through a "shared" calendar'


def test_make_an_idea_keeps_at_most_the_ideas_length() -> None:
    [errand] = run(ideas.shortcut_command("word " * 400), thread=None)
    assert isinstance(errand, ideas.ProposeIdea) and len(errand.text) <= ideas.MAX_TEXT
