"""`steward lessons export`: Markdown with front matter plus an index, or one JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.core.lessons import LessonDraft
from storage.db import create_engine
from storage.lessons import LessonStore
from storage.migrate import upgrade
from tests.support import at


async def fill(url: str) -> None:
    await upgrade(url)
    db = create_engine(url)
    store = LessonStore(db)
    draft = LessonDraft(title="Übergabe: SAP-Rollen", summary="Roles go live on Monday.",
                        solution="The new roles were mapped in advance.", steps=("Check the role",),
                        tips=("Tip: ask the key user first",), tags=("sap",), contributors=("U1",))
    await store.upsert("slack:T1", "1.2", draft, channel_id="C1", permalink="https://slack.com/archives/C1/p12",
                       now=at("2026-03-04 12:00"))
    secret = LessonDraft(title="Payroll", summary="Internal.", contributors=("U2",))
    await store.upsert("slack:T1", "3.4", secret, channel_id="C2", permalink="", now=at("2026-03-04 12:00"),
                       private=True)
    await db.dispose()


@pytest.fixture
async def database(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    await fill(sqlite_url)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return sqlite_url


def test_markdown_export_writes_front_matter_and_an_index(database: str, tmp_path: Path) -> None:
    out = tmp_path / "wiki"
    result = CliRunner().invoke(app, ["lessons", "export", "--format", "markdown", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["00001-ubergabe-sap-rollen.md", "index.md"]
    text = (out / "00001-ubergabe-sap-rollen.md").read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["title"] == "Übergabe: SAP-Rollen" and front["tags"] == ["sap"] and front["contributors"] == ["U1"]
    assert front["source"] == "https://slack.com/archives/C1/p12" and front["created"].startswith("2026-03-04")
    worked = text.index("## What worked\n\nThe new roles were mapped in advance.")
    assert worked < text.index("## Steps\n\n- Check the role")
    assert text.index("## Steps") < text.index("## Tips\n\n- Tip: ask the key user first") < text.index("Source: ")
    assert "solution" not in front and "tips" not in front
    assert "(00001-ubergabe-sap-rollen.md)" in (out / "index.md").read_text(encoding="utf-8")


def test_json_export_is_one_file_without_private_lessons(database: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["lessons", "export", "--format", "json", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "lessons.json").read_text(encoding="utf-8"))
    assert [x["title"] for x in data] == ["Übergabe: SAP-Rollen"] and data[0]["steps"] == ["Check the role"]
    assert data[0]["solution"] == "The new roles were mapped in advance."
    assert data[0]["tips"] == ["Tip: ask the key user first"]
    everything = CliRunner().invoke(app, ["lessons", "export", "--format", "json", "--include-private", str(tmp_path)])
    assert everything.exit_code == 0
    assert len(json.loads((tmp_path / "lessons.json").read_text(encoding="utf-8"))) == 2


def test_markdown_headings_follow_stewards_language(database: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_LANGUAGE", "de")
    result = CliRunner().invoke(app, ["lessons", "export", "--format", "markdown", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "00001-ubergabe-sap-rollen.md").read_text(encoding="utf-8")
    assert "## Was geholfen hat" in text and "## Schritte" in text and "## Tipps" in text
    assert "Quelle: https://slack.com/archives/C1/p12" in text
