"""Requests that reach the operators outside chat: forget a member, purge old message text now."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.settings import Settings
from tests.support import message

ROOT = Path(__file__).resolve().parents[1]


def steward(db: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(db.parent), "DATABASE_URL": f"sqlite:///{db}", **env},
    )


def community(db: Path, when: datetime) -> None:
    async def talk() -> None:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{db}")  # type: ignore[call-arg]
        engine = await build_engine(settings, SimulatedClock(when))
        await engine.handle(message("U1", "How do I book the big meeting room?", when, message_id="q1"))
        await engine.handle(message("U2", "In the room planner, under Facilities.", when, thread="q1", message_id="a1"))
        await engine.close()

    asyncio.run(talk())


def texts(db: Path) -> dict[str, str | None]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT id, text FROM message"))


def test_an_operator_forgets_a_member_as_their_own_request_would(tmp_path: Path) -> None:
    db = tmp_path / "steward.db"
    community(db, datetime.now(UTC))
    done = steward(db, "member", "forget", "U2")
    assert done.returncode == 0, done.stderr
    assert "forgot member U2" in done.stdout
    assert texts(db) == {"q1": "How do I book the big meeting room?", "a1": None}


def test_db_purge_forgets_text_past_retention_now_and_keeps_the_rest(tmp_path: Path) -> None:
    db = tmp_path / "steward.db"
    community(db, datetime(2020, 1, 6, 9, tzinfo=UTC))
    assert all(texts(db).values())
    done = steward(db, "db", "purge", MESSAGE_RETENTION_DAYS="30")
    assert done.returncode == 0, done.stderr
    assert "forgot the text of 2 messages older than 30 days" in done.stdout
    assert texts(db) == {"q1": None, "a1": None}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM question").fetchone() == (1,), "metadata stays for the metrics"
