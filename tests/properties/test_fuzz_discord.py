"""Fuzzing Discord's side: translation of messages, edits, deletes, reactions, joins and interactions, and
rendering into content, embeds and button views.

Inputs are built as the adapter receives them: discord.py objects (here small stand-ins with the same
attributes, as in tests/adapters/discord) and the gateway's raw dicts, then broken: attributes missing or of the
wrong type, huge and odd text. Translation never raises and gives well-typed events or drops the input with one
logged line; rendering never raises, stays within Discord's limits and never pings everyone, a role or a
replied-to author, nor passes on a masked link.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace as NS
from typing import Any

import discord
from hypothesis import given
from hypothesis import strategies as st

from adapters.discord import render, translate
from adapters.discord.sender import message_kwargs
from bot.core.actions import Action
from bot.core.events import (
    CommandInvoked,
    InteractionClicked,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from tests.properties.strategies import (
    FUZZ,
    Target,
    aware_times,
    cases,
    chat_text,
    logged,
    outbound_actions,
    reasons,
    short_text,
    snowflakes,
    steward_actions,
)
from tests.properties.test_fuzz_slack import well_typed

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHAT_TYPES = (discord.MessageType.default, discord.MessageType.reply, discord.MessageType.thread_starter_message)


def objects(value: Any) -> Any:
    """Nested dicts as the attribute objects discord.py hands the adapter."""
    if isinstance(value, dict) and all(isinstance(k, str) and k.isidentifier() for k in value):
        return NS(**{key: objects(item) for key, item in value.items()})
    return value


names = st.one_of(st.none(), short_text)
channels = st.one_of(
    st.fixed_dictionaries({"id": snowflakes, "type": st.sampled_from([discord.ChannelType.text, "text", "news"])}),
    st.fixed_dictionaries(
        {"id": snowflakes, "parent_id": snowflakes,
         "type": st.sampled_from([discord.ChannelType.public_thread, discord.ChannelType.private_thread])}
    ),
    st.fixed_dictionaries({"id": snowflakes, "type": st.just(discord.ChannelType.forum)}),
)
authors = st.fixed_dictionaries(
    {"id": snowflakes, "bot": st.booleans(), "display_name": names, "name": short_text}
)
guilds = st.fixed_dictionaries(
    {"id": snowflakes, "system_channel": st.one_of(st.none(), st.fixed_dictionaries({"id": snowflakes}))}
)
messages = st.fixed_dictionaries(
    {
        "id": snowflakes,
        "guild": st.one_of(guilds, guilds, guilds, st.none()),
        "channel": channels,
        "author": authors,
        "content": chat_text,
        "created_at": aware_times,
        "reference": st.one_of(st.none(), st.fixed_dictionaries({"message_id": st.one_of(st.none(), snowflakes)})),
        "raw_mentions": st.lists(snowflakes, max_size=3),
        "type": st.sampled_from([*CHAT_TYPES, discord.MessageType.pins_add, discord.MessageType.new_member]),
    }
)
edits = st.fixed_dictionaries(
    {
        "guild_id": st.one_of(st.none(), snowflakes),
        "message_id": snowflakes,
        "channel": channels,
        "data": st.fixed_dictionaries(
            {"id": snowflakes.map(str), "channel_id": snowflakes.map(str)},
            optional={"content": chat_text, "author": st.fixed_dictionaries({"id": snowflakes.map(str),
                                                                              "bot": st.booleans()}),
                      "embeds": st.just([]), "edited_timestamp": st.just("2026-03-02T09:00:00+00:00")},
        ),
    }
)
deletes = st.fixed_dictionaries(
    {"guild_id": st.one_of(st.none(), snowflakes), "message_id": snowflakes, "channel_id": snowflakes}
)
UNICODE_EMOJI = {"✅": "white_check_mark", "✔️": "heavy_check_mark", "👍": "+1", "🦄": "🦄", "💡": "bulb"}
emojis = st.one_of(
    st.fixed_dictionaries({"id": st.none(), "name": st.sampled_from(sorted(UNICODE_EMOJI))}),
    st.fixed_dictionaries(
        {"id": snowflakes, "name": st.one_of(st.none(), st.from_regex(r"[a-z_]{2,20}", fullmatch=True))}
    ),
)
reactions = st.fixed_dictionaries(
    {
        "guild_id": st.one_of(st.none(), snowflakes),
        "message_id": snowflakes,
        "user_id": snowflakes,
        "channel_id": snowflakes,
        "emoji": emojis,
        "event_type": st.sampled_from(["REACTION_ADD", "REACTION_REMOVE"]),
    }
)
members = st.fixed_dictionaries(
    {"id": snowflakes, "bot": st.booleans(), "display_name": names, "name": short_text, "guild": guilds}
)
permissions = st.sampled_from([discord.Permissions.none(), discord.Permissions(manage_guild=True),
                               discord.Permissions(administrator=True)])
interactions = st.fixed_dictionaries(
    {
        "guild_id": st.one_of(st.none(), snowflakes),
        "channel": st.one_of(st.none(), channels),
        "user": st.fixed_dictionaries(
            {"id": snowflakes, "guild_permissions": st.one_of(st.none(), permissions),
             "roles": st.lists(st.fixed_dictionaries({"id": snowflakes, "name": short_text}), max_size=3)}
        ),
        "locale": st.one_of(st.none(), st.sampled_from(list(discord.Locale)), short_text),
        "message": st.one_of(st.none(), st.fixed_dictionaries({"id": snowflakes})),
    }
)
discord_inputs = st.one_of(
    cases(messages).map(lambda c: ("message", *c)),
    cases(edits).map(lambda c: ("edit", *c)),
    cases(deletes).map(lambda c: ("delete", *c)),
    cases(reactions).map(lambda c: ("reaction", *c)),
    cases(members).map(lambda c: ("member", *c)),
)
discord_interactions = st.tuples(
    cases(interactions),
    st.one_of(steward_actions, short_text),
    st.one_of(snowflakes.map(str), chat_text),
    chat_text,
)


def _place(channel: dict[str, Any]) -> tuple[str, str | None]:
    if "thread" in str(channel["type"]) and channel.get("parent_id"):
        return str(channel["parent_id"]), str(channel["id"])
    return str(channel["id"]), None


def expected(kind: str, d: dict[str, Any]) -> Any:
    """What a well-formed input means, worked out apart from the translator."""
    if kind == "message":
        if d["guild"] is None or d["type"] not in CHAT_TYPES:
            return None
        channel, thread = _place(d["channel"])
        reference = d["reference"]
        return MessagePosted(
            workspace=f"discord:{d['guild']['id']}", at=d["created_at"], channel=channel, message_id=str(d["id"]),
            user=str(d["author"]["id"]), text=d["content"], thread=thread,
            reply_to=str(reference["message_id"]) if reference and reference["message_id"] else None,
            bot=d["author"]["bot"], user_name=d["author"]["display_name"] or d["author"]["name"] or None,
            mentions=tuple(str(m) for m in d["raw_mentions"]),
        )
    if kind == "edit":
        data = d["data"]
        if d["guild_id"] is None or "content" not in data or data.get("author", {}).get("bot"):
            return None
        return MessageEdited(workspace=f"discord:{d['guild_id']}", at=NOW, message_id=str(d["message_id"]),
                             text=data["content"], channel=_place(d["channel"])[0])
    if kind == "delete":
        if d["guild_id"] is None:
            return None
        return MessageDeleted(workspace=f"discord:{d['guild_id']}", at=NOW, message_id=str(d["message_id"]),
                              channel=str(d["channel_id"]))
    if kind == "reaction":
        if d["guild_id"] is None:
            return None
        emoji = d["emoji"]
        name = (emoji["name"] or str(emoji["id"])) if emoji["id"] else UNICODE_EMOJI[emoji["name"]]
        cls = ReactionAdded if d["event_type"] == "REACTION_ADD" else ReactionRemoved
        return cls(workspace=f"discord:{d['guild_id']}", at=NOW, message_id=str(d["message_id"]),
                   user=str(d["user_id"]), emoji=name, channel=str(d["channel_id"]))
    if d["bot"]:
        return None
    guild = d["guild"]
    return MemberJoined(workspace=f"discord:{guild['id']}", at=NOW,
                        channel=str((guild["system_channel"] or guild)["id"]), user=str(d["id"]),
                        user_name=d["display_name"] or d["name"] or None)


def translated(kind: str, value: Any) -> Any:
    o = objects(value)
    if kind == "message":
        return translate.message_posted(o)
    if kind == "edit":
        return translate.message_edited(getattr(o, "guild_id", None), getattr(o, "message_id", None),
                                        getattr(o, "channel", None), value.get("data"), NOW)
    if kind == "delete":
        return translate.message_deleted(getattr(o, "guild_id", None), getattr(o, "message_id", None),
                                         getattr(o, "channel_id", None), NOW)
    if kind == "reaction":
        return translate.reaction(o, NOW)
    return translate.member_joined(o, NOW)


def check_discord_input(case: tuple[str, Any, bool]) -> list[str]:
    kind, value, pristine = case
    with logged() as records:
        event = translated(kind, value)
    found = reasons(records)
    if event is not None:
        well_typed(event)
        assert event.workspace.startswith("discord:") and translate.guild_of(event.workspace) is not None
    if pristine:
        assert event == expected(kind, value)
        assert found == [], f"a well-formed input was rejected: {found}"
    elif event is None and found:
        assert len(found) == 1, f"one input, several reasons: {found}"
    return found


def check_discord_interaction(case: tuple[tuple[Any, bool], str, str, str]) -> list[str]:
    (value, pristine), action, subject, args = case
    interaction = objects(value)
    with logged() as records:
        command = translate.command_invoked(interaction, args, at=NOW, facilitator_role="Facilitator")
        click = translate.interaction_clicked(interaction, action, subject, at=NOW, facilitator_role="Facilitator")
    found = reasons(records)
    for event in (command, click):
        if event is not None:
            well_typed(event)
    if pristine:
        assert found == [] and isinstance(command, CommandInvoked) and isinstance(click, InteractionClicked)
        guild = value["guild_id"]
        assert command.workspace == click.workspace == f"discord:{guild if guild is not None else 0}"
        assert (command.args, command.user, click.action, click.value) == (args, str(value["user"]["id"]), action,
                                                                        subject)
        assert click.message_id == (str(value["message"]["id"]) if value["message"] else None)
        admin = value["user"]["guild_permissions"]
        expected_admin = bool(admin and (admin.manage_guild or admin.administrator)) or any(
            r["name"].casefold() == "facilitator" for r in value["user"]["roles"])
        assert command.is_admin == click.is_admin == expected_admin
    if _word(action):
        custom = render.custom_id(action, subject)
        match = render.CUSTOM_ID.fullmatch(custom)
        assert match is not None and (match["action"], match["value"]) == (action, subject), "a button lost its meaning"
    return found


def _word(action: str) -> bool:
    return bool(action) and all("a" <= c <= "z" or c == "_" for c in action)


def _text_of(shown: render.Rendered) -> list[str]:
    texts = [shown.content or ""]
    if shown.embed is not None:
        embed = shown.embed
        texts += [embed.title or "", embed.description or "", embed.footer.text or ""]
        texts += [f.name or "" for f in embed.fields] + [f.value or "" for f in embed.fields]
    return texts


def check_discord_render(action: Action) -> list[str]:
    with logged() as records:
        shown = render.render(action)
        kwargs = message_kwargs(shown)
    assert shown.content is None or 1 <= len(shown.content) <= render.CONTENT_LIMIT
    assert shown.content is None or shown.content.strip()
    embed = shown.embed
    if embed is not None:
        assert len(embed) <= render.EMBED_TOTAL, f"embed of {len(embed)} characters"
        assert len(embed.title or "") <= render.TITLE_LIMIT
        assert len(embed.description or "") <= render.DESCRIPTION_LIMIT
        assert len(embed.footer.text or "") <= render.FOOTER_LIMIT
        assert len(embed.fields) <= render.MAX_FIELDS
        for item in embed.fields:
            assert item.name and item.name.strip() and len(item.name) <= render.FIELD_NAME_LIMIT
            assert item.value and item.value.strip() and len(item.value) <= render.FIELD_VALUE_LIMIT
    for text in _text_of(shown):
        assert "](" not in text, f"a masked link got through: {text[:200]!r}"
    mentions = shown.allowed_mentions
    assert (mentions.everyone, mentions.roles, mentions.replied_user) == (False, False, False)
    assert kwargs["allowed_mentions"] is mentions
    carried = [b for b in getattr(action, "buttons", ()) if render.carries(b)]
    if shown.view is not None:
        items = shown.view.children
        assert len(items) == min(len(carried), 25)
        for item in items:
            assert isinstance(item, render.StewardButton)
            label = item.item.label or ""
            assert 1 <= len(label) <= 80 and label.strip(), f"button label {label!r}"
            assert len(item.item.custom_id or "") <= render.CUSTOM_ID_LIMIT
    else:
        assert carried == []
    return reasons(records)


TARGETS = [
    Target("discord events (messages, edits, deletes, reactions, joins)", discord_inputs, check_discord_input),
    Target("discord interactions (commands, clicks, custom ids)", discord_interactions, check_discord_interaction),
    Target("discord render (content, embeds, views)", outbound_actions("discord:42"), check_discord_render),
]


@FUZZ
@given(discord_inputs)
def test_any_gateway_input_becomes_its_event_or_is_dropped_with_a_reason(case: tuple[str, Any, bool]) -> None:
    check_discord_input(case)


@FUZZ
@given(discord_interactions)
def test_any_interaction_gives_a_well_typed_command_and_click(case: Any) -> None:
    check_discord_interaction(case)


@FUZZ
@given(outbound_actions("discord:42"))
def test_embeds_and_content_stay_within_limits_and_never_ping_everyone(action: Action) -> None:
    check_discord_render(action)


def test_a_deleted_custom_emoji_is_named_by_its_id_not_none() -> None:
    raw = NS(guild_id=1, message_id=2, user_id=3, channel_id=4, emoji=discord.PartialEmoji(name=None, id=55),
             event_type="REACTION_ADD")
    event = translate.reaction(raw, NOW)
    assert event is not None and event.emoji == "55"


def test_a_workspace_id_with_other_digits_is_no_guild() -> None:
    assert translate.guild_of("discord:²") is None and translate.guild_of("discord:" + "9" * 5000) is None
    assert translate.guild_of("discord:42") == 42


def test_lists_of_the_wrong_type_read_as_empty() -> None:
    message = objects({"id": 5, "guild": {"id": 1, "system_channel": None}, "channel": {"id": 2, "type": "text"},
                       "author": {"id": 3, "bot": False, "display_name": "a", "name": "a"}, "content": "hi",
                       "created_at": NOW, "reference": None, "raw_mentions": 7, "type": discord.MessageType.default})
    event = translate.message_posted(message)
    assert event is not None and event.mentions == ()
    interaction = objects({"guild_id": 1, "channel": None, "user": {"id": 3, "guild_permissions": None, "roles": True},
                           "locale": None, "message": None})
    command = translate.command_invoked(interaction, "help", at=NOW, facilitator_role="Facilitator")
    assert command is not None and not command.is_admin
