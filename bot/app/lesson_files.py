"""A lesson as a file: Markdown with YAML front matter, or a JSON record; for the export command and the portal."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from bot.i18n import translate
from storage.lessons import Lesson


def markdown(lesson: Lesson, names: Mapping[str, str], language: str = "en") -> str:
    """One lesson with YAML front matter (title, tags, source, contributors, dates), and the card's sections:
    the problem, what worked, the steps in order and the tips."""
    meta = {k: v for k, v in record(lesson, names).items() if k not in _CARD_KEYS}
    body = [f"# {lesson.title}", "", lesson.summary]
    body += _md_section(translate("lesson.heading_solution", language), [lesson.solution] if lesson.solution else [])
    body += _md_section(translate("lesson.heading_steps", language), [f"- {step}" for step in lesson.steps])
    body += _md_section(translate("lesson.heading_tips", language), [f"- {tip}" for tip in lesson.tips])
    if lesson.permalink:
        body += ["", f"{translate('lesson.field_source', language)}: {lesson.permalink}"]
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip()
    return f"---\n{front}\n---\n\n" + "\n".join(body).strip() + "\n"


_CARD_KEYS = frozenset({"summary", "solution", "steps", "tips"})


def _md_section(heading: str, lines: Sequence[str]) -> list[str]:
    return ["", f"## {heading}", "", *lines] if lines else []


def record(lesson: Lesson, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": lesson.id,
        "title": lesson.title,
        "workspace": lesson.workspace_id,
        "channel": lesson.channel_id,
        "tags": list(lesson.tags),
        "source": lesson.permalink,
        "source_message": lesson.source_message_id,
        "contributors": [names.get(c, c) for c in lesson.contributors],
        "created": lesson.created_at.isoformat(),
        "updated": lesson.updated_at.isoformat(),
        "verified": lesson.verified_at.isoformat() if lesson.verified_at else None,
        "verified_by": names.get(lesson.verified_by, lesson.verified_by) if lesson.verified_by else None,
        "summary": lesson.summary,
        "solution": lesson.solution,
        "steps": list(lesson.steps),
        "tips": list(lesson.tips),
    }


def slug(title: str) -> str:
    """A file-name-safe form of a title ("Übergabe: SAP-Rollen" -> "ubergabe-sap-rollen")."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:60] or "lesson"


def escape_link_text(text: str) -> str:
    return text.replace("[", r"\[").replace("]", r"\]")
