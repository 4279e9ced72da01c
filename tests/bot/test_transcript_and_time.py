"""Transcript reading and working-time arithmetic."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app.replay import replay
from bot.core.clock import parse_duration
from bot.core.events import CommandInvoked, InteractionClicked, MemberJoined, MessagePosted, ReactionAdded
from bot.core.markup import mentions
from bot.core.transcript import Problems, TranscriptError, read_events, read_meta
from bot.settings import Settings
from facilitation_rules.working_time import WorkingHours, in_quiet_hours
from tests.support import at


def test_unknown_fields_and_kinds_warn_once_and_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"kind":"meta","ts":"2026-03-02T08:00:00+00:00","platform":"discord","workspace":"w","language":"de"}\n'
        '{"kind":"message","ts":"2026-03-02T09:00:00Z","id":"m1","channel":"c","user":"u","text":"hi <@u2>","x":1}\n'
        '{"kind":"message","ts":"2026-03-02T09:01:00Z","id":"m2","channel":"c","user":"u","text":"yo","x":2}\n'
        '{"kind":"typing","ts":"2026-03-02T09:02:00Z"}\n'
        '{"kind":"reaction","ts":"2026-03-02T09:03:00Z","message":"m1","user":"u2","emoji":"bulb"}\n'
    )
    problems = Problems()
    events = [event for _, event in read_events(path, "discord:w", problems)]
    assert [type(e) for e in events] == [MessagePosted, MessagePosted, ReactionAdded]
    assert events[0].mentions == ("u2",)  # type: ignore[union-attr]
    assert len(problems.warnings) == 2 and problems.skipped == []
    assert read_meta(path).language == "de"


def test_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="directory"):
        list(read_events(tmp_path, "w", Problems()))


def test_mentions_in_slack_and_discord_forms() -> None:
    assert mentions("<@U01ANNA> and <@!1234> and <@U01ANNA|anna>") == ("U01ANNA", "1234")


def test_durations() -> None:
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("2d") == timedelta(days=2)
    for bad in ("", "soon", "5x", "h"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_working_hours_skip_evenings_and_weekends_in_the_local_time_zone() -> None:
    hours = WorkingHours(timezone="Europe/Berlin")
    # Friday 16:30 Berlin + 4 working hours = Monday 12:30 Berlin (11:30 UTC).
    assert hours.add(at("2026-03-06 15:30"), 4) == at("2026-03-09 11:30")
    # Saturday counts from Monday 09:00.
    assert hours.add(at("2026-03-07 10:00"), 1) == at("2026-03-09 09:00")
    assert hours.is_working(at("2026-03-09 09:00")) and not hours.is_working(at("2026-03-08 10:00"))


def test_working_hours_across_the_spring_daylight_saving_change() -> None:
    hours = WorkingHours(timezone="Europe/Berlin")
    # Friday 27 March 2026 16:00 CET (15:00 UTC) + 2h: one hour Friday, one Monday 30 March 09:00-10:00 CEST.
    assert hours.add(at("2026-03-27 15:00"), 2) == at("2026-03-30 08:00")


def test_quiet_hours_wrap_midnight_in_the_members_zone() -> None:
    assert in_quiet_hours(at("2026-03-02 22:00"), "Europe/Berlin", 20, 8)
    assert not in_quiet_hours(at("2026-03-02 10:00"), "Europe/Berlin", 20, 8)
    assert in_quiet_hours(at("2026-03-02 10:00"), "America/Los_Angeles", 20, 8)  # 02:00 there


def test_a_compressed_transcript_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "community.transcript.jsonl.gz"
    line = {"kind": "message", "ts": "2024-05-06T09:00:00+00:00", "id": "m1", "channel": "help",
            "user": "ana", "text": "Where is the rollout plan?"}
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
    events = [event for _, event in read_events(path, "w", Problems())]
    assert len(events) == 1 and isinstance(events[0], MessagePosted) and events[0].text == line["text"]


def test_commands_clicks_and_named_joins_are_read_as_the_console_sends_them(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [
        {"kind": "join", "ts": "2026-03-02T09:00:00+01:00", "channel": "help", "user": "U2", "user_name": "Ben"},
        {"kind": "command", "ts": "2026-03-02T09:05:00+01:00", "channel": "help", "user": "U1",
         "text": "/steward thanks <@U2> for the steps", "thread": "m1"},
        {"kind": "command", "ts": "2026-03-02T09:06:00+01:00", "channel": "help", "user": "U1", "text": "decide"},
        {"kind": "click", "ts": "2026-03-02T09:07:00+01:00", "channel": "help", "user": "U2",
         "action": "decision_agree", "message": "m1"},
        {"kind": "click", "ts": "2026-03-02T09:08:00+01:00", "channel": "help", "user": "U2", "action": "solved"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    problems = Problems()
    events = [event for _, event in read_events(path, "w", problems)]
    assert events == [
        MemberJoined(workspace="w", at=at("2026-03-02 08:00"), channel="help", user="U2", user_name="Ben"),
        CommandInvoked(workspace="w", at=at("2026-03-02 08:05"), channel="help", user="U1",
                       args="thanks <@U2> for the steps", thread="m1"),
        CommandInvoked(workspace="w", at=at("2026-03-02 08:06"), channel="help", user="U1", args="decide"),
        InteractionClicked(workspace="w", at=at("2026-03-02 08:07"), channel="help", user="U2",
                           action="decision_agree", value="m1"),
    ]
    assert problems.warnings == [] and len(problems.skipped) == 1 and "click line lacks message" in problems.skipped[0]


def test_the_meta_lines_until_says_when_the_history_ends(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    meta = {"kind": "meta", "ts": "2026-03-02T08:00:00+01:00", "until": "2026-03-16T09:00:00+01:00"}
    path.write_text(json.dumps(meta) + "\n")
    assert read_meta(path).until == at("2026-03-16 08:00")
    for odd in ("next Monday", 1700000000, ["2026-03-16"]):
        path.write_text(json.dumps({**meta, "until": odd}) + "\n")
        assert read_meta(path).until is None


def test_a_replay_runs_on_to_until_and_does_what_falls_due_by_then(tmp_path: Path) -> None:
    """The question is the last line; 4 working hours later, before `until`, nobody has answered: it is flagged."""
    path = tmp_path / "t.jsonl"
    lines = [
        {"kind": "meta", "ts": "2026-03-02T08:00:00+01:00", "timezone": "Europe/Berlin",
         "until": "2026-03-02T16:00:00+01:00"},
        {"kind": "message", "ts": "2026-03-02T09:30:00+01:00", "id": "m1", "channel": "help", "user": "ana",
         "text": "Does anyone know where the rollout plan for the Teams migration is kept?"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/s.db")  # type: ignore[call-arg]
    report = asyncio.run(replay(path, settings)).report
    [question] = report["questions"]
    assert question["flagged_at"] == at("2026-03-02 12:30").isoformat()
    without = tmp_path / "without.jsonl"
    without.write_text("".join(json.dumps({k: v for k, v in line.items() if k != "until"}) + "\n" for line in lines))
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/w.db")  # type: ignore[call-arg]
    assert asyncio.run(replay(without, settings)).report["questions"][0]["flagged_at"] is None
