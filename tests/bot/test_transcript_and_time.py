"""Transcript reading and working-time arithmetic."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import parse_duration
from bot.core.events import MessagePosted, ReactionAdded
from bot.core.markup import mentions
from bot.core.transcript import Problems, TranscriptError, read_events, read_meta
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
