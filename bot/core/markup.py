"""Chat markup shared by adapters, rules and reports: mentions as Slack and Discord write them, and quoting.

Quoting member text in Steward's own messages (flags, nudges, digests, escalations) must never let that text
speak with Steward's voice: `defuse` turns broadcast mentions (`<!channel>`, `<!here>`, `<!everyone>`,
Discord's `@everyone`/`@here`), user, group and role mentions, and links whose label hides their target into
plain text that reads the same but notifies nobody and shows where a link goes.
"""

from __future__ import annotations

import re

_MENTION = re.compile(r"<@!?([A-Za-z0-9_.-]+)(?:\|[^>]*)?>")
_ANGLED = re.compile(r"<([^<>]*)>")  # Slack's and Discord's markup: <@U1>, <!here>, <#C1>, <https://x|label>
_LINK = re.compile(r"(?:[a-z][a-z0-9+.-]*://|mailto:|tel:)", re.IGNORECASE)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # with a "|label", any scheme may be taken for a link
_MASKED_LINK = re.compile(r"\[([^\[\]]*)\]\(\s*([^()\s]+)(?:\s+\"[^\"()]*\")?\s*\)")  # [label](target "title")
_BROADCAST = re.compile(r"@(everyone|here|channel)", re.IGNORECASE)
_BROADCAST_NAMES = frozenset({"everyone", "here", "channel"})
MAX_NESTING = 8
ZERO_WIDTH_SPACE = "\u200b"  # after "@": reads as "@everyone", and no platform takes it for the mention


def mentions(text: str) -> tuple[str, ...]:
    """User ids mentioned as `<@U123>` (Slack) or `<@123>` / `<@!123>` (Discord), in order, without repeats."""
    if "<@" not in text:
        return ()  # most lines mention nobody
    return tuple(dict.fromkeys(_MENTION.findall(text)))


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, a cut marked with "…" (platforms reject texts over their limits)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def excerpt(text: str, limit: int = 200) -> str:
    """A message on one line, clipped and defused: how DMs, digests and reports quote a question."""
    text = " ".join(defuse(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def defuse(text: str) -> str:
    """Member text made safe to quote in Steward's own messages: it mentions nobody and hides no link target.

    `<!channel>` becomes "@channel" that notifies nobody, `<@U1|ana>` "@ana", `<https://x|label>` and `[label](x)`
    "label (x)". Markup nested inside markup is unwrapped level by level; text nested deeper than anyone writes
    by accident loses its angle brackets altogether, which keeps the work linear in the text's length. Channel
    references (`<#C1>`) stay: they notify nobody and point where they say.
    """
    for _ in range(MAX_NESTING):
        unwrapped = _MASKED_LINK.sub(_unmasked, _ANGLED.sub(_plain, text))
        if unwrapped == text:
            break
        text = unwrapped
    else:
        text = text.replace("<", "‹").replace(">", "›").replace("](", "] (")
    return _BROADCAST.sub(lambda m: "@" + ZERO_WIDTH_SPACE + m.group(1), text)


def _plain(match: re.Match[str]) -> str:
    """One piece of angle-bracket markup as plain text (or unchanged when it can neither notify nor mislead)."""
    inner = match.group(1)
    if inner.startswith("!"):  # <!here>, <!channel|channel>, <!subteam^S1|@team>, <!date^…|fallback>
        name, _, label = inner[1:].partition("|")
        if name.lower() in _BROADCAST_NAMES:
            return "@" + ZERO_WIDTH_SPACE + name
        if name.startswith("subteam^"):
            return "@" + ZERO_WIDTH_SPACE + (label.lstrip("@") or "group")
        return label or name.split("^", 1)[0]
    if inner.startswith("@"):  # <@U1>, <@U1|ana>, Discord's <@1>, <@!1>, <@&role>
        who, _, label = inner[1:].partition("|")
        return "@" + (label.lstrip("@") or who.lstrip("!&"))
    if _LINK.match(inner) or ("|" in inner and _SCHEME.match(inner)):  # <https://x>, <https://x|label>
        target, _, label = inner.partition("|")
        return _labelled(target, label)
    return match.group(0)


def _unmasked(match: re.Match[str]) -> str:
    return _labelled(match.group(2), match.group(1))


def _labelled(target: str, label: str) -> str:
    """A link as "label (target)", so the label can never pass for a different target."""
    label = label.strip()
    return target if not label or label == target else f"{label} ({target})"
