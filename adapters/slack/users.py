"""Slack members as Steward needs them (time zone, language, admin), read through users.info and cached."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.sender import error_code
from bot.i18n import LANGUAGES

logger = logging.getLogger(__name__)

USER_CACHE_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class SlackUser:
    """What Steward keeps from users.info."""

    id: str
    name: str = ""
    timezone: str | None = None
    language: str | None = None
    is_admin: bool = False


class UserDirectory:
    """users.info, cached: time zone, locale, name and whether the member administers the workspace."""

    def __init__(self, client: AsyncWebClient, ttl: float = USER_CACHE_SECONDS) -> None:
        self.client = client
        self.ttl = ttl
        self._cache: dict[str, tuple[float, SlackUser]] = {}

    async def get(self, user_id: str, token: str | None = None) -> SlackUser:
        """The member, asked with `token` (their workspace's bot token) when given, else the client's."""
        cached = self._cache.get(user_id)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        asked: dict[str, Any] = {"token": token} if token is not None else {}
        try:
            response = await self.client.users_info(user=user_id, include_locale=True, **asked)
        except SlackApiError as exc:
            logger.warning("users.info failed for %s: %s", user_id, error_code(exc))
            return SlackUser(id=user_id)
        user = parse_user(response.get("user") or {})
        self._cache[user_id] = (time.monotonic(), user)
        return user


def parse_user(data: dict[str, Any]) -> SlackUser:
    """users.info's `user` -> SlackUser; only languages Steward speaks are kept."""
    profile = data.get("profile") or {}
    language = str(data.get("locale") or "").split("-")[0].lower() or None
    return SlackUser(
        id=str(data.get("id", "")),
        name=str(profile.get("display_name") or data.get("real_name") or data.get("name") or ""),
        timezone=data.get("tz") or None,
        language=language if language in LANGUAGES else None,
        is_admin=bool(data.get("is_admin") or data.get("is_owner") or data.get("is_primary_owner")),
    )
