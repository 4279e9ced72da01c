"""Fuzzing Slack's side: payload translation (Events API, interactivity, slash commands) and Block Kit rendering.

Translation never raises: a payload becomes a well-typed event, is ignored as something rules need not see, or
is dropped with one logged line naming what was wrong. A payload shaped as Slack documents it becomes exactly the
event it describes, with nothing logged. Rendering never raises, stays within Block Kit's limits, and never lets
chat text ping a channel or disguise a link.
"""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.slack import render
from adapters.slack.translate import (
    BotIdentity,
    translate_block_actions,
    translate_command,
    translate_event,
    translate_message_shortcut,
)
from bot.core.actions import Action, PostEphemeral, PostMessage, SendDirectMessage, UpdateMessage
from bot.core.events import (
    CommandInvoked,
    Event,
    InteractionClicked,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.markup import mentions
from tests.properties.strategies import (
    FUZZ,
    SPOKEN_SUBTYPES,
    Target,
    chat_text,
    logged,
    outbound_actions,
    reasons,
    slack_commands,
    slack_escaped_text,
    slack_events,
    slack_interactions,
    slack_spoken_message_event,
    wrong_value,
)

ME = BotIdentity(team_id="T0STEWARD", user_id="U0STEWARD", bot_id="B0STEWARD")
WORKSPACE = "slack:T0STEWARD"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def well_typed(event: Event) -> None:
    """Every field holds what its annotation says: rules and storage rely on it."""
    for item in fields(event):
        value = getattr(event, item.name)
        kind = str(item.type)
        if kind == "datetime":
            assert isinstance(value, datetime) and value.tzinfo is not None, f"{item.name} = {value!r}"
        elif kind == "str":
            assert isinstance(value, str), f"{item.name} = {value!r}"
        elif kind == "str | None":
            assert value is None or isinstance(value, str), f"{item.name} = {value!r}"
        elif kind == "bool":
            assert isinstance(value, bool), f"{item.name} = {value!r}"
        elif kind.startswith("tuple[str"):
            assert isinstance(value, tuple) and all(isinstance(v, str) for v in value), f"{item.name} = {value!r}"


def _time(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), tz=UTC)


def expected_event(p: dict[str, Any]) -> Event | None:
    """What a payload shaped as Slack documents it means, worked out apart from the translator."""
    kind = p["type"]
    if kind == "message":
        subtype = p.get("subtype")
        if subtype == "message_changed":
            new, old = p["message"], p["previous_message"]
            if new.get("bot_id") or new["text"] == old["text"]:
                return None
            return MessageEdited(workspace=WORKSPACE, at=_time(p["event_ts"]), message_id=new["ts"], text=new["text"],
                                 channel=p["channel"])
        if subtype == "message_deleted":
            return MessageDeleted(workspace=WORKSPACE, at=_time(p["event_ts"]), message_id=p["deleted_ts"],
                                  channel=p["channel"])
        if subtype not in (None, *SPOKEN_SUBTYPES) or p.get("bot_id"):
            return None
        thread = p.get("thread_ts")
        return MessagePosted(workspace=WORKSPACE, at=_time(p["ts"]), channel=p["channel"], message_id=p["ts"],
                             user=p["user"], text=p["text"], thread=thread if thread != p["ts"] else None,
                             mentions=mentions(p["text"]), channel_private=channel_private(p.get("channel_type")))
    if kind in ("reaction_added", "reaction_removed"):
        item = p["item"]
        if item["type"] != "message":
            return None
        cls = ReactionAdded if kind == "reaction_added" else ReactionRemoved
        return cls(workspace=WORKSPACE, at=_time(p["event_ts"]), message_id=item["ts"], user=p["user"],
                   emoji=p["reaction"].split("::")[0], channel=item["channel"])
    if kind == "member_joined_channel":
        return MemberJoined(workspace=WORKSPACE, at=_time(p["event_ts"]), channel=p["channel"], user=p["user"])
    return None


def channel_private(channel_type: Any) -> bool | None:
    """What Slack's `channel_type` says of the channel's privacy; anything else says nothing."""
    return {"channel": False, "group": True, "mpim": True, "im": True}.get(channel_type) \
        if isinstance(channel_type, str) else None


def check_slack_event(case: tuple[Any, bool]) -> list[str]:
    payload, pristine = case
    with logged() as records:
        event = translate_event(payload, ME)
    found = reasons(records)
    if event is not None:
        well_typed(event)
        assert event.workspace == WORKSPACE
    if pristine:
        assert event == expected_event(payload)
        assert found == [], f"a documented payload was rejected: {found}"
    elif event is None and found:
        assert len(found) == 1, f"one payload, several reasons: {found}"
    return found


