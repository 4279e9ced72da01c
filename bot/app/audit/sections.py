"""The audit's sections, shared by HTML and Markdown: titles, notes and tables in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.app.audit.figures import EXCERPT, INACTIVE_AFTER, LISTED, Audit
from bot.core.markup import excerpt
from bot.i18n import date_span, duration, local_date, local_datetime, percent, translate


@dataclass
class Section:
    """One part of the report, shared by HTML and Markdown: a title, an optional note, a table, a chart."""

    title: str
    header: list[str]
    rows: list[list[str]]
    chart: str = ""
    note: str = ""


def _duration(seconds: float | None, lang: str) -> str:
    """A response time as the digest says it ("2 hours", "2 Stunden"); a dash when nothing was measured."""
    return "–" if seconds is None else duration(seconds, lang)


def _when(moment: datetime, lang: str) -> str:
    """A moment in UTC, as the report's weeks are counted."""
    return local_datetime(moment, "UTC", lang)


def _period(audit: Audit, lang: str) -> str:
    if audit.since is None:
        end = local_date(audit.until, "UTC", lang) if audit.until else "–"
        return translate("audit.period_from_start", lang, end=end)
    return date_span(audit.since, audit.until or audit.since, "UTC", lang)


def sections_of(audit: Audit, lang: str) -> list[Section]:
    """Every section of the report in the reader's language."""

    def t(key: str, **params: Any) -> str:
        return translate(f"audit.{key}", lang, **params)

    def cols(*keys: str) -> list[str]:
        return [t(f"col_{key}") for key in keys]

    answered = percent(audit.answered / audit.questions, lang) if audit.questions else "–"
    summary = [
        [t("row_period"), _period(audit, lang)],
        [t("row_questions"), str(audit.questions)],
        [t("row_answered"), t("answered_value", count=audit.answered, share=answered)],
        [t("row_unanswered"), str(audit.unanswered_count)],
        [t("row_resolved"), str(audit.resolved)],
        [t("row_response_time"), f"{_duration(audit.median_s, lang)} / {_duration(audit.p90_s, lang)}"],
        [t("row_flagged"), str(audit.flagged)],
    ]
    return [
        Section(t("section_summary"), cols("figure", "value"), summary),
        Section(
            t("section_weeks"),
            cols("week", "asked", "answered", "unanswered", "resolved", "median_response", "p90_response"),
            [
                [
                    local_date(w.week, language=lang),
                    str(w.asked),
                    str(w.answered),
                    str(w.unanswered),
                    str(w.resolved),
                    _duration(w.median_s, lang),
                    _duration(w.p90_s, lang),
                ]
                for w in audit.weeks
            ],
            chart="weeks",
            note=t("weeks_note"),
        ),
        Section(
            t("section_channels"),
            cols("channel", "asked", "answered", "median", "p90"),
            [
                [c.channel, str(c.asked), str(c.answered), _duration(c.median_s, lang), _duration(c.p90_s, lang)]
                for c in audit.channels
            ],
            chart="channels",
        ),
        Section(
            t("section_unanswered"),
            cols("asked_at", "channel", "asker", "question"),
            [
                [_when(u.asked_at, lang), u.channel, u.asker, excerpt(u.text, EXCERPT)]
                for u in audit.unanswered[:LISTED]
            ],
        ),
        Section(
            t("section_answerers"),
            cols("member", "first_responses", "share", "topics"),
            [[a.member, str(a.answers), percent(a.share, lang), ", ".join(a.topics)] for a in audit.answerers[:25]],
            chart="answerers",
            note=_concentration(audit, lang),
        ),
        Section(
            t("section_contributors"),
            ["", t("col_members")],
            [
                [t("contributors_new"), ", ".join(audit.new_contributors) or "–"],
                [t("contributors_inactive", days=INACTIVE_AFTER.days), ", ".join(audit.inactive_contributors) or "–"],
            ],
        ),
        Section(
            t("section_lessons"),
            cols("question", "channel", "replies", "reactions"),
            [[excerpt(x.text, EXCERPT), x.channel, str(x.replies), str(x.reactions)] for x in audit.lessons],
        ),
        Section(
            t("section_flagged"),
            cols("asked_at", "channel", "question", "flagged_at", "experts"),
            [
                [
                    _when(f.asked_at, lang),
                    f.channel,
                    excerpt(f.text, EXCERPT),
                    _when(f.flagged_at, lang) if f.flagged_at else "",
                    ", ".join(f.experts) or "–",
                ]
                for f in audit.would_flag[:LISTED]
            ],
        ),
        Section(t("section_nudged"), cols("member", "nudges"), [[m, str(n)] for m, n in audit.would_nudge]),
    ]


def _concentration(audit: Audit, lang: str) -> str:
    if not audit.answerers:
        return translate("audit.nobody_answered", lang)
    top = audit.answerers[0]
    return translate(
        "audit.concentration",
        lang,
        people=_people(len(audit.answerers), lang),
        member=top.member,
        share=percent(top.share, lang),
        top_share=percent(sum(a.share for a in audit.answerers[:3]), lang),
        half=_people(audit.half_of_answers_by, lang),
    )


def _people(count: int, lang: str) -> str:
    return translate("audit.people_one", lang) if count == 1 else translate("audit.people_many", lang, count=count)
