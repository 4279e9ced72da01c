"""Importing Slack and Discord exports: reading, transcripts, backfill without posts, idempotent re-import."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from adapters.discord.export import DiscordExport
from adapters.slack.export import SlackExport
from bot.app.importer import LogProgress, import_export, write_transcript
from bot.app.replay import replay
from bot.cli import app
from bot.core.events import MemberJoined, MessageEdited, MessagePosted, ReactionAdded
from bot.core.ports import ExportError
from bot.history_cli import open_export
from bot.settings import Settings

EXPORTS = Path(__file__).parent / "data" / "exports"
SLACK_DIR = EXPORTS / "slack"
DISCORD_DIR = EXPORTS / "discord"
TABLES = ("workspace", "channel", "member", "message", "reaction", "question", "nudge", "outbox")


@pytest.fixture
def slack_zip(tmp_path: Path) -> Path:
    """The fixture export zipped the way Slack delivers it."""
    target = tmp_path / "Acme Slack export.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(SLACK_DIR.rglob("*.json")):
            archive.write(file, file.relative_to(SLACK_DIR).as_posix())
    return target


def settings_for(tmp_path: Path, name: str = "steward.db") -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / name}")


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f"select * from {t}"))), key=repr) for t in TABLES}


# --- Slack ------------------------------------------------------------------------------------------
def test_slack_export_reads_threads_reactions_edits_joins_bots_and_files(slack_zip: Path) -> None:
    export = SlackExport(slack_zip)
    events = list(export.events())
    assert export.workspace_id == "T0TEST"
    assert export.timezone == "Europe/Berlin"
    assert [e.at for e in events] == sorted(e.at for e in events)
    posted = {e.message_id: e for e in events if isinstance(e, MessagePosted)}
    answer = posted["1709546700.000200"]
    assert answer.thread == "1709546400.000100" and answer.user_name == "Ben Ortiz"
    assert posted["1709546400.000100"].thread is None
    assert posted["1709557200.000100"].bot is True
    assert posted["1709559000.000100"].text == "[Rollout plan]"
    reactions = [(e.message_id, e.user, e.emoji) for e in events if isinstance(e, ReactionAdded)]
    assert ("1709546700.000200", "U01CLEO", "+1") in reactions  # skin tone dropped, one reaction per user
    edits = [e.text for e in events if isinstance(e, MessageEdited)]
    assert edits[-1] == "The new VPN client rolls out on Friday, 8 March."
    assert {(e.channel, e.user) for e in events if isinstance(e, MemberJoined)} == {
        ("C01GEN", "U01BEN"),
        ("C01HELP", "U01DEV"),
    }
    assert export.channels["G01FAC"].private
    assert "private note, never to be imported" not in {p.text for p in posted.values()}  # DMs skipped


def test_slack_bad_input_is_named_and_the_rest_imported(slack_zip: Path) -> None:
    export = SlackExport(slack_zip)
    events = list(export.events())
    assert sum(isinstance(e, MessagePosted) for e in events) == 12
    skipped = "\n".join(export.problems.skipped)
    assert "help/2024-03-06.json: is not valid JSON" in skipped
    assert "help/2024-03-04.json (message not-a-time): unparsable timestamp" in skipped
    assert any("unknown user id U09GHOST" in w and "1709560800.000100" in w for w in export.problems.warnings)


def test_corrupt_zip_and_wrong_format_are_clear_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 this is no zip")
    with pytest.raises(ExportError, match=r"broken\.zip: not a readable ZIP"):
        SlackExport(broken)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ExportError, match="not a Slack export"):
        SlackExport(other)


def test_corrupt_zip_exits_non_zero_with_the_file_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip at all")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(app, ["import", "slack-export", str(broken)])
    assert result.exit_code != 0
    assert "broken.zip" in result.output


async def test_backfill_posts_nothing_and_reimport_changes_nothing(slack_zip: Path, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    first = await import_export(SlackExport(slack_zip), settings, progress=LogProgress("test"))
    assert first.messages == 12 and first.already_known == 0
    before = dump(tmp_path / "steward.db")
    assert before["outbox"] == [] and before["nudge"] == []  # nothing flagged or nudged for the past
    questions = {row[1]: row for row in before["question"]}
    assert "1709553600.000100" in questions  # the unanswered one
    flagged = dict(
        create_engine(f"sqlite:///{tmp_path / 'steward.db'}")
        .connect()
        .execute(text("select id, flagged_at from question"))
        .all()
    )
    assert flagged["1709553600.000100"] is not None  # Steward would have flagged it, silently
    second = await import_export(SlackExport(slack_zip), settings)
    assert second.events == 0 and second.already_known == first.events
    assert dump(tmp_path / "steward.db") == before


async def test_slack_round_trip_through_a_transcript(slack_zip: Path, tmp_path: Path) -> None:
    transcript = tmp_path / "history.jsonl"
    written = write_transcript(SlackExport(slack_zip), transcript)
    lines = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["kind"] == "meta" and lines[0]["workspace"] == "T0TEST"
    channels = {line["id"]: line["private"] for line in lines if line["kind"] == "channel"}
    assert channels == {"general": False, "help": False, "facilitators-private": True}
    assert len(lines) == written.events + 1 + len(channels)
    assert {line["channel"] for line in lines if line["kind"] == "message"} == {
        "help",
        "general",
        "facilitators-private",
    }
    direct = settings_for(tmp_path, "direct.db")
    await import_export(SlackExport(slack_zip), direct)
    replayed = await replay(transcript, settings_for(tmp_path, "replayed.db"))
    from_import = {row[1]: (row[3], row[4]) for row in dump(tmp_path / "direct.db")["question"]}
    from_replay = {q["id"]: (q["asker"], q["answered"]) for q in replayed.report["questions"]}
    assert set(from_import) == set(from_replay)
    assert {k: v[0] for k, v in from_import.items()} == {k: v[0] for k, v in from_replay.items()}


def test_cli_writes_a_transcript(slack_zip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["import", "slack-export", str(slack_zip), "--to-transcript", str(out)])
    assert result.exit_code == 0, result.output
    assert "12 messages" in result.output
    assert out.exists() and not (tmp_path / "unused.db").exists()


def test_cli_imports_into_the_database(slack_zip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    result = CliRunner().invoke(app, ["import", "slack-export", str(slack_zip)])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output
    again = CliRunner().invoke(app, ["import", "slack-export", str(slack_zip)])
    assert again.exit_code == 0 and "0 messages" in again.output


# --- Discord ----------------------------------------------------------------------------------------
def test_discord_folder_replies_threads_forum_posts_and_reactions() -> None:
    export = DiscordExport(DISCORD_DIR)
    events = list(export.events())
    assert export.workspace_id == "900000000000000001" and export.workspace_name == "Change Makers"
    assert [e.at for e in events] == sorted(e.at for e in events)
    posted = {e.message_id: e for e in events if isinstance(e, MessagePosted)}
    assert posted["1003"].reply_to == "1002"
    assert posted["9101"].channel == "901" and posted["9101"].thread == "9100"  # a thread keeps its parent
    assert posted["9200"].thread is None and posted["9201"].thread == "9200"  # forum post: first message is root
    assert posted["1004"].mentions == ("100000000000000002",)
    assert posted["1005"].bot
    assert "1006" not in posted  # "thread created" notice is housekeeping
    root_tick = next(e for e in events if isinstance(e, ReactionAdded) and e.message_id == "9200")
    assert root_tick.at > posted["9201"].at  # a root's reactions count from the thread's last message
    assert any(isinstance(e, MemberJoined) and e.user == "100000000000000003" for e in events)
    skipped = "\n".join(export.problems.skipped)
    assert "broken.json" in skipped and "notes.json" in skipped and "(message 1007)" in skipped


def test_discord_single_file(tmp_path: Path) -> None:
    single = tmp_path / "help.json"
    shutil.copy(DISCORD_DIR / "Change Makers - help [901].json", single)
    export = open_export("discord", single)
    assert sum(isinstance(e, MessagePosted) for e in export.events()) == 5


def test_discord_nothing_usable_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ExportError, match="no usable"):
        DiscordExport(tmp_path)


async def test_discord_import_is_idempotent_and_silent(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    first = await import_export(DiscordExport(DISCORD_DIR), settings)
    assert first.workspace == "discord:900000000000000001" and first.messages == 9
    before = dump(tmp_path / "steward.db")
    assert before["outbox"] == []
    asked = {row[1] for row in before["question"]}
    assert {"1002", "9100", "9200"} <= asked
    await import_export(DiscordExport(DISCORD_DIR), settings)
    assert dump(tmp_path / "steward.db") == before
