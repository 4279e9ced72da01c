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
BUTTON_LABEL_LIMIT = 80
# Embed limits (docs: "Embed Limits"): each part has its own, and all of an embed's text together at most 6,000.
EMBED_TOTAL = 6000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
MAX_FIELDS = 25
FOOTER_LIMIT = 2048
CUSTOM_ID = re.compile(r"steward:(?P<action>[a-z_]+):(?P<value>.*)", re.DOTALL)
# Steward pings the members it names (`<@id>`), never everyone, a role, or the author of a message it replies to,
# whatever chat text it quotes: `@everyone` in a quoted question stays text.
ALLOWED_MENTIONS = discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=False)
# A masked link, `[text](url)`: Steward writes none, so one in its output came from chat and could show one address
# while opening another. Escaping its parenthesis leaves the text readable and the link inert.
_MASKED_LINK, _INERT_LINK = "](", "]\\("
_STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger}

ClickHandler = Callable[[discord.Interaction[Any], str, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Rendered:
    """The arguments for `send`/`edit`: None means "leave out"."""

    content: str | None
    embed: discord.Embed | None
    view: discord.ui.View | None
    allowed_mentions: discord.AllowedMentions = ALLOWED_MENTIONS


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
                label=clip(label if label.strip() else action or "?", BUTTON_LABEL_LIMIT),
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


def inert(text: str) -> str:
    """Chat text as Steward may show it: masked links made plain text."""
    return text.replace(_MASKED_LINK, _INERT_LINK)


def embed(card: Card) -> discord.Embed:
    """A Card as an embed, within Discord's size limits: each part clipped, and what exceeds the embed's total
    taken from the end (the footer, then the last fields)."""
    budget = EMBED_TOTAL
    title = _shown(card.title, TITLE_LIMIT, budget)
    budget -= len(title)
    description = _shown("\n".join(_bold_headings(s) for s in card.sections), DESCRIPTION_LIMIT, budget)
    budget -= len(description)
    result = discord.Embed(title=title or None, description=description or None)
    for name, value in card.fields[:MAX_FIELDS]:
        if budget < 2:
            break
        field_name = _shown(name, FIELD_NAME_LIMIT, budget - 1) or "-"
        budget -= len(field_name)
        field_value = _shown(value, FIELD_VALUE_LIMIT, budget) or "-"
        budget -= len(field_value)
        result.add_field(name=field_name, value=field_value, inline=True)
    footer = _shown(card.footer, FOOTER_LIMIT, budget)
    if footer:
        result.set_footer(text=footer)
    return result


def _shown(text: str, limit: int, room: int) -> str:
    """Text for one part of an embed: inert, clipped to the part's limit and to the room left; "" if blank."""
    return clip(inert(text), min(limit, room)) if text.strip() and room > 0 else ""


_HEADING = re.compile(r"^\*([^*\n]+)\*$", re.MULTILINE)


def _bold_headings(section: str) -> str:
    """A card's heading line is written `*Steps*` (bold on Slack); Discord reads one star as italics."""
    return _HEADING.sub(r"**\1**", section)


def carries(button: Button) -> bool:
    """Whether a click on this button comes back as itself: its custom id fits and matches the template."""
    identifier = custom_id(button.action, button.value)
    return len(identifier) <= CUSTOM_ID_LIMIT and CUSTOM_ID.fullmatch(identifier) is not None


def view(buttons: Sequence[Button]) -> discord.ui.View | None:
    """A persistent view (no timeout) with one dynamic button per Steward button; None without buttons."""
    usable = [b for b in buttons if carries(b)]
    if len(usable) < len(buttons):
        logger.warning(
            "dropped %d button(s) whose custom id Discord cannot carry (over %d characters, or an action that "
            "is not a lowercase word)",
            len(buttons) - len(usable),
            CUSTOM_ID_LIMIT,
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
        content=clip(inert(text), CONTENT_LIMIT) if text.strip() else None,
        embed=embed(card) if card is not None else None,
        view=view(buttons),
    )


def jump_url(guild_id: int | str, channel_id: int | str, message_id: int | str) -> str:
    """A link that opens a message in the Discord client."""
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"
