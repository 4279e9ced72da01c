"""A member's own nudge settings: their quiet hours and time zone, set in chat or on the portal's "my page".

`/steward settings quiet 20-7` (hours in the member's time zone; `off`: the community's again) and
`/steward settings timezone Europe/Berlin` (an IANA name; `auto`: the platform's again) are facts on the member:
stored, read by the etiquette for every nudge, invitation and follow-up (`etiquette.member_zone`,
`etiquette.quiet_hours`), and erased by "forget me" (`ERASED`). `/steward settings` alone shows them.

Reading what a member typed is pure and shared by the command and the portal, so both answer bad input with the
same one line and an example.
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Any, Literal

from babel import Locale
from babel.lists import format_list

from bot.changes import Set
from bot.core.actions import PostEphemeral
from bot.core.events import CommandInvoked
from bot.core.markup import excerpt
from bot.i18n import local_datetime, supported, time_of_day, translate
from bot.rules import Decision, RuleContext
from bot.settings import Settings
from bot.state import MemberState
from facilitation_rules.etiquette import member_zone, quiet_hours

QUIET_WORDS = frozenset({"quiet", "ruhezeit", "ruhezeiten"})
ZONE_WORDS = frozenset({"timezone", "tz", "zeitzone"})
WORDS = QUIET_WORDS | ZONE_WORDS  # `/steward settings WORD …` that concern the member, not the channel
OFF_WORDS = frozenset({"off", "aus"})
AUTO_WORDS = frozenset({"auto", "automatisch"})
# What "forget me" erases of these settings (the member's row stays, as every forgotten member's does).
ERASED: dict[str, Any] = {"quiet_start": None, "quiet_end": None, "chosen_timezone": None}
SUGGESTED = 3  # close time zone names offered for one that is not known
ECHOED_CHARS = 40  # what a member typed, quoted back on one short line
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})  # files of the zone database, not places
_SPAN = re.compile(r"(\d{1,2})(?::00)?\s*(?:-|–|—|to|bis)\s*(\d{1,2})(?::00)?", re.IGNORECASE)

Source = Literal["own", "platform", "community"]


class BadSetting(ValueError):
    """What a member typed is not a setting: `line` says so in one line, with an example."""

    def __init__(self, key: str, value: str = "", suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(key)
        self.key, self.value, self.suggestions = key, value, suggestions

    def line(self, language: str) -> str:
        return translate(self.key, language, **self.params(language))

    def params(self, language: str) -> dict[str, Any]:
        shown = excerpt(self.value, ECHOED_CHARS).replace("`", "'")
        return {"value": shown, "suggestions": either([f"`{zone}`" for zone in self.suggestions], language)}


# --- reading what a member typed (pure) -------------------------------------------------------------------------
def parse_quiet(text: str) -> tuple[int, int] | None:
    """Quiet hours from "20-7", "20:00-07:00", "22 bis 6"; None for `off`. Whole hours; the span may wrap midnight
    (24 is midnight too). Anything else raises `BadSetting`."""
    value = " ".join(text.split())
    if not value:
        raise BadSetting("own_settings.quiet_usage")
    if value.lower() in OFF_WORDS:
        return None
    found = _SPAN.fullmatch(value)
    if found is None:
        raise BadSetting("own_settings.bad_quiet", value)
    start, end = int(found.group(1)), int(found.group(2))
    if start > 24 or end > 24 or start % 24 == end % 24:
        raise BadSetting("own_settings.bad_quiet", value)
    return start % 24, end % 24


def parse_zone(text: str) -> str | None:
    """An IANA time zone name (any case: "europe/berlin" is Europe/Berlin); None for `auto`. An unknown name raises
    `BadSetting` with the closest known names."""
    value = " ".join(text.split())
    if not value:
        raise BadSetting("own_settings.zone_usage")
    if value.lower() in AUTO_WORDS:
        return None
    known = _zones_by_lower_name()
    wanted = value.replace(" ", "_").lower()
    if wanted in known:
        return known[wanted]
    suggestions = close_zones(value)
    raise BadSetting("own_settings.bad_zone" if suggestions else "own_settings.unknown_zone", value, suggestions)


def close_zones(value: str, limit: int = SUGGESTED) -> tuple[str, ...]:
    """Known zone names close to what was typed: the zones of a city named alone ("Berlin", "new york"), then the
    nearest spellings (difflib over `zoneinfo.available_timezones()`)."""
    wanted = value.replace(" ", "_").lower()
    known = _zones_by_lower_name()
    by_city = sorted(zone for lower, zone in known.items() if lower.rsplit("/", 1)[-1] == wanted.rsplit("/", 1)[-1])
    spelled = [known[lower] for lower in difflib.get_close_matches(wanted, list(known), n=limit, cutoff=0.6)]
    return tuple(dict.fromkeys([*by_city, *spelled]))[:limit]


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    return {zone.lower(): zone for zone in sorted(zoneinfo.available_timezones() - _NOT_ZONES)}


def either(items: Iterable[str], language: str) -> str:
    """Alternatives as the language offers them: "a, b, or c", "a, b oder c"."""
    listed = list(items)
    return format_list(listed, style="or", locale=supported(language)) if listed else ""


# --- what a member's settings are -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OwnSettings:
    """A member's nudge settings as they apply now, and where each comes from."""

    quiet: tuple[int, int]
    quiet_from: Source  # "own" or "community"
    timezone: str
    timezone_from: Source
    muted_until: datetime | None
    language: str | None  # the member's own language (the platform's), if Steward knows one


