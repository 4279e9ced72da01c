"""Pure translation (Discord -> events) and rendering (actions -> Discord) on small stand-ins."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace as NS

import discord

from adapters.discord import render, translate
from adapters.discord.cli import invite_url
from bot.core.actions import Button, Card, PostMessage
from bot.core.events import ForumTagChanged, ReactionAdded, ReactionRemoved

AT = datetime(2024, 3, 4, 9, tzinfo=UTC)
GUILD = NS(id=42, system_channel=None)
AUTHOR = NS(id=7, bot=False, display_name="Alice")


def msg(channel: NS, **extra: object) -> NS:
    base = dict(id=100, guild=GUILD, channel=channel, author=AUTHOR, content="How do I get access?",
                created_at=AT, reference=None, raw_mentions=[9], type=discord.MessageType.default)
    return NS(**{**base, **extra})


def test_message_in_a_text_channel() -> None:
    event = translate.message_posted(msg(NS(id=5, type=discord.ChannelType.text)))
    assert event is not None
    assert (event.workspace, event.channel, event.thread, event.user, event.mentions) == (
        "discord:42", "5", None, "7", ("9",))


def test_forum_post_keeps_its_parent_and_is_its_own_thread() -> None:
    post = NS(id=100, parent_id=5, type=discord.ChannelType.public_thread)
    event = translate.message_posted(msg(post))
    assert event is not None and (event.channel, event.thread, event.message_id) == ("5", "100", "100")


def test_a_private_thread_is_a_private_channel_of_its_own() -> None:
    hidden = NS(id=300, parent_id=5, type=discord.ChannelType.private_thread)
    event = translate.message_posted(msg(hidden))
    assert event is not None
    assert (event.channel, event.thread, event.channel_private) == ("300", None, True)
    public = translate.message_posted(msg(NS(id=301, parent_id=5, type=discord.ChannelType.public_thread)))
    assert public is not None and (public.channel, public.thread, public.channel_private) == ("5", "301", None)


def test_reply_becomes_reply_to_and_system_messages_and_dms_are_skipped() -> None:
    reply = msg(NS(id=5, type=discord.ChannelType.text), reference=NS(message_id=99), type=discord.MessageType.reply)
    assert translate.message_posted(reply).reply_to == "99"  # type: ignore[union-attr]
    assert translate.message_posted(msg(NS(id=5, type="text"), type=discord.MessageType.pins_add)) is None
    assert translate.message_posted(msg(NS(id=5, type="text"), guild=None)) is None


def test_reactions_use_short_names() -> None:
    emoji = NS(id=None, name="✅")
    raw = NS(guild_id=42, message_id=1, user_id=7, channel_id=5, emoji=emoji, event_type="REACTION_ADD")
    added = translate.reaction(raw, AT)
    assert isinstance(added, ReactionAdded) and added.emoji == "white_check_mark"
    removed = translate.reaction(NS(**{**vars(raw), "event_type": "REACTION_REMOVE"}), AT)
    assert isinstance(removed, ReactionRemoved)
    assert translate.emoji_char("white_check_mark") == "✅"


def test_solved_tag_changes() -> None:
    solved = translate.solved_tag_ids([NS(id=1, name="Solved"), NS(id=2, name="howto")], "solved")
    assert solved == {1}
    change = translate.forum_tag_changed([2], [1, 2], solved, guild_id=42, forum_id=5, thread_id=100, user_id=7,
                                         at=AT)
    assert isinstance(change, ForumTagChanged) and change.solved and change.thread == "100"
    assert translate.forum_tag_changed([2], [2], solved, guild_id=42, forum_id=5, thread_id=100, user_id=7,
                                       at=AT) is None


def test_edits_only_when_the_text_changed() -> None:
    channel = NS(id=5, type="text")
    assert translate.message_edited(42, 1, channel, {"content": "new"}, AT).text == "new"  # type: ignore[union-attr]
    assert translate.message_edited(42, 1, channel, {"embeds": []}, AT) is None


def test_facilitators_by_permission_or_role() -> None:
    plain = NS(guild_permissions=discord.Permissions.none(), roles=[NS(name="@everyone", id=1)])
    assert not translate.is_facilitator(plain, "Facilitator")
    assert translate.is_facilitator(NS(**{**vars(plain), "roles": [NS(name="facilitator", id=3)]}), "Facilitator")
    assert translate.is_facilitator(NS(guild_permissions=discord.Permissions(manage_guild=True), roles=[]), "x")


def test_commands_and_clicks_carry_the_interactions_own_id() -> None:
    """Steward stamps the time it received an interaction; the interaction's id is what a redelivery keeps."""
    plain = NS(guild_permissions=discord.Permissions.none(), roles=[], id=7)
    asked = NS(id=9001, guild_id=42, channel=NS(id=5, type=discord.ChannelType.text), user=plain, locale=None)
    first = translate.command_invoked(asked, "mute 2", at=AT, facilitator_role="Facilitator")
    again = translate.command_invoked(asked, "mute 2", at=AT.replace(minute=3), facilitator_role="Facilitator")
    assert first is not None and again is not None and first.key == again.key == "command:9001"
    clicked = translate.interaction_clicked(NS(**{**vars(asked), "message": NS(id=300)}), "solved", "100",
                                            at=AT, facilitator_role="Facilitator")
    assert clicked is not None and clicked.key == "clicked:9001:solved:100"
    unnamed = translate.command_invoked(NS(**{**vars(asked), "id": None}), "mute 2", at=AT, facilitator_role="x")
    assert unnamed is not None and unnamed.delivery_id is None and unnamed.key.startswith("command:5:7:")


def test_card_and_buttons_render_as_embed_and_persistent_view() -> None:
    action = PostMessage(key="flag:1", workspace="discord:42", channel="5", text="Can anyone help?",
                         card=Card(title="T", sections=("a", "b"), fields=(("k", "v"),), footer="f"),
                         buttons=(Button("claim", "I'll take it", "100", "primary"),))
    shown = render.render(action)
    assert shown.content == "Can anyone help?"
    assert shown.embed is not None and shown.embed.description == "a\nb" and shown.embed.footer.text == "f"
    assert shown.view is not None and shown.view.timeout is None and shown.view.is_persistent()
    assert [c["custom_id"] for row in shown.view.to_components() for c in row["components"]] == ["steward:claim:100"]
    assert render.nonce("flag:1") == render.nonce("flag:1") != render.nonce("flag:2")
    assert len(render.nonce("x")) <= 25


def test_invite_url_asks_for_the_needed_scopes_and_permissions() -> None:
    url = invite_url("123")
    assert "client_id=123" in url and "scope=bot+applications.commands" in url
    permissions = discord.Permissions(int(url.split("permissions=")[1].split("&")[0]))
    assert permissions.send_messages and permissions.pin_messages and not permissions.administrator
