"""`steward replay`: the report format, broken lines, and clear errors for unusable input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()

LINES = [
    {
        "kind": "meta",
        "ts": "2026-03-02T08:00:00+00:00",
        "platform": "slack",
        "workspace": "acme",
        "timezone": "Europe/Berlin",
    },
    {
        "kind": "message",
        "ts": "2026-03-02T09:00:00+00:00",
        "id": "m1",
        "channel": "help",
        "user": "anna",
        "text": "How do I get access to the SAP test system?",
    },
    {
        "kind": "message",
        "ts": "2026-03-02T09:05:00+00:00",
        "id": "m2",
        "channel": "help",
        "user": "marc",
        "text": "Open a ticket with the access template, it takes a day.",
        "thread": "m1",
    },
    {
        "kind": "reaction",
        "ts": "2026-03-02T09:10:00+00:00",
        "message": "m1",
        "user": "anna",
        "emoji": "white_check_mark",
    },
    {
        "kind": "message",
        "ts": "2026-03-02T09:30:00+00:00",
        "id": "m3",
        "channel": "help",
        "user": "tom",
        "text": "Does anyone know where the Teams training recordings are?",
    },
    {
        "kind": "message",
        "ts": "2026-03-03T15:00:00+00:00",
        "id": "m4",
        "channel": "general",
        "user": "anna",
        "text": "Good afternoon everyone!",
    },
]


def write(path: Path, lines: list[object]) -> Path:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_replay_writes_the_report_in_the_transcript_format(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["replay", str(write(tmp_path / "t.jsonl", LINES)), "--report", str(report), "-q"])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert set(data) == {"questions", "actions", "lessons", "decision_offers", "decisions", "commitments", "ideas",
                         "metrics"}
    by_id = {q["id"]: q for q in data["questions"]}
    assert set(by_id) == {"m1", "m3"}
    assert by_id["m1"] | {"suggested_experts": [], "nudged_experts": []} == {
        "id": "m1",
        "channel": "help",
        "asker": "anna",
        "asked_at": "2026-03-02T09:00:00+00:00",
        "answered": True,
        "first_response_id": "m2",
        "first_response_at": "2026-03-02T09:05:00+00:00",
        "resolved": True,
        "flagged_at": None,
        "unanswered_confidence": None,
        "checked_with_asker_at": None,
        "suggested_experts": [],
        "nudged_experts": [],
    }
    # m3 waits 4 working hours (10:30-14:30 Berlin) and is flagged in its thread at that simulated moment, sure
    # that nobody answered: nothing was said after it.
    assert by_id["m3"]["answered"] is False
    assert by_id["m3"]["flagged_at"] == "2026-03-02T13:30:00+00:00"
    assert by_id["m3"]["unanswered_confidence"] > 0.9 and by_id["m3"]["checked_with_asker_at"] is None
    flag = next(a for a in data["actions"] if a["type"] == "post_message" and a.get("thread") == "m3")
    assert flag["at"] == "2026-03-02T13:30:00+00:00" and "<@tom>" in flag["text"]
    assert data["metrics"]["questions"] == 2 and data["metrics"]["median_time_to_first_response_s"] == 300


def test_broken_lines_are_reported_with_their_number_and_skipped(tmp_path: Path) -> None:
    broken = [
        LINES[0],
        LINES[1],
        "{not json",
        {"kind": "message", "ts": "2026-03-02T09:01:00+00:00", "id": "x"},
        {"kind": "message", "ts": "yesterday", "id": "y", "channel": "help", "user": "a", "text": "hi"},
        {"kind": "poll", "ts": "2026-03-02T09:02:00+00:00"},
        LINES[2],
    ]
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["replay", str(write(tmp_path / "t.jsonl", broken)), "--report", str(report), "-q"])
    assert result.exit_code == 0, result.output
    assert "t.jsonl:3: not valid JSON" in result.output
    assert "t.jsonl:4: message line lacks channel, user, text" in result.output
    assert "t.jsonl:5: message line is malformed" in result.output
    assert json.loads(report.read_text())["questions"][0]["first_response_id"] == "m2"


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "transcript not found" in result.output


def test_an_empty_transcript_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(write(tmp_path / "empty.jsonl", [LINES[0]]))])
    assert result.exit_code == 2
    assert "no usable lines" in result.output


def test_the_sample_community_replays_with_flags_nudges_and_resolutions(
    tmp_path: Path, sample_transcript: Path
) -> None:
    report = tmp_path / "sample.json"
    result = runner.invoke(app, ["replay", str(sample_transcript), "--report", str(report), "-q"])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    types = {a["type"] for a in data["actions"]}
    assert {"post_message", "send_dm"} <= types
    assert data["metrics"]["resolved"] >= 10 and data["metrics"]["flagged"] >= 4
