"""Steward actions -> Slack Web API calls: Block Kit with a plain-text fallback. Pure functions.

Buttons carry `action_id` = the Steward action and `value` = its subject (a question id), so a click comes
back through `translate.translate_block_actions` as the same InteractionClicked the rule expects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from adapters.slack.translate import ACTION_SUFFIX
from bot.core.actions import (
    Action,
    AddReaction,
    Button,
    Card,
    PinMessage,
    PostEphemeral,
    PostMessage,
    SendDirectMessage,
    UpdateMessage,
    action_text,
)
from bot.core.markup import clip

# Block Kit limits (docs: "Block Kit reference"): longer content is cut, never rejected by Slack.
SECTION_CHARS = 3000
HEADER_CHARS = 150
FIELD_CHARS = 2000
MAX_FIELDS = 10
BUTTON_LABEL_CHARS = 75
BUTTON_VALUE_CHARS = 2000
MAX_BUTTONS = 25
MAX_BLOCKS = 50
FALLBACK_CHARS = 40000

# Slack markup Steward writes on purpose: mentions, channels, special mentions and links.
_MARKUP = re.compile(r"<(?:[@#!][^<>\s]+|https?://[^<>\s]+)>")


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Web API request: the method name and its arguments."""

    method: str
    params: dict[str, Any] = field(default_factory=dict)


def escape(text: str) -> str:
    """Escape `&`, `<`, `>` as Slack requires, keeping Steward's own `<@U1>`/`<#C1>` markup intact."""
    out, last = [], 0
    for match in _MARKUP.finditer(text):
        out.append(_escape_plain(text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_escape_plain(text[last:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(escape(text), SECTION_CHARS)}


def card_blocks(card: Card) -> list[dict[str, Any]]:
    """A card as a header, its sections, its fields and a context footer."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(card.title, HEADER_CHARS), "emoji": True},
        }
    ]
    blocks.extend({"type": "section", "text": _mrkdwn(section)} for section in card.sections if section)
    if card.fields:
        fields = [
            {"type": "mrkdwn", "text": clip(f"*{escape(name)}*\n{escape(value)}", FIELD_CHARS)}
            for name, value in card.fields[:MAX_FIELDS]
        ]
        blocks.append({"type": "section", "fields": fields})
    if card.footer:
        blocks.append({"type": "context", "elements": [_mrkdwn(card.footer)]})
    return blocks


def button_elements(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    """Buttons with unique action_ids (Slack requires it within a block): repeats get a `#n` suffix."""
    seen: dict[str, int] = {}
    elements = []
    for button in buttons[:MAX_BUTTONS]:
        count = seen[button.action] = seen.get(button.action, 0) + 1
        action_id = button.action if count == 1 else f"{button.action}{ACTION_SUFFIX}{count}"
        element: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": clip(button.label, BUTTON_LABEL_CHARS), "emoji": True},
            "value": button.value[:BUTTON_VALUE_CHARS],
        }
        if button.style in ("primary", "danger"):
            element["style"] = button.style
        elements.append(element)
    return elements


def blocks(text: str, card: Card | None = None, buttons: tuple[Button, ...] = ()) -> list[dict[str, Any]]:
    """The Block Kit body of a message: its text, its card, its buttons."""
    result: list[dict[str, Any]] = []
    if text:
        result.append({"type": "section", "text": _mrkdwn(text)})
    if card is not None:
        result.extend(card_blocks(card))
    if buttons:
        result.append({"type": "actions", "elements": button_elements(buttons)})
    return result[:MAX_BLOCKS]


def fallback(action: Action) -> str:
    """The plain text shown in notifications and by clients that cannot show blocks."""
    return clip(escape(action_text(action)), FALLBACK_CHARS)


def _message_params(
    action: PostMessage | PostEphemeral | SendDirectMessage | UpdateMessage,
) -> dict[str, Any]:
    """Blocks for clients that show them, the plain text for notifications and the rest."""
    return {
        "text": fallback(action),
        "blocks": blocks(action.text, action.card, getattr(action, "buttons", ())),
    }


def post_message(action: PostMessage) -> ApiCall:
    params = {"channel": action.channel, **_message_params(action)}
    if action.thread:
        params["thread_ts"] = action.thread
    return ApiCall("chat.postMessage", params)


def post_ephemeral(action: PostEphemeral) -> ApiCall:
    return ApiCall(
        "chat.postEphemeral", {"channel": action.channel, "user": action.user, **_message_params(action)}
    )


def direct_message(action: SendDirectMessage, dm_channel: str) -> ApiCall:
    """A DM is a post in the member's IM channel (opened with conversations.open)."""
    return ApiCall("chat.postMessage", {"channel": dm_channel, **_message_params(action)})


def update_message(action: UpdateMessage, channel: str, ts: str) -> ApiCall:
    return ApiCall("chat.update", {"channel": channel, "ts": ts, **_message_params(action)})


def pin_message(action: PinMessage) -> ApiCall:
    return ApiCall("pins.add", {"channel": action.channel, "timestamp": action.message_id})


def add_reaction(action: AddReaction) -> ApiCall:
    return ApiCall(
        "reactions.add",
        {"channel": action.channel, "timestamp": action.message_id, "name": action.emoji.strip(":")},
    )


def respond_payload(action: PostEphemeral) -> dict[str, Any]:
    """A private reply sent through a request's response_url (slash commands, clicks)."""
    return {"response_type": "ephemeral", "replace_original": False, **_message_params(action)}