def check_slack_interaction(case: tuple[Any, bool]) -> list[str]:
    """Clicks and the message shortcut: any body gives well-typed events; a documented one exactly its own."""
    body, pristine = case
    with logged() as records:
        clicks = translate_block_actions(body, at=NOW, is_admin=False)
        shortcut = translate_message_shortcut(body, at=NOW)
    found = reasons(records)
    for click in clicks:
        assert isinstance(click, InteractionClicked)
        well_typed(click)
    assert isinstance(shortcut, CommandInvoked) and shortcut.args == "lesson"
    well_typed(shortcut)
    if pristine:
        assert found == [], f"a documented payload was rejected: {found}"
        team, user = body["team"]["id"], body["user"]["id"]
        if body["type"] == "block_actions":
            buttons = [a for a in body["actions"] if a["type"] == "button"]
            assert [(c.action, c.value, c.channel, c.user, c.message_id, c.workspace) for c in clicks] == [
                (b["action_id"].split("#")[0], b["value"], body["channel"]["id"], user, body["container"]["message_ts"],
                 f"slack:{team}")
                for b in buttons
            ]
        else:
            assert clicks == []
        if body["type"] == "message_action":
            message = body["message"]
            assert (shortcut.channel, shortcut.user, shortcut.thread, shortcut.workspace) == (
                body["channel"]["id"], user, message.get("thread_ts") or message["ts"], f"slack:{team}")
    return found


def check_slack_command(case: tuple[Any, bool]) -> list[str]:
    body, pristine = case
    with logged() as records:
        command = translate_command(body, at=NOW, is_admin=False)
    found = reasons(records)
    assert isinstance(command, CommandInvoked)
    well_typed(command)
    if pristine:
        assert found == []
        assert (command.workspace, command.channel, command.user, command.args) == (
            f"slack:{body['team_id']}", body["channel_id"], body["user_id"], body["text"].strip())
    return found


# --- rendering -----------------------------------------------------------------------------------------------

_STEWARD_MARKUP = re.compile(r"<[@#][A-Za-z0-9_.-]+(?:\|[^<>|]*)?>|<https?://[^<>|\s]+>")
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_WORD = re.compile(r"[a-z_]+")


def assert_safe_mrkdwn(text: str, limit: int) -> None:
    """Within `limit`; no markup but mentions and bare links (so no `<!channel>` and no labelled link); every
    `&`, `<` and `>` otherwise escaped."""
    assert len(text) <= limit, f"{len(text)} > {limit}"
    rest = _STEWARD_MARKUP.sub("", text)
    assert "<" not in rest and ">" not in rest, f"chat markup got through: {text[:200]!r}"
    assert "&" not in _ENTITY.sub("", rest), f"an unescaped & in {text[:200]!r}"


def _plain_text(item: dict[str, Any], limit: int) -> None:
    assert item["type"] == "plain_text"
    assert 1 <= len(item["text"]) <= limit and item["text"].strip(), f"plain text {item['text'][:80]!r}"


def check_blocks(blocks: list[dict[str, Any]], action: Action) -> None:
    assert len(blocks) <= render.MAX_BLOCKS
    for block in blocks:
        kind = block["type"]
        if kind == "section" and "text" in block:
            assert block["text"]["type"] == "mrkdwn" and block["text"]["text"].strip()
            assert_safe_mrkdwn(block["text"]["text"], render.SECTION_CHARS)
        elif kind == "section":
            assert 1 <= len(block["fields"]) <= render.MAX_FIELDS
            for item in block["fields"]:
                assert_safe_mrkdwn(item["text"], render.FIELD_CHARS)
        elif kind == "header":
            _plain_text(block["text"], render.HEADER_CHARS)
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            for item in block["elements"]:
                assert_safe_mrkdwn(item["text"], render.SECTION_CHARS)
        else:
            assert kind == "actions" and block is blocks[-1], f"unexpected block {kind}"
            elements = block["elements"]
            assert 1 <= len(elements) <= render.MAX_BUTTONS
            ids = [e["action_id"] for e in elements]
            assert len(set(ids)) == len(ids) and all(1 <= len(i) <= render.ACTION_ID_CHARS for i in ids)
            for element in elements:
                _plain_text(element["text"], render.BUTTON_LABEL_CHARS)
                assert 1 <= len(element.get("value", "x")) <= render.BUTTON_VALUE_CHARS
    buttons = getattr(action, "buttons", ())
    if buttons:
        assert blocks and blocks[-1]["type"] == "actions", "the buttons were cut off"
        elements = blocks[-1]["elements"]
        assert len(elements) == min(len(buttons), render.MAX_BUTTONS)
        body = {"team": {"id": "T1"}, "user": {"id": "U1"}, "channel": {"id": "C1"},
                "container": {"message_ts": "1.2"}, "actions": elements}
        clicks = translate_block_actions(body, at=NOW)
        for button, click in zip(buttons[: render.MAX_BUTTONS], clicks, strict=True):
            if _WORD.fullmatch(button.action):
                assert (click.action, click.value) == (button.action, button.value[: render.BUTTON_VALUE_CHARS])


