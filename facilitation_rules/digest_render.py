"""How a digest and `/steward stats` read: cards in the member's language, formatted with Babel."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from bot.core.actions import Card
from bot.core.digest_figures import Figures
from bot.core.markup import defuse, excerpt
from bot.i18n import date_span, duration, month_year, names, percent, translate
from bot.rules import RuleContext
from bot.state import ChannelState
from facilitation_rules.ideas import support_text
from facilitation_rules.initiatives import progress_line

logger = logging.getLogger(__name__)

STATS_MONTHS = 6  # newcomer conversion rows in `/steward stats` (a Discord embed holds 25 fields in all)


# --- rendering-----------------------------------------------------------------------------------------------
def render_digest(
    ctx: RuleContext, channel: ChannelState, now: Figures, before: Figures, *, opening: str | None = None
) -> Card:
    """The digest card in the channel's language: a clear template, short for a quiet week.

    `opening` replaces the template's first sentence (a narrator's); the figures below it stay the template's.
    """
    ws = channel.workspace_id
    lang = ctx.channel_language(ws, channel.id)  # a German channel gets a German digest
    zone = ctx.workspace(ws).timezone or "UTC"  # the days as the community counts them
    last_moment = now.period.end - timedelta(seconds=1)  # the period ends just before its end
    title = translate(
        "digest.title", lang, channel=f"<#{channel.id}>", period=date_span(now.period.start, last_moment, zone, lang)
    )
    waiting = _unanswered_section(ctx, ws, now, lang)
    lessons = _lessons_section(now, lang) + _decisions_section(now, lang) + ideas_section(now, lang)
    lessons += initiatives_section(now, lang)
    if now.quiet:
        quiet = translate("digest.quiet", lang, channel=f"<#{channel.id}>", messages=now.messages)
        return Card(title=title, sections=(quiet, *lessons, *waiting), footer=translate("digest.footer", lang))
    sections = [
        opening
        or translate(
            "digest.opening",
            lang,
            messages=translate("digest.n_messages", lang, count=now.messages),
            members=translate("digest.n_members", lang, count=now.active_members),
            change=_change(now.messages, before.messages, lang),
        )
    ]
    if now.helpers:
        names = sorted((h.member for h in now.helpers), key=lambda m: _name(ctx, ws, m).lower())
        sections.append(translate("digest.thanks", lang, names=_join([f"<@{m}>" for m in names], lang)))
    sections.extend(_answerers_section(ctx, ws, now, lang))
    if now.new_members:
        sections.append(translate("digest.welcome", lang, count=now.new_members))
    sections.extend(_newcomers_section(now, lang))
    if now.trending:
        sections.append(translate("digest.trending", lang, topics=", ".join(now.trending)))
    sections.extend(lessons)
    sections.extend(waiting)
    return Card(
        title=title,
        sections=tuple(sections),
        fields=_fields(now, before, lang),
        footer=translate("digest.footer", lang),
    )


def _fields(now: Figures, before: Figures, lang: str) -> tuple[tuple[str, str], ...]:
    """The numbers, each with last week's beside it."""

    def compared(key: str, value: int, previous: int) -> tuple[str, str]:
        return translate(key, lang), f"{value} ({_change(value, previous, lang)})"

    rows = [
        compared("digest.field_messages", now.messages, before.messages),
        compared("digest.field_active", now.active_members, before.active_members),
        compared("digest.field_new", now.new_members, before.new_members),
        compared("digest.field_lessons", now.new_lessons, before.new_lessons),
        (
            translate("digest.field_questions", lang),
            translate(
                "digest.questions_value",
                lang,
                asked=now.questions_asked,
                answered=now.questions_answered,
                resolved=now.questions_resolved,
                before=before.questions_asked,
            ),
        ),
    ]
    if now.response_rate is not None:
        rate = percent(now.response_rate, lang)
        if before.response_rate is not None:
            rate += " " + translate("digest.last_week", lang, value=percent(before.response_rate, lang))
        rows.append((translate("digest.field_response_rate", lang), rate))
    if now.median_first_response_s is not None and now.p90_first_response_s is not None:
        value = translate(
            "digest.response_time_value",
            lang,
            median=duration(now.median_first_response_s, lang),
            p90=duration(now.p90_first_response_s, lang),
        )
        if before.median_first_response_s is not None:
            value += " " + translate("digest.last_week", lang, value=duration(before.median_first_response_s, lang))
        rows.append((translate("digest.field_response_time", lang), value))
    return tuple(rows)


