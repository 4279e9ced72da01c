"""The lesson card: the problem first, then what worked, the steps in order and the tips under their headings,
in the workspace's language and on every surface (plain text, Slack blocks, a Discord embed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from adapters.discord.render import embed
from adapters.slack.render import card_blocks
from bot.core.actions import Card
from bot.rules import RuleContext
from bot.settings import Settings
from bot.state import CommunityState
from facilitation_rules.lessons import lesson_card

WS = "console:card"


@dataclass(frozen=True)
class StoredLesson:
    """A lesson as the rule reads it (storage.lesson_model.Lesson has the same fields)."""

    id: int | None = 7
    source_message_id: str = "m0"
    channel_id: str = "change-help"
    title: str = "Works council minutes in Teams"
    summary: str = "The works council channel shows no Files tab since the move to Teams."
    solution: str = "Read access to the old SharePoint site was missing."
    steps: list[str] = field(default_factory=lambda: ["Step 1: ask IT for read access.", "Step 2: add the tab."])
    tips: list[str] = field(default_factory=lambda: ["Tip: pin the minutes folder in the channel."])
    tags: list[str] = field(default_factory=lambda: ["teams", "sharepoint"])
    permalink: str = "https://chat.example/m0"
    contributors: list[str] = field(default_factory=lambda: ["U1", "U2"])


def card_in(language: str, lesson: StoredLesson | None = None) -> Card:
    state = CommunityState()
    state.workspace(WS).language = language
    settings = Settings(_env_file=None, database_url="sqlite://")  # type: ignore[call-arg]
    ctx = RuleContext(now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC), settings=settings, state=state)
    return lesson_card(lesson or StoredLesson(), ctx, WS)


@pytest.mark.parametrize(
    ("language", "worked", "steps", "tips"),
    [("en", "What worked", "Steps", "Tips"), ("de", "Was geholfen hat", "Schritte", "Tipps")],
)
def test_the_card_shows_each_section_under_its_heading(language: str, worked: str, steps: str, tips: str) -> None:
    card = card_in(language)
    assert card.sections == (
        "The works council channel shows no Files tab since the move to Teams.",
        f"*{worked}*\nRead access to the old SharePoint site was missing.",
        f"*{steps}*\n• Step 1: ask IT for read access.\n• Step 2: add the tab.",
        f"*{tips}*\n• Tip: pin the minutes folder in the channel.",
    )
    text = card.as_text()
    assert text.index(steps) < text.index("Step 1") < text.index("Step 2") < text.index(tips) < text.index("Tip:")


def test_empty_sections_leave_no_heading() -> None:
    card = card_in("en", StoredLesson(solution="", steps=[], tips=[]))
    assert card.sections == ("The works council channel shows no Files tab since the move to Teams.",)


def test_slack_and_discord_show_the_headings_bold() -> None:
    card = card_in("de")
    sections = [b["text"]["text"] for b in card_blocks(card) if b["type"] == "section" and "text" in b]
    assert "*Schritte*\n• Step 1: ask IT for read access.\n• Step 2: add the tab." in sections
    description = embed(card).description or ""
    assert "**Schritte**\n• Step 1" in description and "**Tipps**\n• Tip:" in description
