"""Builders that make tests read like conversations."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.app.engine import Engine
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.core.events import CommandInvoked, MessagePosted, ReactionAdded
from bot.core.markup import mentions
from bot.rules import Rule
from bot.settings import Settings
from storage.db import create_engine
from storage.migrate import upgrade

WS = "console:test"


class LeaseClock:
    """The wall clock the leases of several replicas follow in a test; moving it lets a dead owner's lease expire."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 2, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


def at(text: str) -> datetime:
    """`at("2026-03-02 10:00")`: a UTC moment, for readable tests."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_ids = itertools.count(1)


def message(
    user: str,
    text: str,
    when: datetime,
    *,
    channel: str = "help",
    thread: str | None = None,
    reply_to: str | None = None,
    message_id: str | None = None,
    ws: str = WS,
) -> MessagePosted:
    return MessagePosted(
        workspace=ws,
        at=when,
        channel=channel,
        message_id=message_id or f"m{next(_ids)}",
        user=user,
        user_name=user,
        text=text,
        thread=thread,
        reply_to=reply_to,
        mentions=mentions(text),
    )


def reaction(user: str, message_id: str, emoji: str, when: datetime, ws: str = WS) -> ReactionAdded:
    return ReactionAdded(workspace=ws, at=when, message_id=message_id, user=user, emoji=emoji)


def command(
    user: str,
    args: str,
    when: datetime,
    *,
    channel: str = "help",
    thread: str | None = None,
    is_admin: bool = False,
    ws: str = WS,
) -> CommandInvoked:
    return CommandInvoked(
        workspace=ws, at=when, channel=channel, user=user, args=args, thread=thread, is_admin=is_admin
    )


async def community(
    settings: Settings,
    start: datetime,
    rules: Sequence[Rule] | None = None,
    *,
    timezone: str = "Europe/Berlin",
    language: str = "en",
) -> Engine:
    """An engine on a fresh database with the default rules (or the given ones) and a simulated clock."""
    clock = SimulatedClock(start)
    if rules is None:
        engine = await build_engine(settings, clock)
    else:
        await upgrade(settings.database_url)
        engine = Engine(create_engine(settings.database_url), settings, rules, clock)
        await engine.start()
    ws = engine.state.workspace(WS)
    ws.timezone, ws.language = timezone, language
    engine.state.touch_workspace(ws)
    return engine
