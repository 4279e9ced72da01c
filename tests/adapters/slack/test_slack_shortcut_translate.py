"""The "Record decision" and "Make an idea" message shortcuts as Slack sends them, translated into the `/steward`
command each one stands for; and the manifest that declares them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from adapters.slack.translate import MAKE_IDEA, RECORD_DECISION, translate_message_shortcut
from bot.commands import split_args

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MANIFEST = Path(__file__).parents[3] / "adapters" / "slack" / "manifest.yml"


def shortcut(callback_id: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message_action", "callback_id": callback_id, "team": {"id": "T1"}, "user": {"id": "U2"},
        "channel": {"id": "C1"}, "message_ts": message.get("ts", ""), "message": message,
    }


def test_record_decision_on_a_reply_is_decide_in_its_thread_titled_from_the_message() -> None:
    reply = {"ts": "1772442100.000200", "thread_ts": "1772442000.000100", "user": "U3",
             "text": "Let's go with Teams, because half of us are remote. Thanks everyone!"}
    event = translate_message_shortcut(shortcut(RECORD_DECISION, reply), at=NOW)
    assert (event.channel, event.user, event.thread) == ("C1", "U2", "1772442000.000100")
    assert split_args(event.args) == ["decide", "Let's go with Teams"]  # the main clause, without the why


def test_record_decision_outside_a_thread_makes_the_message_the_threads_root() -> None:
    text = "Where do we hold the kickoff: Teams or the big room? I'd say we need an answer by Friday."
    event = translate_message_shortcut(shortcut(RECORD_DECISION, {"ts": "1772442000.000100", "text": text}), at=NOW)
    assert event.thread == "1772442000.000100"
    assert split_args(event.args) == ["decide", "Where do we hold the kickoff: Teams or the big room?"]


def test_a_title_with_quotes_or_a_leading_command_word_stays_one_title() -> None:
    text = "supersede the 'old' plan, we decided"
    event = translate_message_shortcut(shortcut(RECORD_DECISION, {"ts": "1.1", "text": text}), at=NOW)
    assert split_args(event.args) == ["decide", "Supersede the 'old' plan"]


def test_record_decision_on_a_message_without_text_leaves_the_title_to_the_thread() -> None:
    event = translate_message_shortcut(shortcut(RECORD_DECISION, {"ts": "1.1", "text": ""}), at=NOW)
    assert event.args == "decide"


def test_make_an_idea_carries_the_whole_message_as_the_idea() -> None:
    text = "Book meeting rooms\nthrough a shared calendar — it's \"easy\"."
    event = translate_message_shortcut(
        shortcut(MAKE_IDEA, {"ts": "1772442100.000200", "thread_ts": "1772442000.000100", "text": text}), at=NOW
    )
    assert (event.channel, event.user) == ("C1", "U2")
    assert split_args(event.args) == ["idea", "Book meeting rooms through a shared calendar — it's \"easy\"."]


def test_a_shortcut_with_a_wrong_text_field_is_still_answered() -> None:
    event = translate_message_shortcut(shortcut(MAKE_IDEA, {"ts": "1.1", "text": ["not", "text"]}), at=NOW)
    assert event.args == "idea"  # the idea command then says what it needs


def test_the_manifest_declares_every_message_shortcut_the_adapter_listens_for() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    declared = {s["callback_id"]: s for s in manifest["features"]["shortcuts"]}
    assert set(declared) == {"save_lesson", RECORD_DECISION, MAKE_IDEA}
    assert all(s["type"] == "message" and len(s["name"]) <= 24 for s in declared.values())
    assert declared[RECORD_DECISION]["name"] == "Record decision" and declared[MAKE_IDEA]["name"] == "Make an idea"
