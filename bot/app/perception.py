"""Perception: the text models read each message before the rules decide about it.

Whether a message asks something and which earlier question it answers are judged by the question classifier
and the conversation tracker. The tracker is a running model of the channel: it learns from every line, so
feeding it is the engine's work, not a rule's. The rules read the outcome (`RuleContext.perception`); a
rule's test builds one with `perceive` as the engine does.
"""

from __future__ import annotations

from bot.core.events import MemberJoined, MessagePosted
from bot.rules import Perception, RuleContext
from facilitation_rules.questions import chat_line, is_facilitated
from facilitation_rules.text.questions import classify_question


def perceive(event: MessagePosted, ctx: RuleContext) -> Perception:
    """Classify a new top-level message and show it to the workspace's conversation tracker."""
    ws = event.workspace
    if event.bot or not is_facilitated(ctx, ws, event.channel):
        return Perception()
    tracker = ctx.state.tracker(ws)  # it learns the speaker's name as it reads the line
    opens_thread = event.thread in (None, event.message_id)
    verdict = (
        classify_question(event.text, ctx.workspace(ws).language)
        if opens_thread and not event.text.startswith("/")
        else None
    )
    asks = verdict is not None and verdict.is_question
    return Perception(verdict, tracker.read(chat_line(event), is_question=asks))


def perceive_join(event: MemberJoined, ctx: RuleContext) -> None:
    """A member joined: the tracker learns their name before they speak."""
    ctx.state.tracker(event.workspace).observe_join(event.channel, event.user, event.at)
