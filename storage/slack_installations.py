"""Slack workspaces that installed Steward through "Add to Slack", and the OAuth states of installs under way.

One row per workspace (Steward asks for bot scopes only): the bot token as Slack issued it, its refresh token and
expiry when the app rotates tokens, and who installed it when. A state is issued when an install starts and
consumed once, by deleting it: a replayed or expired state finds no row. slack_sdk's store interfaces are
implemented over these functions in `adapters.slack.installations` (storage never imports a platform library).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel

from storage.db import dialect_insert
from storage.models import OutboxEntry
from storage.types import UTCDateTime


class SlackInstallation(SQLModel, table=True):
    """A workspace (or an organisation, for an org-wide install) where Steward is installed, with its bot token."""

    __tablename__ = "slack_installation"

    enterprise_id: str = Field(default="", primary_key=True)  # "" outside Enterprise Grid
    team_id: str = Field(default="", primary_key=True)  # "" for an org-wide install
    app_id: str | None = None
    enterprise_name: str | None = None
    enterprise_url: str | None = None
    team_name: str | None = None
    bot_token: str | None = None
    bot_id: str | None = None
    bot_user_id: str | None = None
    bot_scopes: str = ""  # comma-separated, as Slack sends them
    bot_refresh_token: str | None = None
    bot_token_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    installer_user_id: str | None = None
    is_enterprise_install: bool = False
    token_type: str | None = None
    installed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SlackOAuthState(SQLModel, table=True):
    """The `state` of an install under way: valid once, until it expires."""

    __tablename__ = "slack_oauth_state"

    state: str = Field(primary_key=True)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


T_INSTALLATION: Table = SlackInstallation.__table__  # type: ignore[attr-defined]
T_STATE: Table = SlackOAuthState.__table__  # type: ignore[attr-defined]
T_OUTBOX: Table = OutboxEntry.__table__  # type: ignore[attr-defined]
_KEY = ("enterprise_id", "team_id")


async def save_installation(db: AsyncEngine, row: dict[str, Any]) -> None:
    """Insert the workspace's installation, or replace it (a reinstall, a rotated token)."""
    row = {**row, "enterprise_id": row.get("enterprise_id") or "", "team_id": row.get("team_id") or ""}
    async with db.begin() as conn:
        stmt = dialect_insert(conn, T_INSTALLATION).values(**row)
        changed = {name: stmt.excluded[name] for name in row if name not in _KEY}
        await conn.execute(stmt.on_conflict_do_update(index_elements=list(_KEY), set_=changed))


async def update_bot_token(
    db: AsyncEngine,
    enterprise_id: str | None,
    team_id: str | None,
    *,
    bot_token: str | None,
    bot_refresh_token: str | None,
    bot_token_expires_at: datetime | None,
) -> bool:
    """A rotated bot token for an installed workspace; False when it is not installed (any more)."""
    async with db.begin() as conn:
        result = await conn.execute(
            update(T_INSTALLATION)
            .where(*_where(enterprise_id, team_id))
            .values(bot_token=bot_token, bot_refresh_token=bot_refresh_token, bot_token_expires_at=bot_token_expires_at)
        )
    return bool(result.rowcount)


async def find_installation(db: AsyncEngine, enterprise_id: str | None, team_id: str | None) -> dict[str, Any] | None:
    async with db.connect() as conn:
        found = (await conn.execute(select(T_INSTALLATION).where(*_where(enterprise_id, team_id)))).first()
    return dict(found._mapping) if found is not None else None


async def installed_teams(db: AsyncEngine) -> list[str]:
    """The workspaces Steward is installed in, by team id."""
    async with db.connect() as conn:
        rows = await conn.execute(select(T_INSTALLATION.c.team_id).order_by(T_INSTALLATION.c.team_id))
    return [str(team) for (team,) in rows]


async def delete_installation(db: AsyncEngine, enterprise_id: str | None, team_id: str | None) -> bool:
    """Forget the workspace's installation and its tokens; False when there was none."""
    async with db.begin() as conn:
        result = await conn.execute(delete(T_INSTALLATION).where(*_where(enterprise_id, team_id)))
    return bool(result.rowcount)


async def fail_unsent(db: AsyncEngine, workspace_id: str, reason: str) -> int:
    """Mark the workspace's rows still waiting in the outbox failed (nothing can reach it any more); how many."""
    async with db.begin() as conn:
        result = await conn.execute(
            update(T_OUTBOX)
            .where(T_OUTBOX.c.workspace_id == workspace_id, T_OUTBOX.c.status.in_(("pending", "sending")))
            .values(status="failed", last_error=reason, claimed_until=None)
        )
    return int(result.rowcount or 0)


async def issue_state(db: AsyncEngine, state: str, *, now: datetime, lifetime: timedelta) -> None:
    """Store a new state until it expires, dropping the expired ones (installs that were never finished)."""
    async with db.begin() as conn:
        await conn.execute(delete(T_STATE).where(T_STATE.c.expires_at <= now))
        await conn.execute(T_STATE.insert().values(state=state, expires_at=now + lifetime))


async def consume_state(db: AsyncEngine, state: str, *, now: datetime) -> bool:
    """Whether `state` was issued and has not expired; it is gone afterwards, so it is accepted once only."""
    async with db.begin() as conn:
        result = await conn.execute(delete(T_STATE).where(T_STATE.c.state == state, T_STATE.c.expires_at > now))
    return bool(result.rowcount)


def _where(enterprise_id: str | None, team_id: str | None) -> tuple[Any, ...]:
    return (T_INSTALLATION.c.enterprise_id == (enterprise_id or ""), T_INSTALLATION.c.team_id == (team_id or ""))
