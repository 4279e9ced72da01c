"""What Steward does, in the imperative. Rules return these; the delivery worker renders them per platform.

Every outbound action carries `key`, its idempotency key: deciding the same thing twice (a retried event, a
second replica, a replay) yields one outbox row and so one message.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Button:
    """A button on a Steward message; clicking it comes back as InteractionClicked(action, value)."""

    action: str  # claim | solved | not_a_question | ...
    label: str
    value: str
    style: str = "default"  # default | primary | danger


@dataclass(frozen=True, slots=True)
class Card:
    """Structured content rendered as Block Kit on Slack, an embed on Discord and plain text elsewhere."""

    title: str
    sections: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    footer: str = ""

    def as_text(self) -> str:
        lines = [self.title, *self.sections, *(f"{name}: {value}" for name, value in self.fields)]
        if self.footer:
            lines.append(self.footer)
        return "\n".join(line for line in lines if line)


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    type: ClassVar[str] = "action"
    key: str
    workspace: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **_plain(dataclasses.asdict(self))}


@dataclass(frozen=True, slots=True, kw_only=True)
class PostMessage(Action):
    type: ClassVar[str] = "post_message"
    channel: str
    text: str
    thread: str | None = None
    buttons: tuple[Button, ...] = ()
    card: Card | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PostEphemeral(Action):
    """A private answer to one member in a channel (slash command replies)."""

    type: ClassVar[str] = "post_ephemeral"
    channel: str
    user: str
    text: str
    card: Card | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendDirectMessage(Action):
    type: ClassVar[str] = "send_dm"
    user: str
    text: str
    buttons: tuple[Button, ...] = ()
    card: Card | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PinMessage(Action):
    type: ClassVar[str] = "pin_message"
    channel: str
    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddReaction(Action):
    type: ClassVar[str] = "add_reaction"
    channel: str
    message_id: str
    emoji: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateMessage(Action):
    """Edit a message Steward posted earlier, named by the key of the action that posted it."""

    type: ClassVar[str] = "update_message"
    channel: str
    original_key: str
    text: str
    buttons: tuple[Button, ...] = ()
    card: Card | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SetForumSolved(Action):
    """Apply the forum's "solved" tag to a forum post (Discord)."""

    type: ClassVar[str] = "set_forum_solved"
    channel: str
    thread: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PostFile(Action):
    """A short message with a document attached (the monthly sponsor report): a file upload on Slack, an
    attachment on Discord. `content` is the document's text (UTF-8), `filename` what readers download."""

    type: ClassVar[str] = "post_file"
    channel: str
    text: str
    filename: str
    content: str
    title: str = ""


ACTION_TYPES: dict[str, type[Action]] = {
    cls.type: cls
    for cls in (
        PostMessage, PostEphemeral, SendDirectMessage, PinMessage, AddReaction, UpdateMessage, SetForumSolved, PostFile
    )
}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def action_from_dict(data: dict[str, Any]) -> Action:
    """Rebuild an action stored in the outbox."""
    data = dict(data)
    cls = ACTION_TYPES[data.pop("type")]
    if "buttons" in data:
        data["buttons"] = tuple(Button(**b) for b in data["buttons"])
    if data.get("card"):
        card = dict(data["card"])
        data["card"] = Card(
            title=card["title"],
            sections=tuple(card.get("sections", ())),
            fields=tuple((str(f[0]), str(f[1])) for f in card.get("fields", ())),
            footer=card.get("footer", ""),
        )
    return cls(**data)


def action_text(action: Action) -> str:
    """The plain-text form of an action, for the console, logs and the replay report."""
    card = getattr(action, "card", None)
    text = getattr(action, "text", "")
    if card is not None:
        return f"{text}\n{card.as_text()}" if text else card.as_text()
    return str(text)


__all__ = [
    "ACTION_TYPES",
    "Action",
    "AddReaction",
    "Button",
    "Card",
    "PinMessage",
    "PostEphemeral",
    "PostFile",
    "PostMessage",
    "SendDirectMessage",
    "SetForumSolved",
    "UpdateMessage",
    "action_from_dict",
    "action_text",
]