def _answerers_section(ctx: RuleContext, ws: str, figures: Figures, lang: str) -> list[str]:
    """How many people answered, naming those who did for the first time: recognition, never a ranking."""
    if not figures.answerers:
        return []
    if not figures.first_time_helpers:
        return [translate("recognition.digest_answered", lang, count=figures.answerers)]
    first = sorted(figures.first_time_helpers, key=lambda m: _name(ctx, ws, m).lower())
    helpers = translate(
        "recognition.first_time_helpers", lang, count=len(first), names=_join([f"<@{m}>" for m in first], lang)
    )
    return [translate("recognition.digest_answered_incl", lang, count=figures.answerers, helpers=helpers)]


def _newcomers_section(figures: Figures, lang: str) -> list[str]:
    """Newcomer conversion of the month the period ends in, when anyone joined in it."""
    if not figures.newcomers or not figures.newcomers[-1].joined:
        return []
    cohort = figures.newcomers[-1]
    return [translate("onboarding.digest_newcomers", lang, month=month_year(cohort.first_day, lang),
                      joined=cohort.joined, posted=cohort.posted, answered=cohort.answered)]


def _decisions_section(figures: Figures, lang: str) -> list[str]:
    """Decided this week, and why: each decision that came to stand, with its first reason and its link."""
    if not figures.decisions:
        return []
    lines = [translate("digest.decisions_title", lang, count=len(figures.decisions))]
    for item in figures.decisions:
        key = "digest.decision_item" if item.why else "digest.decision_item_plain"
        lines.append(translate(key, lang, title=defuse(item.title), why=defuse(item.why), link=item.link).rstrip())
    return ["\n".join(lines)]


def ideas_section(figures: Figures, lang: str) -> list[str]:
    """The period's new ideas and the open ones with the most support; nothing when there are none."""
    ideas = figures.ideas
    parts = []
    if ideas.new_count:
        lines = [translate("digest.ideas_new_title", lang, count=ideas.new_count)]
        lines += [translate("digest.idea_item", lang, id=i.id, text=excerpt(i.text, 140)) for i in ideas.new]
        parts.append("\n".join(lines))
    if ideas.supported:
        lines = [translate("digest.ideas_supported_title", lang)]
        lines += [translate("digest.idea_supported_item", lang, id=i.id, text=excerpt(i.text, 140),
                            support=support_text(i.votes, lang)) for i in ideas.supported]
        parts.append("\n".join(lines))
    return parts


def initiatives_section(figures: Figures, lang: str) -> list[str]:
    """Each active initiative's progress in one line."""
    if not figures.initiatives:
        return []
    return ["\n".join([translate("digest.initiatives_title", lang),
                       *(progress_line(p, lang) for p in figures.initiatives)])]


def _lessons_section(figures: Figures, lang: str) -> list[str]:
    """The period's new lessons with links: what the community now knows that it did not before."""
    if not figures.new_lessons:
        return []
    lines = [translate("digest.lessons_title", lang, count=figures.new_lessons)]
    lines += [
        translate("digest.lesson_item", lang, title=defuse(lesson.title), link=lesson.link).rstrip()
        for lesson in figures.lessons
    ]
    return ["\n".join(lines)]


