"""Every `steward` command, given bad input, says so in one line on stderr and exits with status 2: missing,
unreadable, binary and empty files; impossible output paths; malformed and unreachable database URLs; unknown
commands and options. Never a traceback, never a wall of warnings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample-community.jsonl"
UNREACHABLE = "postgresql://steward@127.0.0.1:1/steward"  # nothing listens on port 1


def steward(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "DATABASE_URL": f"sqlite:///{cwd}/steward.db"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=base | (env or {}), capture_output=True,
        text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad-input")
    binary = root / "binary.jsonl"
    binary.write_bytes(bytes(range(256)) * 40)
    empty = root / "empty.jsonl"
    empty.write_text("")
    garbage = root / "garbage.jsonl"
    garbage.write_text("\n".join(f"not json {n}" for n in range(500)) + "\n")
    return {"root": root, "binary": binary, "empty": empty, "garbage": garbage}


CASES = [
    ("replay, missing file", ["replay", "{root}/nowhere.jsonl"], {}, "not found"),
    ("replay, a directory", ["replay", "{root}"], {}, "directory"),
    ("replay, a binary file", ["replay", "{binary}"], {}, "binary"),
    ("replay, an empty file", ["replay", "{empty}"], {}, "no usable lines"),
    ("replay, only garbage", ["replay", "-q", "{garbage}"], {}, "no usable lines"),
    ("replay, report to an impossible path", ["replay", "-q", "{sample}", "--report", "/proc/nowhere/r.json"], {},
     "/proc/nowhere"),
    ("replay, malformed database URL", ["replay", "{sample}", "--database", "nonsense"], {}, "database"),
    ("replay, unknown option", ["replay", "--frobnicate", "{sample}"], {}, "No such option"),
    ("unknown command", ["frobnicate"], {}, "No such command"),
    ("db upgrade, unreachable database", ["db", "upgrade"], {"DATABASE_URL": UNREACHABLE}, "could not connect"),
    ("db upgrade, malformed database URL", ["db", "upgrade"], {"DATABASE_URL": "nonsense://"}, "DATABASE_URL"),
    ("audit, unreachable database", ["audit", "--out", "{root}/a.html"], {"DATABASE_URL": UNREACHABLE},
     "could not connect"),
    ("audit, a database without history", ["audit", "--out", "/proc/nowhere/a.html"], {}, "no history"),
    ("audit, bad language", ["audit", "--out", "{root}/a.html", "--language", "xx"], {}, "language"),
    ("lessons export, impossible folder", ["lessons", "export", "/proc/nowhere"], {}, "/proc/nowhere"),
    ("lessons export, unreachable database", ["lessons", "export", "{root}/out"], {"DATABASE_URL": UNREACHABLE},
     "could not connect"),
    ("import, missing export", ["import", "slack-export", "{root}/nowhere.zip"], {}, "nowhere.zip"),
    ("import, a binary export", ["import", "discord-export", "{binary}"], {}, "no usable"),
    ("member forget, unknown member", ["member", "forget", "U404"], {}, "no member U404"),
    ("member forget, unreachable database", ["member", "forget", "U1"], {"DATABASE_URL": UNREACHABLE},
     "could not connect"),
    ("db purge, unreachable database", ["db", "purge"], {"DATABASE_URL": UNREACHABLE}, "could not connect"),
]


@pytest.mark.parametrize(("args", "env", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_and_status_2(
    files: dict[str, Path], args: list[str], env: dict[str, str], expected: str
) -> None:
    names = {key: str(path) for key, path in files.items()} | {"sample": str(SAMPLE)}
    result = steward(*(arg.format(**names) for arg in args), env=env, cwd=files["root"])
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    error_lines = [line for line in errors if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr[-2000:]
    assert expected in error_lines[0], error_lines[0]
    assert len(errors) <= 4, "at most a few warnings before the one error line"
