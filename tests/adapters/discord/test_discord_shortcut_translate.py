"""The "Record decision" and "Make an idea" message menus as discord.py hands them over, translated into the
`/steward` command each one stands for."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace as NS

import discord

from adapters.discord import translate
from bot.commands import split_args
from bot.core.events import CommandInvoked

AT = datetime(2024, 3, 4, 9, tzinfo=UTC)
TEXT = NS(id=5, type=discord.ChannelType.text)
THREAD = NS(id=301, parent_id=5, type=discord.ChannelType.public_thread)


def clicked(channel: NS, *, locale: str = "de") -> NS:
    member = NS(id=8, guild_permissions=NS(manage_guild=False, administrator=False), roles=[])
    return NS(guild_id=42, channel=channel, user=member, locale=discord.Locale(locale))


def menu(command: str, message: NS, interaction: NS) -> CommandInvoked:
    event = translate.message_shortcut(interaction, message, command, at=AT, facilitator_role="")
    assert event is not None
    return event


def test_record_decision_on_a_thread_message_is_decide_in_that_thread_titled_from_the_message() -> None:
    reply = NS(id=400, channel=THREAD, content="Wir machen das so: Teams für den Kickoff, weil alle es haben.")
    event = menu("decide", reply, clicked(THREAD))
    assert (event.workspace, event.channel, event.thread, event.user) == ("discord:42", "5", "301", "8")
    assert split_args(event.args)[0] == "decide" and len(split_args(event.args)) == 2
    assert event.user_language == "de" and not event.is_admin


def test_record_decision_outside_a_thread_makes_the_message_its_root() -> None:
    root = NS(id=100, channel=TEXT, content="Where do we hold the kickoff? Teams or the big room.")
    event = menu("decide", root, clicked(TEXT))
    assert (event.channel, event.thread) == ("5", "100")
    assert split_args(event.args) == ["decide", "Where do we hold the kickoff?"]


def test_make_an_idea_carries_the_message_and_posts_in_its_channel() -> None:
    message = NS(id=400, channel=THREAD, content="Book rooms through\na shared calendar, it's 'easy'")
    event = menu("idea", message, clicked(THREAD))
    assert event.channel == "5"
    assert split_args(event.args) == ["idea", "Book rooms through a shared calendar, it's 'easy'"]


def test_a_message_without_readable_text_or_id_is_answered_not_raised() -> None:
    no_text = menu("idea", NS(id=100, channel=TEXT, content=None), clicked(TEXT))
    assert no_text.args == "idea"
    assert translate.message_shortcut(clicked(TEXT), NS(id="x", channel=TEXT, content="hi"), "decide", at=AT,
                                      facilitator_role="") is None

