"""Private channels survive the way through a transcript: Slack export -> transcript -> replay -> audit.

The export holds a private channel (an unanswered question, a lesson-worthy thread, a member whose expertise shows
only there), a direct message and a group DM. Every private line carries a marker; none may reach a public post,
the facilitators' escalation, the lessons export or the audit. A control replays the same transcript without its
`channel` lines (what a transcript meant before they were read) and shows that each check would catch a leak.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.discord.export import DiscordExport
from adapters.slack.export import SlackExport
from bot.app.audit import collect, render_html, render_markdown
from bot.app.importer import import_export, write_transcript
from bot.app.replay import replay
from bot.cli import app
from bot.i18n import translate
from bot.settings import Settings

SLACK_DIR = Path(__file__).parent / "data" / "exports" / "slack"
MARK = "PRIVMARK"
PIA = "U01PIA"  # writes only in the private channel: no contributor, no expert for public questions
SECRET = "G02SKUNK"
FACILITATORS = Settings().facilitators_channel


def ts(day: int, hour: int, minute: int = 0, month: int = 3) -> str:
    return f"{datetime(2024, month, day, hour, minute, tzinfo=UTC).timestamp():.0f}.000100"


def said(user: str, text: str, at: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": at, **extra}


def bulbs(*users: str) -> list[dict[str, Any]]:
    return [{"name": "bulb", "users": list(users), "count": len(users)}]


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """The test export plus a private channel, a DM and a group DM, each line of them marked."""
    root = tmp_path / "export"
    shutil.copytree(SLACK_DIR, root)
    users = json.loads((root / "users.json").read_text(encoding="utf-8"))
    users.append({"id": PIA, "team_id": "T0TEST", "name": "pia", "real_name": "Pia Storm", "tz": "Europe/Berlin",
                  "profile": {"display_name": "Pia", "real_name": "Pia Storm", "team": "T0TEST"}})
    write(root / "users.json", users)
    groups = json.loads((root / "groups.json").read_text(encoding="utf-8"))
    groups.append({"id": SECRET, "name": "skunkworks", "created": 1700000000,
                   "members": ["U01ANA", "U01BEN", "U01CLEO", PIA]})
    write(root / "groups.json", groups)
    lesson, ask, waits = ts(5, 9), ts(5, 10), ts(5, 12)
    write(root / "skunkworks" / "2024-03-05.json", [
        said("U01CLEO", f"{MARK}-L1 How do we set retention labels on the Tresor vault library?", lesson,
             thread_ts=lesson, latest_reply=ts(5, 9, 30), reactions=bulbs("U01ANA", "U01BEN", "U01CLEO")),
        said(PIA, f"{MARK}-L2 Publish the Tresor retention label policy first, then apply the labels in the vault "
                  "library settings.", ts(5, 9, 10), thread_ts=lesson),
        said("U01BEN", f"{MARK}-L3 The Tresor labels need a day to show up in the vault library.", ts(5, 9, 20),
             thread_ts=lesson),
        said("U01CLEO", f"{MARK}-L4 Thanks Pia, the retention labels work now!", ts(5, 9, 30), thread_ts=lesson),
        said("U01ANA", f"{MARK}-Q2 Who approves a retention label exception for the Tresor vault?", ask,
             thread_ts=ask, latest_reply=ts(5, 10, 15)),
        said(PIA, f"{MARK}-A2 The records team approves Tresor vault retention label exceptions.", ts(5, 10, 15),
             thread_ts=ask),
        said("U01BEN", f"{MARK}-Q3 When does the freeze of the Tresor vault migration start?", waits),
    ])
    write(root / "dms.json", [
        *json.loads((root / "dms.json").read_text(encoding="utf-8")),
        {"id": "D02CLEOPIA", "created": 1700000000, "members": ["U01CLEO", PIA]},
    ])
    write(root / "D02CLEOPIA" / "2024-03-05.json", [
        said("U01CLEO", f"{MARK}-DM Could you check the Tresor vault retention labels for me?", ts(5, 11)),
    ])
    write(root / "mpims.json", [{"id": "G03MPIM", "name": "mpdm-ana--ben--cleo-1", "created": 1700000000,
                                 "members": ["U01ANA", "U01BEN", "U01CLEO"]}])
    write(root / "mpdm-ana--ben--cleo-1" / "2024-03-05.json", [
        said("U01ANA", f"{MARK}-GDM How do I export the Tresor vault audit log?", ts(5, 11, 30)),
    ])
    # A public question on the private expert's topic that nobody answers, and a later line so the replay's clock
    # runs past every flag and escalation.
    write(root / "help" / "2024-03-07.json", [
        said("U01DEV", "How do I set retention labels on the Tresor vault library in SharePoint?", ts(7, 9)),
    ])
    write(root / "general" / "2024-03-11.json", [said("U01ANA", "Have a good week, everyone!", ts(11, 15))])
    return root


def actions_leaking(report: dict[str, Any], private_channel: str, insiders: set[str]) -> list[dict[str, Any]]:
    """Actions carrying a marker anywhere but the private channel itself or a DM to one of its members."""
    leaks = []
    for action in report["actions"]:
        if MARK not in json.dumps(action, ensure_ascii=False):
            continue
        if action.get("channel") == private_channel:
            continue
        if action["type"] == "send_dm" and action.get("user") in insiders:
            continue
        leaks.append(action)
    return leaks


async def replayed(transcript: Path, url: str) -> dict[str, Any]:
    return (await replay(transcript, Settings(database_url=url))).report


async def lessons_exported(url: str, directory: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """`steward lessons export` (run off the test's event loop: the command starts its own)."""
    monkeypatch.setenv("DATABASE_URL", url)
    args = ["lessons", "export", str(directory), "--format", "json"]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    return (directory / "lessons.json").read_text(encoding="utf-8")


async def test_private_channels_stay_private_through_a_transcript(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    transcript = tmp_path / "history.jsonl"
    write_transcript(SlackExport(export), transcript)
    lines = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    channels = {line["id"]: line for line in lines if line["kind"] == "channel"}
    assert {k: v["private"] for k, v in channels.items()} == {
        "general": False, "help": False, "facilitators-private": True, "skunkworks": True
    }
    for number, line in enumerate(lines):  # each channel is described before its first message or join
        if line["kind"] in ("message", "join"):
            assert any(earlier.get("id") == line["channel"] for earlier in lines[:number] if earlier["kind"] ==
                       "channel")
    text = transcript.read_text(encoding="utf-8")
    assert f"{MARK}-DM" not in text and f"{MARK}-GDM" not in text  # direct messages are never exported

    url = database_url
    report = await replayed(transcript, url)
    insiders = {"U01ANA", "U01BEN", "U01CLEO", PIA}
    assert actions_leaking(report, "skunkworks", insiders) == []
    escalations = [a["text"] for a in report["actions"] if a.get("channel") == FACILITATORS]
    assert len(escalations) == report["metrics"]["escalated"] == 3
    private_escalation = next(text for text in escalations if "<#skunkworks>" in text)
    assert translate("escalate.private_question", "en") in private_escalation  # escalated, without its words
    assert any("retention labels on the Tresor vault library" in text for text in escalations)  # public: quoted
    assert all(MARK not in text for text in escalations)
    public_question = next(q for q in report["questions"] if q["asked_at"].startswith("2024-03-07T09"))
    assert public_question["nudged_experts"] and PIA not in public_question["nudged_experts"]
    assert PIA not in public_question["suggested_experts"]
    assert report["lessons"] == []  # the bulb-voted private thread is no lesson
    assert MARK not in await lessons_exported(url, tmp_path / "lessons", monkeypatch)

    audit = await collect(url)
    page = render_html(audit, "en") + render_markdown(audit, "de")
    assert MARK not in page and "Pia" not in page
    assert "Pia" not in audit.new_contributors + audit.inactive_contributors
    assert all("Pia" not in row.experts for row in audit.would_flag)

    # The control: the same transcript without its channel lines, as it read before they were understood.
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(f"{json.dumps(x)}\n" for x in lines if x["kind"] != "channel"), encoding="utf-8")
    leaky_url = f"sqlite:///{tmp_path / 'bare.db'}"
    leaky = await replayed(bare, leaky_url)
    assert actions_leaking(leaky, "skunkworks", insiders)
    assert any(MARK in a["text"] for a in leaky["actions"] if a.get("channel") == FACILITATORS)
    assert PIA in next(q for q in leaky["questions"] if q["asked_at"].startswith("2024-03-07T09"))["nudged_experts"]
    assert MARK in json.dumps(leaky["lessons"])
    assert MARK in await lessons_exported(leaky_url, tmp_path / "leaky-lessons", monkeypatch)
    leaky_audit = await collect(leaky_url)
    assert "Pia" in leaky_audit.new_contributors
    assert MARK in render_markdown(leaky_audit, "en")


async def test_private_expertise_stays_private_when_taught_again_after_a_crash(
    export: Path, tmp_path: Path
) -> None:
    """After a crash (no checkpoint) the expertise index is taught again from the database, and questions closed
    long ago are no longer in memory: what Pia answered in the private channel must go back into that channel's
    index, never the workspace's, or the public question weeks later would nudge her."""
    for day_file in ("help/2024-03-07.json", "general/2024-03-11.json"):
        (export / day_file).unlink()
    early = tmp_path / "early"
    shutil.copytree(export, early)
    write(early / "general" / "2024-04-10.json", [said("U01ANA", "Easter break is over.", ts(10, 9, month=4))])
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    await import_export(SlackExport(early), Settings(database_url=url))
    with closing(sqlite3.connect(tmp_path / "steward.db")) as db:  # as a crash leaves it: no checkpoint
        db.execute("delete from working_set_checkpoint")
        db.commit()
    shutil.copy(early / "general" / "2024-04-10.json", export / "general" / "2024-04-10.json")
    write(export / "help" / "2024-04-16.json", [
        said("U01DEV", "How do I set retention labels on the Tresor vault library in SharePoint?", ts(16, 9, month=4)),
    ])
    write(export / "general" / "2024-04-22.json", [said("U01ANA", "Have a good week!", ts(22, 15, month=4))])
    await import_export(SlackExport(export), Settings(database_url=url))
    audit = await collect(url)
    flagged = [row for row in audit.would_flag if "Tresor" in row.text]
    assert flagged and all(row.experts and "Pia" not in row.experts for row in flagged)


# --- Discord ------------------------------------------------------------------------------------------------
DISCORD_DIR = Path(__file__).parent / "data" / "exports" / "discord"
GUILD = {"id": "900000000000000001", "name": "Change Makers", "iconUrl": ""}


def posted(mid: str, at: str, author: str, content: str) -> dict[str, Any]:
    return {"id": mid, "type": "Default", "timestamp": at, "timestampEdited": None, "content": content,
            "author": {"id": author, "name": author[-4:], "nickname": None, "isBot": False},
            "attachments": [], "reactions": [], "mentions": []}


def test_discord_private_threads_are_private_channels_and_direct_messages_are_never_read(tmp_path: Path) -> None:
    root = tmp_path / "discord"
    shutil.copytree(DISCORD_DIR, root)
    write(root / "Change Makers - help - Salary talk [9300].json", {
        "guild": GUILD,
        "channel": {"id": "9300", "type": "GuildPrivateThread", "categoryId": "901", "category": "help",
                    "name": "Salary talk"},
        "messages": [posted("9301", "2024-03-04T13:00:00+00:00", "100000000000000002",
                            f"{MARK}-THREAD Is the new pay band table final?")],
    })
    for name, channel_type in (("dm", "DirectTextChat"), ("group", "DirectGroupTextChat"), ("odd", None)):
        write(root / f"Direct Messages - {name}.json", {
            "guild": {"id": "0", "name": "Direct Messages", "iconUrl": ""},
            "channel": {"id": f"95{len(name)}", "type": channel_type, "name": name},
            "messages": [posted(f"95{len(name)}1", "2024-03-04T14:00:00+00:00", "100000000000000001",
                                f"{MARK}-DM-{name} see you at lunch?")],
        })
    export = DiscordExport(root)
    assert export.channels["9300"].private and export.channels["9300"].name == "Salary talk"
    assert not export.channels["901"].private
    transcript = tmp_path / "discord.jsonl"
    write_transcript(export, transcript)
    lines = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    channels = {line["id"]: (line["private"], line["type"]) for line in lines if line["kind"] == "channel"}
    assert channels == {"help": (False, "text"), "Salary talk": (True, "text"), "questions-forum": (False, "text")}
    thread_line = next(line for line in lines if line.get("id") == "9301")
    assert thread_line["channel"] == "Salary talk" and "thread" not in thread_line  # its own channel
    assert "DM-" not in transcript.read_text(encoding="utf-8")
    assert sum("direct messages are private" in w for w in export.problems.warnings) == 3
