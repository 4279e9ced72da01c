"""LOG_FORMAT=json: every log line is one JSON object (time, level, logger, message, exception)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from bot.core.log_format import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]


def record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.getLogger("bot.app.delivery").makeRecord(
        "bot.app.delivery", logging.WARNING, __file__, 1, message, args, exc_info  # type: ignore[arg-type]
    )


def test_a_record_is_one_line_of_json_with_its_fields() -> None:
    line = JsonFormatter().format(record("post_message for %s failed: %s", "q1", 'quote " and ünïcode'))
    assert "\n" not in line
    entry = json.loads(line)
    assert set(entry) == {"time", "level", "logger", "message"}
    assert entry["level"] == "WARNING" and entry["logger"] == "bot.app.delivery"
    assert entry["message"] == 'post_message for q1 failed: quote " and ünïcode'
    assert entry["time"].endswith("+00:00")


def test_an_exception_is_kept_in_the_same_line() -> None:
    try:
        raise ValueError("bad row\nsecond line")
    except ValueError:
        line = JsonFormatter().format(record("handling failed", exc_info=sys.exc_info()))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "handling failed"
    assert "Traceback" in entry["exception"] and "ValueError: bad row" in entry["exception"]


def test_log_format_json_from_the_settings_makes_every_line_json(tmp_path: Path) -> None:
    """As a `steward` command sets it up: the settings are loaded, then logging; text stays the default."""
    script = (
        "import logging\n"
        "from bot.cli_support import load_settings, setup_logging\n"
        "settings = load_settings()\n"
        "setup_logging(settings.log_level)\n"
        "log = logging.getLogger('bot.runner')\n"
        "log.info('Steward is running on %s', 'sqlite')\n"
        "try:\n"
        "    1 / 0\n"
        "except ZeroDivisionError:\n"
        "    log.exception('a round failed')\n"
    )
    base = {k: v for k, v in os.environ.items() if k not in {"LOG_FORMAT", "LOG_LEVEL"}}

    def run(**env: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=base | {"PYTHONPATH": str(ROOT)} | env,
                              capture_output=True, text=True, timeout=60, check=True)
        return done.stderr.splitlines()

    lines = run(LOG_FORMAT="json")
    entries = [json.loads(line) for line in lines]  # every line parses
    assert [(e["level"], e["logger"], e["message"]) for e in entries] == [
        ("INFO", "bot.runner", "Steward is running on sqlite"), ("ERROR", "bot.runner", "a round failed"),
    ]
    assert "ZeroDivisionError" in entries[1]["exception"]

    text = run()
    assert text[0].endswith("INFO bot.runner: Steward is running on sqlite")
    assert any(line.startswith("Traceback") for line in text)
