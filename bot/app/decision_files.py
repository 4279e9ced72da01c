"""A decision as a file: Markdown with YAML front matter, or a JSON record (as the lessons are exported)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.app.lesson_files import escape_link_text, slug
from bot.core.cocreation import DecisionRecord
from bot.i18n import translate

_BODY_KEYS = frozenset({"question", "options", "outcome", "reasons"})


def record(decision: DecisionRecord, names: Mapping[str, str]) -> dict[str, Any]:
    """Everything about a decision, member ids shown as names, the chain of supersessions by id."""
    return {
        "id": decision.id,
        "title": decision.title,
        "status": decision.status,
        "workspace": decision.workspace_id,
        "channel": decision.channel_id,
        "source": decision.permalink,
        "source_thread": decision.thread_id,
        "recorded": decision.recorded_at.isoformat(),
        "recorded_by": names.get(decision.recorded_by, decision.recorded_by) if decision.recorded_by else None,
        "consent_until": decision.consent_until.isoformat(),
        "agreed": decision.agreed_at.isoformat() if decision.agreed_at else None,
        "objected": decision.objected_at.isoformat() if decision.objected_at else None,
        "people": [names.get(p, p) for p in decision.participants],
        "supersedes": decision.supersedes,
        "superseded_by": decision.superseded_by,
        "question": decision.question,
        "options": list(decision.options),
        "outcome": decision.outcome,
        "reasons": list(decision.reasons),
    }


def markdown(decision: DecisionRecord, names: Mapping[str, str], language: str = "en") -> str:
    """One decision with front matter (status, dates, people, source, the chain) and its sections."""
    meta = {k: v for k, v in record(decision, names).items() if k not in _BODY_KEYS}
    body = [f"# {decision.title}"]
    body += _section(translate("decide.heading_question", language), [decision.question] if decision.question else [])
    body += _section(translate("decide.heading_options", language), [f"- {o}" for o in decision.options])
    body += _section(translate("decide.heading_outcome", language), [decision.outcome] if decision.outcome else [])
    body += _section(translate("decide.heading_reasons", language), [f"- {r}" for r in decision.reasons])
    if decision.permalink:
        body += ["", f"{translate('decide.field_source', language)}: {decision.permalink}"]
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip()
    return f"---\n{front}\n---\n\n" + "\n".join(body).strip() + "\n"


def _section(heading: str, lines: Sequence[str]) -> list[str]:
    return ["", f"## {heading}", "", *lines] if lines else []


def export_decisions(
    decisions: Sequence[DecisionRecord], directory: Path, fmt: str, names: Mapping[str, str], language: str = "en"
) -> list[Path]:
    """Write the files (one Markdown file per decision plus `index.md`, or `decisions.json`); their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        import json

        path = directory / "decisions.json"
        path.write_text(json.dumps([record(d, names) for d in decisions], indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        return [path]
    written, index = [], ["# Decisions", ""]
    for decision in decisions:
        path = directory / f"{decision.id:05d}-{slug(decision.title)}.md"
        path.write_text(markdown(decision, names, language), encoding="utf-8")
        written.append(path)
        index.append(f"- [{escape_link_text(decision.title)}]({path.name}) ({decision.status})")
    index_path = directory / "index.md"
    index_path.write_text("\n".join(index) + "\n", encoding="utf-8")
    return [*written, index_path]
