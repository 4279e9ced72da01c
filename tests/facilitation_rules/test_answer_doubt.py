"""Precision first: when a flat-channel question may have been answered unseen, Steward asks the asker, not experts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.actions import PostMessage, SendDirectMessage
from bot.core.events import InteractionClicked
from bot.settings import Settings
from facilitation_rules.text import doubt
from facilitation_rules.text.answers import ChatLine, ConversationTracker
from facilitation_rules.text.doubt import MODEL_PATH, AnswerDoubt, doubt_weights
from tests.facilitation_rules.test_facilitation_scenarios import Recorder, expert_history, say, wait_until
from tests.support import WS, at, community, message

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def line(mid: str, user: str, text: str, minutes: float) -> ChatLine:
    return ChatLine(id=mid, channel="help", user=user, text=text, at=T0 + timedelta(minutes=minutes))


def tracked(*lines: tuple[ChatLine, bool]) -> ConversationTracker:
    tracker = ConversationTracker()
    for chat, asks in lines:
        tracker.read(chat, is_question=asks)
    return tracker


def test_silence_after_a_question_leaves_no_doubt_that_it_is_unanswered() -> None:
    tracker = tracked((line("q", "nina", "How long do SAP access requests take?", 0), True))
    evidence = tracker.doubts.evidence("q")
    assert evidence is not None and not evidence.answered
    assert tracker.doubts.unanswered_confidence("q") > 0.9


def test_an_asker_who_talks_on_and_thanks_was_probably_answered_unseen() -> None:
    """The tracker linked nothing (lines it gave to another question), yet the asker talks on and thanks."""
    doubts = AnswerDoubt()
    common = {"channel": "help", "flat": True, "answered": frozenset()}
    doubts.observe(line_id="q", speaker="nina", text="How long do SAP access requests take?", at=T0,
                   addressees=frozenset(), is_question=True, **common)
    doubts.observe(line_id="a", speaker="omar", text="two days or so", at=T0 + timedelta(minutes=1),
                   addressees=frozenset(), is_question=False, **{**common, "answered": frozenset({"other"})})
    doubts.observe(line_id="b", speaker="nina", text="ok, and my manager approves?", at=T0 + timedelta(minutes=2),
                   addressees=frozenset({"omar"}), is_question=False, **common)
    doubts.observe(line_id="c", speaker="nina", text="great, thanks a lot", at=T0 + timedelta(minutes=3),
                   addressees=frozenset(), is_question=False, **common)
    evidence = doubts.evidence("q")
    assert evidence is not None and not evidence.answered
    assert (evidence.claimed_elsewhere, evidence.asker_more, evidence.asker_turns) == (1, 2, 1)
    assert evidence.asker_thanks
    silent = AnswerDoubt()
    silent.observe(line_id="q", speaker="nina", text="How long do SAP access requests take?", at=T0,
                   addressees=frozenset(), is_question=True, **common)
    default = Settings.model_fields["flag_confidence"].default
    assert doubts.unanswered_confidence("q") < default < silent.unanswered_confidence("q")
    doubts.observe(line_id="d", speaker="omar", text="yes", at=T0 + timedelta(minutes=4), addressees=frozenset(),
                   is_question=False, **{**common, "answered": frozenset({"q"})})
    assert doubts.unanswered_confidence("q") == 1.0, "answered after all: no doubt left to weigh"


def test_lines_in_threads_and_long_after_the_question_are_no_evidence() -> None:
    doubts = AnswerDoubt()
    common = {"channel": "help", "flat": True, "addressees": frozenset(), "answered": frozenset()}
    doubts.observe(line_id="q", speaker="nina", text="Where is the travel policy?", at=T0, is_question=True, **common)
    doubts.observe(line_id="t", speaker="omar", text="in the wiki", at=T0 + timedelta(minutes=1), is_question=False,
                   **{**common, "flat": False})
    doubts.observe(line_id="l", speaker="omar", text="lunch?", at=T0 + timedelta(hours=2), is_question=False, **common)
    evidence = doubts.evidence("q")
    assert evidence is not None and (evidence.others_near, evidence.others_far) == (0, 0)


def test_the_shipped_model_names_its_features_and_its_corpus() -> None:
    body = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert "CC BY 4.0" in body["trained_on"]
    from facilitation_rules.text.doubt import Evidence

    assert set(doubt_weights()) == set(Evidence("c", "a", T0, 0).features())


async def test_in_doubt_the_asker_is_asked_and_only_their_still_open_brings_in_the_experts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doubt, "doubt_weights", lambda: {"bias": -2.0})  # the model doubts every flat question
    engine = await community(settings, at("2026-03-02 07:00"))
    seen = Recorder(engine)
    await expert_history(engine, "marc", "How do I get SAP access for the test system?",
                         "Request the SAP role through the access portal.", "2026-03-02")
    ask = at("2026-03-03 08:30")
    await say(engine, message("nina", "Anyone know how long SAP access requests take?", ask, message_id="q"))
    await wait_until(engine, at("2026-03-03 16:00"))
    question = engine.state.question(WS, "q")
    assert question is not None and question.status == "asked", "not flagged"
    assert question.checked_at is not None and question.unanswered_confidence is not None
    assert question.unanswered_confidence < settings.flag_confidence
    checks = [p for p in seen.of(PostMessage) if p.key == "check:q"]  # type: ignore[attr-defined]
    assert len(checks) == 1 and "<@nina>" in checks[0].text  # type: ignore[attr-defined]
    assert [b.action for b in checks[0].buttons] == ["solved", "still_open"]  # type: ignore[attr-defined]
    assert not [d for d in seen.of(SendDirectMessage) if d.key.startswith("nudge:")], "no expert was asked"  # type: ignore[attr-defined]

    click = at("2026-03-04 08:00")
    await say(engine, InteractionClicked(workspace=WS, at=click, channel="help", user="omar", action="still_open",
                                         value="q"))
    assert engine.state.question(WS, "q").flagged_at is None, "only the asker knows"  # type: ignore[union-attr]
    await say(engine, InteractionClicked(workspace=WS, at=click + timedelta(minutes=1), channel="help", user="nina",
                                         action="still_open", value="q"))
    await wait_until(engine, at("2026-03-04 09:00"))
    question = engine.state.question(WS, "q")
    assert question is not None and question.flagged_at is not None
    nudges = [d for d in seen.of(SendDirectMessage) if d.key.startswith("nudge:")]  # type: ignore[attr-defined]
    assert [d.user for d in nudges] == ["marc"]  # type: ignore[attr-defined]
    await engine.db.dispose()


async def test_with_confidence_required_off_an_unsure_question_is_flagged_as_before(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doubt, "doubt_weights", lambda: {"bias": -2.0})
    engine = await community(settings.model_copy(update={"flag_confidence": 0.0}), at("2026-03-02 07:00"))
    seen = Recorder(engine)
    ask = at("2026-03-03 08:30")
    await say(engine, message("nina", "Anyone know how long SAP access requests take?", ask, message_id="q"))
    await wait_until(engine, at("2026-03-03 16:00"))
    question = engine.state.question(WS, "q")
    assert question is not None and question.flagged_at is not None and question.checked_at is None
    assert not [p for p in seen.of(PostMessage) if p.key == "check:q"]  # type: ignore[attr-defined]
    await engine.db.dispose()


def test_a_reply_to_the_asker_answers_the_questions_of_their_burst_not_older_ones() -> None:
    tracker = tracked(
        (line("old", "nina", "Does anyone know where the travel policy lives?", 0), True),
        *((line(f"x{i}", ("paul", "lea")[i % 2], f"{('lea', 'paul')[i % 2]}: build {i} is green", 0.5 + i * 0.1),
           False) for i in range(35)),
        (line("q1", "nina", "How long do SAP access requests take?", 5), True),
        (line("q2", "nina", "Is it faster with a manager's approval?", 5.5), True),
        (line("a", "omar", "nina: about two days, the approval does not speed it up", 7), False),
    )
    answered = {qid for qid in ("old", "q1", "q2") if (e := tracker.doubts.evidence(qid)) and e.answered}
    assert {"q1", "q2"} <= answered, "one reply to the asker answers both questions of the burst"
    assert "old" not in answered, "a question from 35 lines before is another request"


def test_a_reply_to_a_question_put_to_the_speaker_answers_that_question_only() -> None:
    """The asker asked the room, then asked one member something: that member's reply answers what they were
    asked, not the asker's earlier question to the room."""
    tracker = tracked(
        (line("room", "nina", "Is there a template for the stakeholder map?", 0), True),
        (line("p1", "omar", "My laptop screen goes black every few minutes, any idea?", 0.5), True),
        (line("ask", "nina", "omar: does it come back when you press a key?", 1), True),
        (line("a", "omar", "nina: no, it stays black", 1.5), False),
    )
    ask, room = tracker.doubts.evidence("ask"), tracker.doubts.evidence("room")
    assert ask is not None and ask.answered, "omar answered what nina asked him"
    assert room is not None and not room.answered, "the stakeholder-map question is still open"

