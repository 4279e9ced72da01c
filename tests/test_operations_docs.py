"""The configuration reference in docs/operations.md is the one the settings class gives now, and `.env.example`
names exactly the settings there are: a setting added, renamed or removed without updating both fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings
from bot.settings_doc import BEGIN, END, describe, embed, embedded_table, reference_table

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "docs" / "operations.md"
ENV_EXAMPLE = ROOT / ".env.example"
FIX = "run `steward config reference --write docs/operations.md`"


def env_example_names() -> dict[str, str]:
    """Every variable `.env.example` sets (uncommented `NAME=value` lines), with the value it ships."""
    found = re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M)
    return dict(found)


def secret_fields() -> list[str]:
    return [row.variable for row in describe() if row.secret]


def test_the_reference_in_operations_md_is_what_the_generator_prints_now() -> None:
    assert embedded_table(OPERATIONS.read_text(encoding="utf-8")) == reference_table(), FIX


def test_env_example_names_every_setting_and_no_other() -> None:
    settings = {row.variable for row in describe()}
    shipped = set(env_example_names())
    assert sorted(settings - shipped) == [], "settings missing from .env.example"
    assert sorted(shipped - settings) == [], ".env.example names variables the settings class does not have"


def test_every_setting_has_a_description_and_it_reaches_the_table() -> None:
    table = reference_table()
    for row in describe():
        assert row.description, f"{row.variable} needs description= in bot/settings.py"
        assert f"| `{row.variable}` |" in table and row.description in table


def test_secrets_show_no_default_in_the_reference_and_ship_empty_in_env_example() -> None:
    assert set(secret_fields()) >= {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN",
                                    "OPENAI_API_KEY"}
    shipped = env_example_names()
    for row in describe():
        if row.secret:
            assert row.default == "" and row.allowed == "secret text", row.variable
            assert shipped[row.variable] == "", f"{row.variable} must ship empty in .env.example"
    line = next(x for x in reference_table().splitlines() if x.startswith("| `SLACK_BOT_TOKEN` |"))
    assert line.split("|")[2].strip() == ""


class _Sample(BaseSettings):
    """A settings class with the shapes the generator must handle, including a secret with a default value."""

    api_token: SecretStr = Field(default=SecretStr("s3cr3t-default"), description="A token.")
    mode: Literal["fast", "careful"] = Field(default="careful", description="How | to work.")
    hours: float = Field(default=4.0, gt=0, le=24, description="Hours.")
    port: int | None = Field(default=None, ge=1, le=65535, description="A port.")
    label: str = Field(default="")
    undocumented: bool = False


def test_the_generator_writes_types_limits_and_defaults_and_never_a_secret_value() -> None:
    rows = {row.variable: row for row in describe(_Sample)}
    table = reference_table(_Sample)
    assert "s3cr3t-default" not in table and rows["API_TOKEN"].default == ""
    assert rows["MODE"].allowed == "`fast` or `careful`" and rows["MODE"].default == "`careful`"
    assert "How \\| to work." in table  # a bar in a description does not break the table
    assert rows["HOURS"].allowed == "number, > 0, ≤ 24" and rows["HOURS"].default == "`4`"
    assert rows["PORT"].allowed == "integer, 1 to 65535" and rows["PORT"].default == "*unset*"
    assert rows["LABEL"].default == "*empty*" and rows["LABEL"].description == ""  # no description: an empty cell
    assert rows["UNDOCUMENTED"].allowed == "`true` or `false`" and rows["UNDOCUMENTED"].default == "`false`"
    assert all(line.count(" | ") == 3 for line in table.splitlines()[2:])


def test_embedding_replaces_only_what_is_between_the_markers() -> None:
    document = f"# Title\n\nBefore.\n\n{BEGIN}\n| old |\n{END}\n\nAfter.\n"
    updated = embed(document, "| new |\n")
    assert updated == f"# Title\n\nBefore.\n\n{BEGIN}\n| new |\n{END}\n\nAfter.\n"
    assert embedded_table(updated) == "| new |\n"
    with pytest.raises(ValueError, match="markers"):
        embedded_table("# no markers here\n")


def test_the_command_prints_checks_and_writes_the_reference(tmp_path: Path) -> None:
    printed = CliRunner().invoke(app, ["config", "reference"])
    assert printed.exit_code == 0 and printed.output == reference_table()

    stale = tmp_path / "operations.md"
    stale.write_text(f"# Operating\n\n{BEGIN}\n| an old table |\n{END}\n", encoding="utf-8")
    checked = CliRunner().invoke(app, ["config", "reference", "--check", str(stale)])
    assert checked.exit_code == 1 and "out of date" in checked.output
    written = CliRunner().invoke(app, ["config", "reference", "--write", str(stale)])
    assert written.exit_code == 0 and "updated" in written.output
    assert embedded_table(stale.read_text(encoding="utf-8")) == reference_table()
    assert stale.read_text(encoding="utf-8").startswith("# Operating\n\n")
    again = CliRunner().invoke(app, ["config", "reference", "--check", str(stale)])
    assert again.exit_code == 0 and "up to date" in again.output


def test_a_document_without_markers_is_one_line_and_status_2(tmp_path: Path) -> None:
    plain = tmp_path / "plain.md"
    plain.write_text("# nothing to replace\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["config", "reference", "--write", str(plain)])
    assert result.exit_code == 2 and "markers" in result.output and "Traceback" not in result.output
    assert plain.read_text(encoding="utf-8") == "# nothing to replace\n"


def test_the_reference_covers_every_field_of_the_settings_class() -> None:
    assert [row.variable for row in describe()] == [name.upper() for name in Settings.model_fields]


def test_slack_installs_and_what_uninstall_does_are_documented() -> None:
    rows = {row.variable: row for row in describe()}
    assert rows["SLACK_UNINSTALL"].allowed == "`keep` or `purge`" and rows["SLACK_UNINSTALL"].default == "`keep`"
    assert rows["SLACK_CLIENT_SECRET"].secret and not rows["SLACK_CLIENT_ID"].secret
    shipped = env_example_names()
    assert shipped["SLACK_UNINSTALL"] == "keep" and shipped["SLACK_CLIENT_SECRET"] == ""
    assert shipped["SLACK_SCOPES"] == Settings.model_fields["slack_scopes"].default


def test_discord_sharding_and_what_a_server_removing_steward_does_are_documented() -> None:
    rows = {row.variable: row for row in describe()}
    assert rows["DISCORD_REMOVAL"].allowed == "`keep` or `purge`" and rows["DISCORD_REMOVAL"].default == "`keep`"
    assert rows["DISCORD_SHARDS"].default == "`auto`" and "recommends" in rows["DISCORD_SHARDS"].description
    shipped = env_example_names()
    assert shipped["DISCORD_REMOVAL"] == "keep" and shipped["DISCORD_SHARDS"] == "auto"
    operations = OPERATIONS.read_text(encoding="utf-8")
    assert "### Discord servers: sharding, joining and leaving" in operations
    assert "DISCORD_REMOVAL=purge" in operations and "DISCORD_SHARDS=auto" in operations
