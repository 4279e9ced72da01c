"""The App Home tab: a member's open questions, the questions waiting for their expertise, what they helped
with, their settings.

Built from the in-memory community state, plus the member's contributions when the adapter read them from the
store (the same summary as `/steward me`).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from adapters.slack.render import SECTION_CHARS, clip_mrkdwn, escape
from bot.core.markup import excerpt
from bot.core.recognition import Contributions
from bot.i18n import local_datetime, supported, time_of_day, translate
from bot.state import CommunityState, QuestionState
from facilitation_rules.recognition import contribution_sections

LISTED = 10
EXCERPT = 120


def _line(question: QuestionState) -> str:
    return f"• <#{question.channel_id}> {escape(excerpt(question.text, EXCERPT))}"


def _section(title: str, lines: list[str], empty: str) -> list[dict[str, Any]]:
    body = "\n".join(lines[:LISTED]) if lines else empty
    return [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        # The lines are escaped already; clipping keeps an entity (`&amp;`) or a mention (`<#C1>`) whole.
        {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn(body, SECTION_CHARS)}},
        {"type": "divider"},
    ]


def home_view(
    state: CommunityState, workspace: str, user: str, *, now: datetime, contributions: Contributions | None = None
) -> dict[str, Any]:
    """The view published with views.publish when the member opens Steward's Home tab."""
    member = state.members.get((workspace, user))
    lang = supported((member.language if member else None) or state.workspace(workspace).language)
    own_zone = (member.chosen_timezone or member.timezone) if member else None  # the member's choice, else Slack's
    zone = own_zone or state.workspace(workspace).timezone or "UTC"

    def t(key: str, **params: Any) -> str:
        return translate(key, lang, **params)

    mine = sorted(
        (q for q in state.unresolved.values() if q.workspace_id == workspace and q.asker_id == user),
        key=lambda q: q.asked_at,
        reverse=True,
    )
    waiting = sorted(
        (
            q
            for q in state.awaiting.values()
            if q.workspace_id == workspace
            and q.asker_id != user
            and not q.followup  # asked inside a running conversation: it is not routed to experts
            and user in {*q.suggested_experts, *q.nudged_experts}
        ),
        key=lambda q: q.asked_at,
    )
    if member is not None and member.muted_until is not None and member.muted_until > now:
        mute = t("slack.home.muted_until", until=local_datetime(member.muted_until, zone, lang))
    else:
        mute = t("slack.home.not_muted")
    quiet_start = member.quiet_start if member and member.quiet_start is not None else None
    quiet_end = member.quiet_end if member and member.quiet_end is not None else None
    quiet = (
        t("slack.home.quiet_hours", start=time_of_day(time(quiet_start), lang), end=time_of_day(time(quiet_end), lang))
        if quiet_start is not None and quiet_end is not None
        else t("slack.home.quiet_default")
    )
    helped: list[dict[str, Any]] = []
    if contributions is not None:
        sections = contribution_sections(contributions, lang, quote=escape, timezone=zone)
        helped = _section(t("recognition.home_title"), ["\n".join(sections)], "")
    blocks = [
        *_section(t("slack.home.mine"), [_line(q) for q in mine], t("slack.home.mine_none")),
        *_section(t("slack.home.waiting"), [_line(q) for q in waiting], t("slack.home.waiting_none")),
        *helped,
        *_section(t("slack.home.settings"), [mute, quiet], ""),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": t("slack.home.hint")}]},
    ]
    return {"type": "home", "blocks": blocks}
