"""Steward -> Discord: what to send for an action (content, an embed for a Card, a view with buttons).

Pure apart from building discord.py objects. Buttons carry their meaning in the custom id,
"steward:<action>:<value>", so they keep working after a restart: `StewardButton` is a dynamic item that
discord.py re-creates from the custom id of any click, whichever process posted the message.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.core.actions import Action, Button, Card
from bot.core.markup import clip

logger = logging.getLogger(__name__)

CONTENT_LIMIT = 2000
CUSTOM_ID_LIMIT = 100
CUSTOM_ID = re.compile(r"steward:(?P<action>[a-z_]+):(?P<value>.+)")
_STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger}

ClickHandler = Callable[[discord.Interaction[Any], str, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Rendered:
    """The arguments for `send`/`edit`: None means "leave out"."""

    content: str | None
    embed: discord.Embed | None
    view: discord.ui.View | None


def custom_id(action: str, value: str) -> str:
    return f"steward:{action}:{value}"


def nonce(key: str) -> str:
    """A deterministic nonce from an action's key: Discord drops a second message with the same nonce."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:25]


class StewardButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID):
    """A flag button; a click is handed to the client's `steward_click` handler (the adapter's)."""

    def __init__(self, action: str, value: str, label: str = "", style: str = "default") -> None:
        super().__init__(
            discord.ui.Button(
                label=clip(label or action, 80),
                style=_STYLES.get(style, discord.ButtonStyle.secondary),
                custom_id=custom_id(action, value),
            )
        )
        self.action = action
        self.value = value

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: discord.Interaction[Any], item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> StewardButton:
        return cls(match["action"], match["value"], item.label or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler: ClickHandler | None = getattr(interaction.client, "steward_click", None)
        if handler is None:
            logger.error("a Steward button was clicked but no handler is installed")
            return
        await handler(interaction, self.action, self.value)


def embed(card: Card) -> discord.Embed:
    """A Card as an embed, within Discord's size limits."""
    description = "\n".join(_bold_headings(section) for section in card.sections)
    result = discord.Embed(
        title=clip(card.title, 256) if card.title else None,
        description=clip(description, 4096) if card.sections else None,
    )
    for name, value in card.fields[:25]:
        result.add_field(name=clip(name, 256) or "-", value=clip(value, 1024) or "-", inline=True)
    if card.footer:
        result.set_footer(text=clip(card.footer, 2048))
    return result


_HEADING = re.compile(r"^\*([^*\n]+)\*$", re.MULTILINE)


def _bold_headings(section: str) -> str:
    """A card's heading line is written `*Steps*` (bold on Slack); Discord reads one star as italics."""
    return _HEADING.sub(r"**\1**", section)


def view(buttons: Sequence[Button]) -> discord.ui.View | None:
    """A persistent view (no timeout) with one dynamic button per Steward button; None without buttons."""
    usable = [b for b in buttons if len(custom_id(b.action, b.value)) <= CUSTOM_ID_LIMIT]
    if len(usable) < len(buttons):
        logger.warning(
            "dropped %d button(s) whose custom id exceeds Discord's limit", len(buttons) - len(usable)
        )
    if not usable:
        return None
    result = discord.ui.View(timeout=None)
    for button in usable[:25]:
        result.add_item(StewardButton(button.action, button.value, button.label, button.style))
    return result


def render(action: Action) -> Rendered:
    """Content, embed and view for any action that carries text."""
    text = str(getattr(action, "text", "") or "")
    card: Card | None = getattr(action, "card", None)
    buttons: Sequence[Button] = getattr(action, "buttons", ())
    return Rendered(
        content=clip(text, CONTENT_LIMIT) if text else None,
        embed=embed(card) if card is not None else None,
        view=view(buttons),
    )


def jump_url(guild_id: int | str, channel_id: int | str, message_id: int | str) -> str:
    """A link that opens a message in the Discord client."""
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"
