"""Reading decisions and commitments never crashes: any chat text, in any time zone, at any moment, gives a
decision sentence or None, a commitment whose due time lies ahead or None, and an offline decision."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.core.lessons import ThreadMessage
from facilitation_rules.text.commitments import due_in, find_commitment
from facilitation_rules.text.decisions import decision_cue, distill_decision
from facilitation_rules.text.due import Calendar
from tests.properties.strategies import FUZZ, chat_text

# Phrases the readers look for, mixed into generated text so the deeper paths run too.
CUES = ["I'll send it by Friday", "bis morgen früh", "we decided", "dann machen wir das so", "by the 31st",
        "bis zum 29.2.", "in zwei Tagen", "3pm", "Ich kümmere mich bis", "nächsten Montag", "end of the month",
        "2026-13-45", "99.99.", "31/31", "?", ",", " ", "\n> quoted"]
texts = st.lists(st.one_of(chat_text, st.sampled_from(CUES)), min_size=1, max_size=6).map(" ".join)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC))
zones = st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"])


@FUZZ
@given(texts, moments, zones)
def test_any_text_gives_a_commitment_due_ahead_or_none(text: str, now: datetime, zone: str) -> None:
    calendar = Calendar(zone)
    found = find_commitment(text, now, calendar)
    if found is not None:
        assert found.due > now and found.text and found.language in ("en", "de")
    due = due_in(text, now, calendar)
    assert due is None or due.at > now


@FUZZ
@given(st.lists(texts, min_size=1, max_size=5))
def test_any_thread_gives_a_decision_cue_or_none_and_an_offline_decision(said: list[str]) -> None:
    for text in said:
        cue = decision_cue(text)
        assert cue is None or cue.strip()
    thread = [ThreadMessage(id=str(n), author=f"U{n % 3}", text=text, position=n) for n, text in enumerate(said)]
    draft = distill_decision(thread, title=None, recorded_by="U9")
    assert len(draft.title) <= 80 and set(draft.participants) <= {"U0", "U1", "U2"}
    assert len(draft.option_authors) == len(draft.options) and len(draft.reason_authors) == len(draft.reasons)