def own_settings(member: MemberState, settings: Settings, community_zone: str, now: datetime) -> OwnSettings:
    """What applies to the member: their own choices, else the platform's time zone, else the community's."""
    zone_from: Source = "own" if member.chosen_timezone else "platform" if member.timezone else "community"
    own_quiet = member.quiet_start is not None and member.quiet_end is not None
    return OwnSettings(
        quiet=quiet_hours(member, settings),
        quiet_from="own" if own_quiet else "community",
        timezone=member.chosen_timezone or member.timezone or community_zone or "UTC",
        timezone_from=zone_from,
        muted_until=member.muted_until if member.muted_until is not None and member.muted_until > now else None,
        language=member.language or None,
    )


def hours_text(quiet: tuple[int, int], language: str) -> str:
    """A span of quiet hours as the language writes times of day: "20:00–07:00"."""
    start, end = quiet
    return f"{time_of_day(time(start), language)}–{time_of_day(time(end), language)}"


def source_text(source: Source, platform: str, language: str) -> str:
    """Where a setting comes from: "your own choice", "from Slack", "the community's"."""
    if source == "platform":
        named = {"slack": "Slack", "discord": "Discord"}.get(platform) or translate(
            "own_settings.platform_profile", language
        )
        return translate("own_settings.source_platform", language, platform=named)
    return translate(f"own_settings.source_{source}", language)


def language_name(code: str, language: str) -> str:
    """A language's name in the reader's language ("German", "Deutsch")."""
    try:
        return str(Locale.parse(code.replace("-", "_")).get_display_name(supported(language)) or code)
    except (ValueError, TypeError):
        return code


def settings_lines(found: OwnSettings, platform: str, language: str) -> list[str]:
    """The member's settings, one line each, in their language, for the chat reply (the portal's my page shows the
    same parts, `hours_text` and `source_text`, in its own layout)."""

    def t(key: str, **params: Any) -> str:
        return translate(key, language, **params)

    lines = [
        t("own_settings.quiet_line", hours=hours_text(found.quiet, language),
          source=source_text(found.quiet_from, platform, language)),
        t("own_settings.zone_line", zone=found.timezone, source=source_text(found.timezone_from, platform, language)),
        t("own_settings.nudges_muted", until=local_datetime(found.muted_until, found.timezone, language))
        if found.muted_until is not None else t("own_settings.nudges_on"),
    ]
    if found.language:
        lines.append(t("own_settings.language_line", language=language_name(found.language, language),
                       source=source_text("platform", platform, language)))
    return [f"• {line}" for line in lines]


# --- the command --------------------------------------------------------------------------------------------------
def settings_text(event: CommandInvoked, ctx: RuleContext) -> str:
    """`/steward settings` alone: the member's own settings, and how to change them."""
    ws = ctx.workspace(event.workspace)
    language = ctx.language(event.workspace, event.user)
    found = own_settings(ctx.member(event.workspace, event.user), ctx.settings, ws.timezone, ctx.now)
    return "\n".join([
        translate("own_settings.title", language),
        *settings_lines(found, ws.platform, language),
        translate("own_settings.hint", language),
    ])


def settings_command(event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
    """`/steward settings [quiet 20-7|off | timezone ZONE|auto]`: the member's own settings, shown or changed."""
    if not args:
        return [_reply_text(event, ctx, "own_settings.title", settings_text(event, ctx))]
    word, value = args[0].lower(), " ".join(args[1:])
    try:
        if word in QUIET_WORDS:
            return set_quiet(event, value, ctx)
        if word in ZONE_WORDS:
            return set_zone(event, value, ctx)
        return [ctx.reply(event, "own_settings.usage")]
    except BadSetting as bad:
        return [ctx.reply(event, bad.key, **bad.params(ctx.language(event.workspace, event.user)))]


def set_quiet(event: CommandInvoked, value: str, ctx: RuleContext) -> Decision:
    """`settings quiet 20-7` keeps the member's own span; `off` lets the community's apply again."""
    ws, user = event.workspace, event.user
    span = parse_quiet(value)
    language = ctx.language(ws, user)
    if span is None:
        community = (ctx.settings.quiet_start_hour, ctx.settings.quiet_end_hour)
        return [
            Set.member(ws, user, quiet_start=None, quiet_end=None),
            ctx.reply(event, "own_settings.quiet_cleared", hours=hours_text(community, language)),
        ]
    start, end = span
    return [
        Set.member(ws, user, quiet_start=start, quiet_end=end),
        ctx.reply(event, "own_settings.quiet_saved", hours=hours_text(span, language),
                  zone=member_zone(ctx.member(ws, user), ctx)),
    ]


def set_zone(event: CommandInvoked, value: str, ctx: RuleContext) -> Decision:
    """`settings timezone Europe/Berlin` keeps the member's own zone; `auto` lets the platform's (else the
    community's) apply again."""
    ws, user = event.workspace, event.user
    zone = parse_zone(value)
    language = ctx.language(ws, user)
    if zone is None:
        after = replace(ctx.member(ws, user), chosen_timezone=None)
        source: Source = "platform" if after.timezone else "community"
        return [
            Set.member(ws, user, chosen_timezone=None),
            ctx.reply(event, "own_settings.zone_cleared", zone=member_zone(after, ctx),
                      source=source_text(source, ctx.workspace(ws).platform, language)),
        ]
    there = time_of_day(ctx.now.astimezone(zoneinfo.ZoneInfo(zone)).time(), language)
    return [
        Set.member(ws, user, chosen_timezone=zone),
        ctx.reply(event, "own_settings.zone_saved", zone=zone, time=there),
    ]


def _reply_text(event: CommandInvoked, ctx: RuleContext, key: str, text: str) -> PostEphemeral:
    """A private reply of several catalog lines (composed by the caller) under `key`."""
    return replace(ctx.reply(event, key), text=text)
