"""Chat markup shared by adapters and transcripts: mentions as Slack and Discord write them."""

from __future__ import annotations

import re

_MENTION = re.compile(r"<@!?([A-Za-z0-9_.-]+)(?:\|[^>]*)?>")


def mentions(text: str) -> tuple[str, ...]:
    """User ids mentioned as `<@U123>` (Slack) or `<@123>` / `<@!123>` (Discord), in order, without repeats."""
    return tuple(dict.fromkeys(_MENTION.findall(text)))