def check_slack_render(action: Action) -> list[str]:
    with logged() as records:
        if isinstance(action, PostMessage):
            calls = [render.post_message(action)]
        elif isinstance(action, PostEphemeral):
            calls = [render.post_ephemeral(action), render.ApiCall("respond", render.respond_payload(action))]
        elif isinstance(action, SendDirectMessage):
            calls = [render.direct_message(action, "D0123ABCD")]
        else:
            assert isinstance(action, UpdateMessage)
            calls = [render.update_message(action, "C0123ABCD", "1712000000.000100")]
    for call in calls:
        check_blocks(call.params["blocks"], action)
        assert_safe_mrkdwn(call.params["text"], render.FALLBACK_CHARS)
    return reasons(records)


def check_escape(text: str) -> list[str]:
    """Escaping is idempotent, so text Slack sent already escaped is shown as the member wrote it."""
    once = render.escape(text)
    assert render.escape(once) == once
    assert_safe_mrkdwn(once, 10**9)
    return []


TARGETS = [
    Target("slack events (Events API)", slack_events, check_slack_event),
    Target("slack interactivity (block_actions, view_submission, shortcut)", slack_interactions,
           check_slack_interaction),
    Target("slack slash commands", slack_commands, check_slack_command),
    Target("slack render (Block Kit)", outbound_actions("slack:T0STEWARD"), check_slack_render),
    Target("slack escape", st.one_of(chat_text, slack_escaped_text), check_escape),
]


@FUZZ
@given(slack_events)
def test_any_events_api_payload_becomes_its_event_or_is_dropped_with_a_reason(case: tuple[Any, bool]) -> None:
    check_slack_event(case)


@FUZZ
@given(slack_interactions)
def test_any_interactivity_payload_gives_well_typed_clicks_and_shortcuts(case: tuple[Any, bool]) -> None:
    check_slack_interaction(case)


@FUZZ
@given(slack_commands)
def test_any_slash_command_payload_is_read(case: tuple[Any, bool]) -> None:
    check_slack_command(case)


@FUZZ
@given(outbound_actions("slack:T0STEWARD"))
def test_block_kit_stays_within_limits_and_never_pings_or_disguises_a_link(action: Action) -> None:
    check_slack_render(action)


@FUZZ
@given(st.one_of(chat_text, slack_escaped_text))
def test_escaping_twice_changes_nothing(text: str) -> None:
    check_escape(text)


@FUZZ
@given(
    slack_spoken_message_event,
    st.sampled_from(["channel", "ts", "user", "text", "thread_ts"]),
    wrong_value.filter(lambda v: v is not None and not isinstance(v, str)),
)
def test_a_message_field_of_the_wrong_type_is_dropped_with_one_line_naming_it(
    message: dict[str, Any], name: str, value: Any
) -> None:
    with logged() as records:
        event = translate_event({**message, name: value}, ME)
    found = reasons(records)
    assert event is None
    assert len(found) == 1 and repr(name) in found[0], found


def test_special_mentions_and_disguised_links_from_chat_are_escaped() -> None:
    text = "ping <!channel> <!here|here> <!subteam^S1|@devs> see <https://evil.example|https://good.example>"
    shown = render.escape(text)
    assert "<!" not in shown and "|https://good.example>" not in shown
    assert "<https://evil.example>" in shown  # the address a click opens is the one shown
    assert render.escape("<@U1> in <#C1|general> & a &lt; b") == "<@U1> in <#C1|general> &amp; a &lt; b"


def test_a_card_with_more_sections_than_slack_takes_keeps_its_buttons() -> None:
    from bot.core.actions import Button, Card

    card = Card(title="Digest", sections=tuple(f"line {n}" for n in range(80)))
    blocks = render.blocks("intro", card, (Button("claim", "Claim", "1.2"),))
    assert len(blocks) <= render.MAX_BLOCKS and blocks[-1]["type"] == "actions"
    assert "line 79" in str(blocks)


def test_a_button_without_a_visible_label_or_action_still_shows_something() -> None:
    from bot.core.actions import Button

    (element,) = render.button_elements((Button("\xa0", " ", "1.2"),))
    assert element["text"]["text"] == render.ELLIPSIS
