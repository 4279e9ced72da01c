"""slack_sdk's installation and OAuth state stores, kept in Steward's database (SQLite or PostgreSQL).

slack-bolt's `AsyncOAuthFlow` runs "Add to Slack" and its authorize step finds each workspace's bot token here;
Steward asks for bot scopes only, so one installation per workspace is kept (a user token that came along would
not be stored). Tokens are stored as Slack issued them and never logged. With token rotation on, one rotator
serves both the requests (bolt's authorize) and the delivery worker, one rotation per workspace at a time, so a
refresh token is never spent twice by this process.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import slack_installations as stored

logger = logging.getLogger(__name__)

STATE_SECONDS = 600  # an install must be finished within ten minutes of starting it


class DatabaseInstallationStore(AsyncInstallationStore):
    """One bot installation per workspace, in the `slack_installation` table."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_save(self, installation: Installation) -> None:
        await stored.save_installation(self.db, _row_of(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        """A bot rotated through `find_bot`: its new tokens replace the old ones."""
        await stored.update_bot_token(
            self.db,
            bot.enterprise_id,
            bot.team_id,
            bot_token=bot.bot_token,
            bot_refresh_token=bot.bot_refresh_token,
            bot_token_expires_at=_moment(bot.bot_token_expires_at),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        row = await stored.find_installation(self.db, *_key(enterprise_id, team_id, is_enterprise_install))
        if row is None or (user_id is not None and user_id != row["installer_user_id"]):
            return None  # only the installer's installation is kept, and it carries no user token
        return _installation_of(row)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        row = await stored.find_installation(self.db, *_key(enterprise_id, team_id, is_enterprise_install))
        if row is None or not row["bot_token"]:
            return None
        return _installation_of(row).to_bot()

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await stored.delete_installation(self.db, enterprise_id, team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        row = await stored.find_installation(self.db, enterprise_id, team_id)
        if row is not None and user_id is not None and user_id != row["installer_user_id"]:
            return  # a member's user token was revoked: Steward keeps none, the bot stays installed
        await stored.delete_installation(self.db, enterprise_id, team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await stored.delete_installation(self.db, enterprise_id, team_id)


class DatabaseStateStore(AsyncOAuthStateStore):
    """OAuth `state` values, each accepted once and only within `STATE_SECONDS` of its issue."""

    def __init__(self, db: AsyncEngine, *, expiration_seconds: int = STATE_SECONDS) -> None:
        self.db = db
        self.lifetime = timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        await stored.issue_state(self.db, state, now=datetime.now(UTC), lifetime=self.lifetime)
        return state

    async def async_consume(self, state: str) -> bool:
        if not state:
            return False
        return await stored.consume_state(self.db, state, now=datetime.now(UTC))


class SharedTokenRotator(AsyncTokenRotator):
    """slack_sdk's rotator, one rotation per workspace at a time, storing the new token before it lets the next
    caller in: whoever waited finds that token instead of spending the same refresh token again."""

    def __init__(
        self, *, store: DatabaseInstallationStore, client_id: str, client_secret: str, client: AsyncWebClient
    ) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret, client=client)
        self.store = store
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def perform_bot_token_rotation(self, *, bot: Bot, minutes_before_expiration: int = 120) -> Bot | None:
        key = (bot.enterprise_id or "", bot.team_id or "")
        async with self._locks.setdefault(key, asyncio.Lock()):
            current = await self.store.async_find_bot(enterprise_id=bot.enterprise_id, team_id=bot.team_id)
            if current is not None and current.bot_token != bot.bot_token:
                return current  # rotated while this caller waited
            rotated = await super().perform_bot_token_rotation(
                bot=current or bot, minutes_before_expiration=minutes_before_expiration
            )
            if rotated is not None:
                await self.store.async_save_bot(rotated)
                logger.info("Slack bot token of workspace %s refreshed", bot.team_id)
            return rotated


class InstalledTokens:
    """Each workspace's current bot token for the Web API calls Steward makes on its own (deliveries, users.info):
    read from the store, refreshed first when it expires within `rotate_minutes`."""

    def __init__(
        self, store: DatabaseInstallationStore, rotator: SharedTokenRotator, *, rotate_minutes: int = 120
    ) -> None:
        self.store = store
        self.rotator = rotator
        self.rotate_minutes = rotate_minutes

    async def token(self, team_id: str) -> str | None:
        """The workspace's bot token; None when Steward is not installed there."""
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            return None
        if bot.bot_refresh_token:
            rotated = await self.rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=self.rotate_minutes
            )
            if rotated is not None:
                bot = rotated
        return bot.bot_token


def _key(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> tuple[str, str]:
    """An org-wide install is stored under its enterprise alone (team ""), as slack_sdk's own stores do."""
    return enterprise_id or "", "" if is_enterprise_install else team_id or ""


def _moment(epoch: int | float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, tz=UTC) if epoch is not None else None


def _row_of(installation: Installation) -> dict[str, Any]:
    enterprise, team = _key(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
    return {
        "enterprise_id": enterprise,
        "team_id": team,
        "app_id": installation.app_id,
        "enterprise_name": installation.enterprise_name,
        "enterprise_url": installation.enterprise_url,
        "team_name": installation.team_name,
        "bot_token": installation.bot_token,
        "bot_id": installation.bot_id,
        "bot_user_id": installation.bot_user_id,
        "bot_scopes": ",".join(installation.bot_scopes or ()),
        "bot_refresh_token": installation.bot_refresh_token,
        "bot_token_expires_at": _moment(installation.bot_token_expires_at),
        "installer_user_id": installation.user_id,
        "is_enterprise_install": bool(installation.is_enterprise_install),
        "token_type": installation.token_type,
        "installed_at": _moment(installation.installed_at) or datetime.now(UTC),
    }


def _installation_of(row: dict[str, Any]) -> Installation:
    expires: datetime | None = row["bot_token_expires_at"]
    return Installation(
        app_id=row["app_id"],
        enterprise_id=row["enterprise_id"] or None,
        enterprise_name=row["enterprise_name"],
        enterprise_url=row["enterprise_url"],
        team_id=row["team_id"] or None,
        team_name=row["team_name"],
        bot_token=row["bot_token"],
        bot_id=row["bot_id"],
        bot_user_id=row["bot_user_id"],
        bot_scopes=row["bot_scopes"] or "",
        bot_refresh_token=row["bot_refresh_token"],
        bot_token_expires_at=int(expires.timestamp()) if expires is not None else None,
        user_id=row["installer_user_id"] or "",
        is_enterprise_install=row["is_enterprise_install"],
        token_type=row["token_type"],
        installed_at=row["installed_at"].timestamp(),
    )