def figures_summary(now: Figures, before: Figures) -> str:
    """The period in plain aggregate numbers, for a narrator: no message text, no names, no topics."""
    rate = "n/a" if now.response_rate is None else f"{round(100 * now.response_rate)} %"
    median = "n/a" if now.median_first_response_s is None else f"{now.median_first_response_s / 3600:.1f} h"
    lines = [
        f"days: {round((now.period.end - now.period.start).total_seconds() / 86400)}",
        f"messages: {now.messages} (previous period: {before.messages})",
        f"active members: {now.active_members} (previous period: {before.active_members})",
        f"new members: {now.new_members}",
        f"questions asked: {now.questions_asked} (previous period: {before.questions_asked})",
        f"questions answered: {now.questions_answered}",
        f"questions resolved: {now.questions_resolved}",
        f"response rate: {rate}",
        f"median time to first response: {median}",
        f"members thanked for helpful answers: {len(now.helpers)}",
        f"people who answered questions: {now.answerers} ({len(now.first_time_helpers)} for the first time)",
        f"new lessons captured: {now.new_lessons}",
        f"decisions agreed: {len(now.decisions)}",
        f"new ideas: {now.ideas.new_count}",
    ]
    if now.newcomers:
        cohort = now.newcomers[-1]
        lines.append(
            f"newcomers this month: {cohort.joined} joined, {cohort.posted} posted, {cohort.answered} answered"
        )
    return "\n".join(lines)


def _unanswered_section(ctx: RuleContext, ws: str, figures: Figures, lang: str) -> list[str]:
    if not figures.oldest_unanswered:
        return []
    lines = [translate("digest.unanswered_title", lang)]
    for q in figures.oldest_unanswered:
        age = duration((figures.period.end - q.asked_at).total_seconds(), lang)
        lines.append(
            translate(
                "digest.unanswered_item",
                lang,
                excerpt=q.excerpt or q.id,
                asker=_name(ctx, ws, q.asker),
                age=age,
                channel=f"<#{q.channel}>",
            )
        )
    return ["\n".join(lines)]


def render_stats(figures: Figures, lang: str, days: int) -> Card:
    """`/steward stats`: the CHAOSS-style figures, private to the member who asked."""

    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    rows: list[tuple[str, str]] = [
        (t("digest.field_messages"), str(figures.messages)),
        (t("digest.field_active"), str(figures.active_members)),
        (t("digest.field_new"), str(figures.new_members)),
        (
            t("digest.field_questions"),
            t(
                "digest.questions_value_short",
                asked=figures.questions_asked,
                answered=figures.questions_answered,
                resolved=figures.questions_resolved,
            ),
        ),
        (
            t("digest.field_response_rate"),
            "–" if figures.response_rate is None else percent(figures.response_rate, lang),
        ),
    ]
    if figures.median_first_response_s is not None and figures.p90_first_response_s is not None:
        rows.append(
            (
                t("digest.field_response_time"),
                t(
                    "digest.response_time_value",
                    median=duration(figures.median_first_response_s, lang),
                    p90=duration(figures.p90_first_response_s, lang),
                ),
            )
        )
    rows += [
        (t("digest.field_new_contributors"), str(len(figures.new_contributors))),
        (t("digest.field_inactive"), str(len(figures.inactive_contributors))),
        (
            t("digest.field_concentration"),
            "–"
            if figures.answerer_concentration is None
            else t(
                "digest.concentration_value",
                people=figures.answerer_concentration,
                answers=figures.first_responses,
            ),
        ),
        (
            t("recognition.stats_answerers"),
            t("recognition.stats_answerers_value", count=figures.answerers, first=len(figures.first_time_helpers)),
        ),
        (t("digest.field_unanswered"), str(len(figures.oldest_unanswered))),
        (t("digest.field_nudges"), str(figures.nudges_answered)),
        (t("digest.field_lessons"), str(figures.new_lessons)),
    ]
    if figures.trending:
        rows.append((t("digest.field_trending"), ", ".join(figures.trending)))
    rows += [
        (
            t("onboarding.stats_field", month=month_year(cohort.first_day, lang)),
            t("onboarding.stats_value", joined=cohort.joined, posted=cohort.posted, answered=cohort.answered),
        )
        for cohort in list(reversed(figures.newcomers))[:STATS_MONTHS]  # the latest month first
    ]
    return Card(title=t("digest.stats_title", count=days), fields=tuple(rows))


def _change(value: int, previous: int, lang: str) -> str:
    delta = value - previous
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    return translate("digest.change", lang, delta=f"{sign}{abs(delta)}")


def _join(items: Sequence[str], lang: str) -> str:
    return names(list(items), lang)


def _name(ctx: RuleContext, workspace: str, member_id: str) -> str:
    member = ctx.state.members.get((workspace, member_id))
    return member.name if member is not None and member.name else member_id
