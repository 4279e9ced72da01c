"""Settings: every one is documented in .env.example, empty values mean "not set", and bad values say what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_every_setting_is_documented_in_env_example() -> None:
    text = EXAMPLE.read_text()
    missing = [name for name in Settings.model_fields if not re.search(rf"^{name.upper()}=", text, re.M)]
    assert missing == []


def test_env_example_as_shipped_is_valid_and_connects_nowhere(tmp_path: Path) -> None:
    settings = Settings(_env_file=EXAMPLE)  # type: ignore[call-arg]
    assert not settings.has_slack and not settings.has_discord and not settings.has_llm


def test_secrets_never_show_in_the_settings_repr() -> None:
    settings = Settings(_env_file=None, slack_bot_token="xoxb-very-secret")  # type: ignore[call-arg]
    assert "very-secret" not in repr(settings) and "very-secret" not in str(settings.model_dump())


def test_bad_values_are_rejected_with_a_reason() -> None:
    with pytest.raises(ValidationError, match="IANA"):
        Settings(_env_file=None, steward_timezone="Mars/Olympus")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="WORK_DAYS"):
        Settings(_env_file=None, work_days="mon,funday")  # type: ignore[call-arg]


def test_the_cli_reports_a_bad_setting_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_LANGUAGE", "fr")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "STEWARD_LANGUAGE" in result.output and "Traceback" not in result.output
