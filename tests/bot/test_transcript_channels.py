"""`channel` lines in transcripts: read in file order, and a line that cannot be read keeps its channel private."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.app.replay import replay
from bot.core.events import MessagePosted
from bot.core.transcript import ChannelLine, Problems, read_events, read_transcript
from bot.settings import Settings
from tests.properties.strategies import FUZZ, wrong_value

TS = "2026-03-02T08:00:00+00:00"


def transcript(tmp_path: Path, *lines: dict[str, Any] | str) -> Path:
    path = tmp_path / "t.jsonl"
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def said(mid: str, channel: str, user: str, text: str, ts: str = "2026-03-02T09:00:00+00:00") -> dict[str, Any]:
    return {"kind": "message", "ts": ts, "id": mid, "channel": channel, "user": user, "text": text}


def test_channel_lines_come_in_file_order_and_plain_event_readers_skip_them(tmp_path: Path) -> None:
    path = transcript(
        tmp_path,
        {"kind": "channel", "ts": TS, "id": "hr", "name": "HR talk", "private": True, "language": "DE"},
        said("m1", "hr", "u1", "Wer kennt sich mit Elternzeit aus?"),
        {"kind": "channel", "ts": TS, "id": "help", "private": False, "type": "forum"},
        {"kind": "channel", "ts": TS, "id": "D1", "type": "dm"},
        {"kind": "channel", "ts": TS, "id": 42},
    )
    problems = Problems()
    read = [item for _, item in read_transcript(path, "console:w", problems)]
    assert read[0] == ChannelLine(id="hr", name="HR talk", private=True, type="text", language="de")
    assert isinstance(read[1], MessagePosted)
    assert read[2:] == [
        ChannelLine(id="help", type="forum"),
        ChannelLine(id="D1", private=True, type="dm"),  # a direct message is private whatever the line says
        ChannelLine(id="42"),
    ]
    assert problems.skipped == [] and problems.warnings == []
    assert [type(e) for _, e in read_events(path, "console:w", Problems())] == [MessagePosted]


def test_a_malformed_channel_line_is_named_once_and_keeps_its_channel_private(tmp_path: Path) -> None:
    path = transcript(
        tmp_path,
        {"kind": "channel", "ts": TS, "id": "a", "private": "yes"},
        {"kind": "channel", "ts": TS, "id": "b", "type": "voice"},
        {"kind": "channel", "id": "c", "private": False},
        {"kind": "channel", "ts": "yesterday", "id": "d"},
        {"kind": "channel", "ts": TS, "id": "e", "name": ["x"]},
        {"kind": "channel", "ts": TS, "private": True},
        {"kind": "channel", "ts": TS, "id": {"nested": 1}},
        {"kind": "channel", "ts": TS, "id": "f", "topic": "lunch"},
    )
    problems = Problems()
    read = {number: item for number, item in read_transcript(path, "w", problems)}
    assert {n: (c.id, c.private) for n, c in read.items() if isinstance(c, ChannelLine)} == {
        1: ("a", True), 2: ("b", True), 3: ("c", True), 4: ("d", True), 5: ("e", True), 8: ("f", False)
    }
    assert problems.skipped == [
        "t.jsonl:1: channel line is malformed (private must be true or false); the channel is kept private",
        "t.jsonl:2: channel line is malformed (type must be one of text, forum, dm, group_dm); the channel is kept"
        " private",
        "t.jsonl:3: channel line is malformed (ts is missing); the channel is kept private",
        "t.jsonl:4: channel line is malformed (ts is not an ISO-8601 time); the channel is kept private",
        "t.jsonl:5: channel line is malformed (name must be a string); the channel is kept private",
        "t.jsonl:6: channel line lacks id; line skipped",
        "t.jsonl:7: channel line is malformed (id must be a string); line skipped",
    ]
    assert problems.warnings == ["t.jsonl:8: unknown 'topic' in a 'channel' line ignored"]


channel_fields = st.fixed_dictionaries(
    {"kind": st.just("channel"), "id": st.one_of(st.text(min_size=1, max_size=8), wrong_value)},
    optional={
        "ts": st.one_of(st.just(TS), wrong_value),
        "name": st.one_of(st.text(max_size=8), wrong_value),
        "private": st.one_of(st.booleans(), wrong_value),
        "type": st.one_of(st.sampled_from(["text", "forum", "dm", "group_dm", "voice"]), wrong_value),
        "language": st.one_of(st.sampled_from(["en", "de"]), wrong_value),
    },
)


@FUZZ
@given(line=channel_fields)
def test_a_channel_is_public_only_when_its_line_says_so_plainly(line: dict[str, Any]) -> None:
    """Whatever a channel line holds: reading never fails, and a channel it names comes out public only when the
    line is well formed and says (or leaves) `private` false for a text channel or a forum."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        problems = Problems()
        read = list(read_transcript(transcript(Path(folder), line), "w", problems))
    assert len(read) + len(problems.skipped) >= 1
    for _, item in read:
        assert isinstance(item, ChannelLine)
        if not item.private:
            assert line.get("ts") == TS and line.get("private", False) is False
            assert line.get("type", "text") in ("text", "forum") and not problems.skipped


async def test_replay_keeps_a_private_channels_question_out_of_the_escalation(tmp_path: Path) -> None:
    """The facilitators hear that someone waits in #hr, not what they asked; a broken channel line errs the same
    way; a public channel's question is quoted."""
    asked = "2026-03-02T09:00:00+00:00"  # a Monday: flag and escalation fall due the same working day
    path = transcript(
        tmp_path,
        {"kind": "meta", "ts": asked, "platform": "slack", "workspace": "acme", "timezone": "UTC"},
        {"kind": "channel", "ts": asked, "id": "hr", "private": True},
        {"kind": "channel", "ts": asked, "id": "legal", "private": "sure"},
        said("m1", "hr", "ann", "How do I request parental leave PRIVATE-HR?", asked),
        said("m2", "legal", "bob", "Who signs the works council agreement PRIVATE-LEGAL?", asked),
        said("m3", "help", "cid", "How do I reset my SharePoint password?", asked),
        said("m4", "general", "dan", "Good night, everyone", "2026-03-03T20:00:00+00:00"),
    )
    result = await replay(path, Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}"))
    escalations = [a["text"] for a in result.report["actions"] if a.get("channel") == "facilitators"]
    assert len(escalations) == 3
    assert not any("PRIVATE" in text for text in escalations)
    assert any("reset my SharePoint password" in text for text in escalations)
    assert len(result.problems.skipped) == 1 and "kept private" in result.problems.skipped[0]
