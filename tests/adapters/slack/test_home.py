"""The App Home tab stays within Slack's limits without cutting an entity or a mention in half."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from adapters.slack.home import home_view
from adapters.slack.render import SECTION_CHARS
from bot.state import CommunityState, QuestionState

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WS = "slack:T1"
HALF_AN_ENTITY = re.compile(r"&(?!(?:amp|lt|gt);)")


def test_a_long_list_is_clipped_whole_entities_and_mentions_kept() -> None:
    state = CommunityState()
    for n in range(10):
        # Escaped, every "&" is five characters: ten such questions are far beyond a section's 3,000, and cut
        # at 3,000 characters the last "&amp;" would lose its end.
        text = f"Q{n} R&D <tools> " + "&" * 150
        question = QuestionState(workspace_id=WS, id=f"q{n}", channel_id=f"C{n}", asker_id="U1", asked_at=NOW,
                                 text=text)
        state.questions[(WS, question.id)] = question
        state.touch_question(question)
    blocks = home_view(state, WS, "U1", now=NOW)["blocks"]
    [mine] = [b["text"]["text"] for b in blocks if b["type"] == "section"][:1]
    assert len(mine) <= SECTION_CHARS and mine.endswith("…")
    assert not HALF_AN_ENTITY.search(mine), "no '&' without the rest of its entity"
    assert mine.count("<") == mine.count(">"), "no mention cut open"
    assert "&amp;" in mine and "&lt;tools&gt;" in mine and "<#C0>" in mine


def test_a_short_list_is_left_as_it_is() -> None:
    state = CommunityState()
    question = QuestionState(workspace_id=WS, id="q1", channel_id="C1", asker_id="U1", asked_at=NOW,
                             text="Where is the R&D roadmap?")
    state.questions[(WS, "q1")] = question
    state.touch_question(question)
    [mine] = [b["text"]["text"] for b in home_view(state, WS, "U1", now=NOW)["blocks"] if b["type"] == "section"][:1]
    assert mine == "• <#C1> Where is the R&amp;D roadmap?"
