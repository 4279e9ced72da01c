"""Chat markup shared by adapters, rules and reports: mentions as Slack and Discord write them, and quoting."""

from __future__ import annotations

import re

_MENTION = re.compile(r"<@!?([A-Za-z0-9_.-]+)(?:\|[^>]*)?>")


def mentions(text: str) -> tuple[str, ...]:
    """User ids mentioned as `<@U123>` (Slack) or `<@123>` / `<@!123>` (Discord), in order, without repeats."""
    return tuple(dict.fromkeys(_MENTION.findall(text)))


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, a cut marked with "…" (platforms reject texts over their limits)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def excerpt(text: str, limit: int = 200) -> str:
    """A message on one line, clipped: how DMs, digests and reports quote a question."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
