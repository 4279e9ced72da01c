"""Slack payload translation and Block Kit rendering, on recorded-style payloads (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.slack import render
from adapters.slack.translate import (
    BotIdentity,
    translate_block_actions,
    translate_command,
    translate_event,
    translate_message_shortcut,
)
from adapters.slack.users import parse_user
from bot.core.actions import AddReaction, Button, Card, PinMessage, PostEphemeral, PostMessage, SendDirectMessage
from bot.core.events import (
    InteractionClicked,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)

ME = BotIdentity(team_id="T1", user_id="UBOT", bot_id="BBOT")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def message(**extra: object) -> dict[str, object]:
    return {
        "type": "message",
        "channel": "C1",
        "user": "U1",
        "text": "Who owns <@U2>'s rollout?",
        "ts": "1772442000.000100",
        "event_ts": "1772442000.000100",
        **extra,
    }


def test_a_channel_message_becomes_message_posted() -> None:
    event = translate_event(message(), ME)
    assert isinstance(event, MessagePosted)
    assert (event.workspace, event.channel, event.message_id, event.user) == (
        "slack:T1",
        "C1",
        "1772442000.000100",
        "U1",
    )
    assert event.thread is None and event.mentions == ("U2",)
    assert event.at == datetime.fromtimestamp(1772442000.0001, tz=UTC)


def test_thread_replies_name_their_root_and_a_root_is_not_its_own_thread() -> None:
    reply = translate_event(message(ts="1772442100.000200", thread_ts="1772442000.000100"), ME)
    assert isinstance(reply, MessagePosted) and reply.thread == "1772442000.000100"
    root = translate_event(message(thread_ts="1772442000.000100"), ME)
    assert isinstance(root, MessagePosted) and root.thread is None
    broadcast = translate_event(message(subtype="thread_broadcast", ts="9.1", thread_ts="1772442000.000100"), ME)
    assert isinstance(broadcast, MessagePosted) and broadcast.thread == "1772442000.000100"


def test_the_channel_type_says_whether_the_channel_is_private() -> None:
    said = {kind: translate_event(message(channel_type=kind), ME) for kind in ("channel", "group", "mpim", "im")}
    assert {kind: getattr(event, "channel_private", "?") for kind, event in said.items()} == {
        "channel": False, "group": True, "mpim": True, "im": True,
    }
    unsaid = translate_event(message(), ME)
    assert isinstance(unsaid, MessagePosted) and unsaid.channel_private is None
    odd = translate_event(message(channel_type=["group"]), ME)
    assert isinstance(odd, MessagePosted) and odd.channel_private is None


def test_bots_steward_itself_and_housekeeping_are_ignored() -> None:
    assert translate_event(message(subtype="bot_message", bot_id="B9"), ME) is None
    assert translate_event(message(bot_id="B9"), ME) is None
    assert translate_event(message(user="UBOT"), ME) is None
    assert translate_event(message(subtype="channel_join"), ME) is None
    assert translate_event(message(subtype="channel_topic"), ME) is None


def test_edits_and_deletes() -> None:
    edited = translate_event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C1",
            "event_ts": "1772442200.0",
            "message": {"user": "U1", "text": "new text", "ts": "1772442000.000100"},
            "previous_message": {"user": "U1", "text": "old text", "ts": "1772442000.000100"},
        },
        ME,
    )
    assert isinstance(edited, MessageEdited)
    assert (edited.message_id, edited.text, edited.channel) == ("1772442000.000100", "new text", "C1")
    unfurl = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C1",
        "event_ts": "1.0",
        "message": {"user": "U1", "text": "same", "ts": "1.0"},
        "previous_message": {"text": "same"},
    }
    assert translate_event(unfurl, ME) is None
    deleted = translate_event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": "C1",
            "deleted_ts": "1772442000.000100",
            "event_ts": "1772442300.0",
        },
        ME,
    )
    assert isinstance(deleted, MessageDeleted) and deleted.message_id == "1772442000.000100"


def test_reactions_and_joins() -> None:
    item = {"type": "message", "channel": "C1", "ts": "1772442000.000100"}
    added = translate_event(
        {
            "type": "reaction_added",
            "user": "U1",
            "reaction": "+1::skin-tone-3",
            "item": item,
            "event_ts": "1772442400.0",
        },
        ME,
    )
    assert isinstance(added, ReactionAdded) and (added.emoji, added.message_id) == ("+1", "1772442000.000100")
    removed = translate_event(
        {
            "type": "reaction_removed",
            "user": "U1",
            "reaction": "white_check_mark",
            "item": item,
            "event_ts": "1772442500.0",
        },
        ME,
    )
    assert isinstance(removed, ReactionRemoved)
    assert translate_event({"type": "reaction_added", "user": "UBOT", "reaction": "eyes", "item": item}, ME) is None
    assert (
        translate_event(
            {"type": "reaction_added", "user": "U1", "reaction": "eyes", "item": {"type": "file", "file": "F1"}}, ME
        )
        is None
    )
    joined = translate_event(
        {"type": "member_joined_channel", "user": "U3", "channel": "C1", "team": "T1", "event_ts": "1772442600.0"}, ME
    )
    assert isinstance(joined, MemberJoined) and (joined.user, joined.channel) == ("U3", "C1")


def test_slash_command_button_click_and_shortcut() -> None:
    command = translate_command(
        {"team_id": "T1", "channel_id": "C1", "user_id": "U1", "command": "/steward", "text": " mute 2w "},
        at=NOW,
        is_admin=True,
    )
    assert (command.workspace, command.args, command.is_admin, command.thread) == ("slack:T1", "mute 2w", True, None)
    delivered = {"team_id": "T1", "channel_id": "C1", "user_id": "U1", "text": "mute 2w", "trigger_id": "13345.9"}
    first, again = (translate_command(delivered, at=moment) for moment in (NOW, NOW + timedelta(seconds=30)))
    assert first.key == again.key == "command:13345.9", "a redelivery, received later, is the same command"
    assert translate_command(delivered | {"trigger_id": "13346.1"}, at=NOW).key != first.key
    clicks = translate_block_actions(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "U2"},
            "channel": {"id": "C1"},
            "container": {"type": "message", "message_ts": "1772443000.000300", "channel_id": "C1"},
            "actions": [{"type": "button", "action_id": "solved#2", "value": "1772442000.000100"}],
            "trigger_id": "13347.2",
        },
        at=NOW,
    )
    assert clicks[0].key == "clicked:13347.2:solved:1772442000.000100"
    assert clicks == [
        InteractionClicked(
            workspace="slack:T1",
            at=NOW,
            channel="C1",
            user="U2",
            action="solved",
            value="1772442000.000100",
            message_id="1772443000.000300",
            delivery_id="13347.2",
        )
    ]
    shortcut = translate_message_shortcut(
        {
            "type": "message_action",
            "callback_id": "save_lesson",
            "team": {"id": "T1"},
            "user": {"id": "U2"},
            "channel": {"id": "C1"},
            "message": {"ts": "1772442100.000200", "thread_ts": "1772442000.000100"},
        },
        at=NOW,
    )
    assert (shortcut.args, shortcut.thread, shortcut.channel) == ("lesson", "1772442000.000100", "C1")


def test_flag_renders_blocks_buttons_and_a_plain_fallback() -> None:
    action = PostMessage(
        key="flag:1",
        workspace="slack:T1",
        channel="C1",
        thread="1772442000.000100",
        text="A question from <@U1> waits: a < b & c",
        buttons=(
            Button("claim", "I'll take it", "1772442000.000100", "primary"),
            Button("solved", "Solved", "1772442000.000100"),
            Button("solved", "Solved too", "1772442000.000100"),
        ),
    )
    call = render.post_message(action)
    assert call.method == "chat.postMessage" and call.params["thread_ts"] == "1772442000.000100"
    assert call.params["text"] == "A question from <@U1> waits: a &lt; b &amp; c"
    section, actions = call.params["blocks"]
    assert section["text"]["type"] == "mrkdwn"
    assert [(e["action_id"], e["value"], e.get("style")) for e in actions["elements"]] == [
        ("claim", "1772442000.000100", "primary"),
        ("solved", "1772442000.000100", None),
        ("solved#2", "1772442000.000100", None),
    ]


def test_cards_dms_ephemeral_pins_and_reactions() -> None:
    card = Card(title="Steward commands", sections=("`/steward help`",), fields=(("Open", "3"),), footer="hi")
    ephemeral = render.post_ephemeral(
        PostEphemeral(key="r", workspace="slack:T1", channel="C1", user="U1", text="Here:", card=card)
    )
    assert ephemeral.method == "chat.postEphemeral" and ephemeral.params["user"] == "U1"
    assert [b["type"] for b in ephemeral.params["blocks"]] == ["section", "header", "section", "section", "context"]
    assert "Steward commands" in ephemeral.params["text"]
    dm = render.direct_message(SendDirectMessage(key="n", workspace="slack:T1", user="U2", text="Hi"), "D2")
    assert (dm.method, dm.params["channel"]) == ("chat.postMessage", "D2")
    pin = render.pin_message(PinMessage(key="p", workspace="slack:T1", channel="C1", message_id="1.2"))
    assert pin == render.ApiCall("pins.add", {"channel": "C1", "timestamp": "1.2"})
    react = render.add_reaction(
        AddReaction(key="a", workspace="slack:T1", channel="C1", message_id="1.2", emoji=":bulb:")
    )
    assert react.params["name"] == "bulb"


def test_long_texts_are_cut_to_block_kit_limits() -> None:
    blocks = render.blocks("x" * 5000, Card(title="t" * 400))
    assert len(blocks[0]["text"]["text"]) == render.SECTION_CHARS
    assert len(blocks[1]["text"]["text"]) == render.HEADER_CHARS


def test_users_info_gives_time_zone_language_and_admin() -> None:
    user = parse_user(
        {
            "id": "U1",
            "tz": "Europe/Berlin",
            "locale": "de-DE",
            "is_owner": True,
            "profile": {"display_name": "", "real_name": "Anna"},
            "real_name": "Anna",
        }
    )
    assert (user.timezone, user.language, user.is_admin, user.name) == ("Europe/Berlin", "de", True, "Anna")
    assert parse_user({"id": "U2", "locale": "fr-FR"}).language is None


def test_manifest_asks_only_for_what_steward_uses() -> None:
    from pathlib import Path

    import yaml

    import adapters.slack

    manifest = yaml.safe_load((Path(adapters.slack.__file__).parent / "manifest.yml").read_text(encoding="utf-8"))
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {
        "app_home_opened",
        "member_joined_channel",
        "message.channels",
        "message.groups",
        "reaction_added",
        "reaction_removed",
    }
    assert not any(
        scope.endswith((":write.public", "admin", ":read.email")) for scope in manifest["oauth_config"]["scopes"]["bot"]
    )
    assert manifest["features"]["shortcuts"][0]["callback_id"] == "save_lesson"


def test_the_home_tab_shows_a_mute_and_quiet_hours_in_the_members_time_and_language() -> None:
    from adapters.slack.home import home_view
    from bot.state import CommunityState

    state = CommunityState()
    state.workspace("slack:T1").timezone = "Europe/Berlin"
    member = state.member("slack:T1", "U1")
    member.muted_until, member.quiet_start, member.quiet_end = datetime(2026, 3, 4, 8, 0, tzinfo=UTC), 22, 7

    def settings_text(language: str) -> str:
        member.language = language
        blocks = home_view(state, "slack:T1", "U1", now=NOW)["blocks"]
        return str([b for b in blocks if b["type"] == "section"][-1]["text"]["text"])

    assert settings_text("en") == "Nudges: paused until Mar 4, 2026, 09:00\nQuiet hours: 22:00 to 07:00"
    assert settings_text("de") == "Hinweise: pausiert bis 4. März 2026, 09:00\nRuhezeiten: 22:00 bis 07:00 Uhr"
