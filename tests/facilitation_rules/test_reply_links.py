"""The reply-link model: its file, its features and its decisions on small made-up conversations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from facilitation_rules.text.answers import ChatLine
from facilitation_rules.text.linked_tracker import LinkedConversationTracker
from facilitation_rules.text.reply_links import (
    MODEL_PATH,
    ReplyLinkModel,
    Said,
    Surroundings,
    features,
    reply_link_model,
)

START = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def _said(n: int, user: str, **kw: object) -> Said:
    return Said(id=f"m{n}", user=user, at=START + timedelta(seconds=30 * n), addressees=frozenset(),
                conv=f"m{n}", n=n, **kw)  # type: ignore[arg-type]


def test_the_shipped_model_is_small_names_its_source_and_loads() -> None:
    body = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert MODEL_PATH.stat().st_size < 2_000_000
    assert "CC BY 4.0" in body["trained_on"]
    model = reply_link_model()
    assert model.weights["new"] != 0.0 and len(model.weights) > 50


def test_a_weights_file_named_in_the_environment_replaces_the_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"weights": {"new": 5.0}}), encoding="utf-8")
    monkeypatch.setenv("STEWARD_REPLY_MODEL", str(path))
    reply_link_model.cache_clear()
    try:
        assert reply_link_model().weights == {"new": 5.0}
    finally:
        reply_link_model.cache_clear()


def test_features_say_who_addresses_whom_and_how_far_back() -> None:
    question = _said(1, "ana", question=True, terms=frozenset({"export", "board"}))
    aside = _said(2, "ben")
    answer = Said(id="m3", user="cem", at=START + timedelta(seconds=90), addressees=frozenset({"ana"}),
                  conv="m3", n=3, terms=frozenset({"export"}))
    around = Surroundings({"ana": question, "ben": aside}, askers={"m1": "ana"}, pace=30.0)
    own, candidates = features(answer, [aside, question], around)
    assert {"new", "new:addresses", "new:since_mine_long"} <= set(own)  # not having spoken counts as long ago
    by_id = {said.id: found for said, found in candidates}
    assert {"addr", "addr:question", "q", "shared1", "conv:addressee", "d2", "t2"} <= set(by_id["m1"])
    assert {"addr_other", "d1", "t1"} <= set(by_id["m2"])  # time counts in the channel's pace: 30 s here


def test_the_most_probable_conversation_wins_and_its_probability_is_the_confidence() -> None:
    model = ReplyLinkModel({"new": 0.0, "addr": 3.0, "d1": 1.0})
    line = Said(id="m3", user="cem", at=START, addressees=frozenset({"ana"}), conv="m3", n=3)
    first, second = _said(1, "ana"), _said(2, "ben")
    link = model.choose(line, ["new"], [(second, ["d1"]), (first, ["addr"])])
    assert link.parent is first and link.conv == "m1"
    assert link.confidence == pytest.approx(20.0855 / (1 + 2.71828 + 20.0855), rel=1e-3)
    alone = model.choose(line, ["new"], [])
    assert alone.parent is None and alone.conv == "m3" and alone.confidence == 1.0


class _Chat:
    def __init__(self) -> None:
        self.tracker = LinkedConversationTracker()
        self.clock = START
        self.count = 0

    def say(self, user: str, text: str, *, after: float = 20.0, question: bool = False) -> tuple[str, str | None]:
        self.clock += timedelta(seconds=after)
        self.count += 1
        line = ChatLine(id=f"m{self.count}", channel="help", user=user, text=text, at=self.clock)
        response = self.tracker.observe(line, is_question=question)
        return line.id, response.question_id if response else None


def test_the_learned_tracker_follows_two_interleaved_conversations() -> None:
    chat = _Chat()
    q1, _ = chat.say("alice", "How do I export the kanban board as a PDF?", question=True)
    q2, _ = chat.say("bob", "Does anyone know why my calendar invites arrive twice?", question=True)
    _, first = chat.say("carol", "alice: use the print view of the board, then save it as PDF")
    _, second = chat.say("dave", "bob: your calendar is probably connected twice, check the integrations")
    _, own = chat.say("alice", "carol: thanks, found it")
    assert (first, second) == (q1, q2)
    assert own is None  # the asker's own line never responds to their question


def test_the_learned_tracker_leaves_unrelated_talk_alone() -> None:
    chat = _Chat()
    chat.say("alice", "Where do we keep the onboarding checklist?", question=True)
    _, later = chat.say("erik", "hello everyone, good morning", after=1800)
    assert later is None


def test_silent_channels_are_forgotten_with_their_lines_and_questions() -> None:
    tracker = LinkedConversationTracker(window=timedelta(hours=1))
    quiet = ChatLine(id="q1", channel="quiet", user="ana", text="Who runs the Jira training?", at=START)
    tracker.observe(quiet, is_question=True)
    later = START + timedelta(hours=2)
    for n in range(1000):
        line = ChatLine(id=f"b{n}", channel="busy", user=f"u{n % 7}", text="status update", at=later)
        tracker.observe(line, is_question=False)
    assert tracker.repeats("q1") is None and "q1" not in tracker._said
    answer = ChatLine(id="a1", channel="quiet", user="ben", text="ana: the learning team", at=later)
    assert tracker.observe(answer, is_question=False) is None  # the question went with its channel
