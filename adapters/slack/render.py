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

# Block Kit limits (docs: "Block Kit reference"): longer content is cut with an ellipsis or spread over more
# blocks, never rejected by Slack.
SECTION_CHARS = 3000
HEADER_CHARS = 150
FIELD_CHARS = 2000
MAX_FIELDS = 10
BUTTON_LABEL_CHARS = 75
BUTTON_VALUE_CHARS = 2000
ACTION_ID_CHARS = 255
MAX_BUTTONS = 25
MAX_BLOCKS = 50
FALLBACK_CHARS = 40000
ELLIPSIS = "…"

# The only Slack markup Steward writes: user and channel mentions, and bare links. Anything else in a text,
# `<!channel>`, `<!here>`, `<!subteam^…>` or a link with a label (which could show one address and open
# another), came from chat and is escaped, so quoting a member never pings a channel or disguises a link.
_MARKUP = re.compile(
    r"<(?:[@#][A-Za-z0-9_.-]{1,64}(?:\|[^<>|\n]{0,100})?"
    r"|(?P<url>https?://[^<>|\s]{1,1000})(?:\|[^<>]*)?)>"
)
# Slack sends `&`, `<` and `>` in message text already escaped; quoting such text keeps these entities as they
# are (escaping them again would show members `&lt;`).
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_TOKEN = re.compile(f"{_MARKUP.pattern}|{_ENTITY.pattern}")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Web API request: the method name and its arguments."""

    method: str
    params: dict[str, Any] = field(default_factory=dict)


Piece = tuple[str, bool]  # escaped text, and whether it must stay whole (a mention, a link, an entity)


def _pieces(text: str) -> list[Piece]:
    """`text` escaped, as runs of plain text (which may be cut between entities) and markup kept whole."""
    pieces: list[Piece] = []
    last = 0
    for match in _TOKEN.finditer(text):
        if match.start() > last:
            pieces.append((_escape_plain(text[last : match.start()]), False))
        url = match.group("url")
        pieces.append((f"<{url}>" if url else match.group(0), True))
        last = match.end()
    if last < len(text):
        pieces.append((_escape_plain(text[last:]), False))
    return pieces


def _escape_plain(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape(text: str) -> str:
    """Escape `&`, `<`, `>` as Slack requires, keeping Steward's own `<@U1>`/`<#C1>` markup intact."""
    return "".join(piece for piece, _ in _pieces(text))


def _clip_pieces(pieces: list[Piece], limit: int) -> str:
    """At most `limit` characters of escaped text, never cutting markup or an entity, marked with an ellipsis."""
    if sum(len(piece) for piece, _ in pieces) <= limit:
        return "".join(piece for piece, _ in pieces)
    room = limit - len(ELLIPSIS)
    kept = []
    for piece, whole in pieces:
        if len(piece) <= room:
            kept.append(piece)
            room -= len(piece)
            continue
        if not whole:
            kept.append(_cut(piece, room))
        break
    return "".join(kept) + ELLIPSIS


def _cut(run: str, room: int) -> str:
    """The first `room` characters of an escaped run, shortened so that no entity is cut in two."""
    amp = run.rfind("&", max(0, room - 4), room)
    if amp != -1 and amp + (5 if run.startswith("&amp;", amp) else 4) > room:
        return run[:amp]
    return run[:room]


def clip_mrkdwn(text: str, limit: int) -> str:
    """`text` escaped, at most `limit` characters long."""
    return _clip_pieces(_pieces(text), limit)


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def card_blocks(card: Card) -> list[dict[str, Any]]:
    """A card as a header, its sections, its fields and a context footer; empty parts are left out."""
    blocks: list[dict[str, Any]] = []
    if card.title.strip():
        blocks.append({"type": "header", "text": _plain(card.title, HEADER_CHARS)})
    blocks.extend(_section(clip_mrkdwn(section, SECTION_CHARS)) for section in card.sections if section.strip())
    fields = [
        {"type": "mrkdwn", "text": _field(name, value)} for name, value in card.fields
    ]
    blocks.extend(
        {"type": "section", "fields": fields[i : i + MAX_FIELDS]} for i in range(0, len(fields), MAX_FIELDS)
    )
    if card.footer.strip():
        footer = {"type": "mrkdwn", "text": clip_mrkdwn(card.footer, SECTION_CHARS)}
        blocks.append({"type": "context", "elements": [footer]})
    return blocks


def _field(name: str, value: str) -> str:
    """A card field: its name in bold over its value."""
    return _clip_pieces([("*", True), *_pieces(name), ("*\n", True), *_pieces(value)], FIELD_CHARS)


def button_elements(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    """Buttons with unique action_ids (Slack requires it within a block): repeats get a `#n` suffix."""
    seen: dict[str, int] = {}
    elements = []
    for button in buttons[:MAX_BUTTONS]:
        base = button.action[: ACTION_ID_CHARS - 4] or "button"
        count = seen[base] = seen.get(base, 0) + 1
        action_id = base if count == 1 else f"{base}{ACTION_SUFFIX}{count}"
        label = button.label if button.label.strip() else base if base.strip() else ELLIPSIS
        element: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "text": _plain(label, BUTTON_LABEL_CHARS),
        }
        if button.value:
            element["value"] = button.value[:BUTTON_VALUE_CHARS]
        if button.style in ("primary", "danger"):
            element["style"] = button.style
        elements.append(element)
    return elements


def blocks(text: str, card: Card | None = None, buttons: tuple[Button, ...] = ()) -> list[dict[str, Any]]:
    """The Block Kit body of a message: its text, its card, its buttons, in at most MAX_BLOCKS blocks.

    When there are more blocks than Slack takes, neighbouring sections are joined, and only then is the end
    cut (the buttons always stay: they are what a flag is for)."""
    body = [_section(clip_mrkdwn(text, SECTION_CHARS))] if text.strip() else []
    if card is not None:
        body.extend(card_blocks(card))
    actions = [{"type": "actions", "elements": button_elements(buttons)}] if buttons else []
    return _fit(body, MAX_BLOCKS - len(actions)) + actions


def _fit(body: list[dict[str, Any]], room: int) -> list[dict[str, Any]]:
    if len(body) <= room:
        return body
    joined: list[dict[str, Any]] = []
    for block in body:
        previous = joined[-1] if joined else None
        if previous is not None and _joinable(previous) and _joinable(block):
            text = f"{previous['text']['text']}\n\n{block['text']['text']}"
            if len(text) <= SECTION_CHARS:
                joined[-1] = _section(text)
                continue
        joined.append(block)
    if len(joined) <= room:
        return joined
    return [*joined[: room - 1], _section(ELLIPSIS)]


def _joinable(block: dict[str, Any]) -> bool:
    return block["type"] == "section" and "text" in block


def fallback(action: Action) -> str:
    """The plain text shown in notifications and by clients that cannot show blocks."""
    return clip_mrkdwn(action_text(action), FALLBACK_CHARS)


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
