""""Add to Slack": slack-bolt's own OAuth flow over Steward's database, for as many workspaces as install it.

`/slack/install` sends the installer to Slack (state issued and set as a cookie), `/slack/oauth_redirect` takes
Slack's code back, checks the state once, exchanges the code (oauth.v2.access) and stores the installation. From
then on bolt's authorize finds the workspace's bot token per request (refreshing it first when the app rotates
tokens). Each step is one log line, which never holds a token, a code or a state.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.installations import DatabaseInstallationStore, DatabaseStateStore, SharedTokenRotator
from bot.settings import Settings
from storage import slack_installations as stored

logger = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
UNINSTALLED = "Steward was uninstalled from this Slack workspace"
# Events that arrive when the workspace's tokens are gone already: bolt lets them through without a token.
_NO_INSTALLATION_EVENTS = frozenset({"app_uninstalled", "tokens_revoked", "team_access_revoked"})
_REFUSALS = {
    "invalid_state": "the state was used before, never issued or has expired",
    "invalid_browser": "the state does not match the installer's browser cookie (forged, or another browser)",
    "missing_code": "Slack's redirect carried no code",
    "invalid_code": "Slack did not accept the code",
    "storage_error": "the installation could not be stored",
    "access_denied": "the installer cancelled",
}
_REASON = re.compile(r"[a-z_]{1,40}")


def installable_app(
    settings: Settings,
    client: AsyncWebClient,
    store: DatabaseInstallationStore,
    rotator: SharedTokenRotator,
    *,
    before_authorize: Any,
) -> AsyncApp:
    """bolt's AsyncApp with the install flow, the database stores and the shared token rotator."""
    client_id = str(settings.slack_client_id)
    client_secret = settings.slack_client_secret.get_secret_value() if settings.slack_client_secret else ""
    signing = settings.slack_signing_secret
    oauth = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=[scope.strip() for scope in settings.slack_scopes.split(",") if scope.strip()],
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri or None,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        install_page_rendering_enabled=False,  # /slack/install goes straight on to Slack
        authorization_url=settings.slack_authorize_url,
        installation_store=store,
        state_store=DatabaseStateStore(store.db),
        callback_options=AsyncCallbackOptions(success=_installed, failure=_refused),
        logger=logger,
    )
    authorize = AsyncInstallationStoreAuthorize(
        logger=logger,
        installation_store=store,
        client_id=client_id,
        client_secret=client_secret,
        token_rotation_expiration_minutes=oauth.token_rotation_expiration_minutes,
        cache_enabled=True,  # auth.test once per token, not per request
        client=client,
    )
    authorize.token_rotator = rotator  # one rotation per workspace at a time, shared with the deliveries
    oauth.authorize = authorize
    flow = AsyncOAuthFlow(client=client, settings=oauth)
    return AsyncApp(
        client=client,
        signing_secret=signing.get_secret_value() if signing else "",
        oauth_flow=flow,
        before_authorize=before_authorize,
    )


def needs_no_installation(body: Any) -> bool:
    """Requests answered without a workspace token: Slack's URL check, its SSL check, and the events telling that
    the tokens are gone."""
    if not isinstance(body, dict):
        return False
    if body.get("type") in ("url_verification", "ssl_check"):
        return True
    event = body.get("event")
    return body.get("type") == "event_callback" and isinstance(event, dict) and (
        event.get("type") in _NO_INSTALLATION_EVENTS
    )


async def installed_teams(db: AsyncEngine) -> list[str]:
    return await stored.installed_teams(db)


async def fail_unsent(db: AsyncEngine, workspace: str) -> int:
    """The workspace's outbox rows still waiting, failed: nothing can reach a workspace that removed Steward."""
    return await stored.fail_unsent(db, workspace, UNINSTALLED)


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    installation = args.installation
    logger.info("Slack workspace %s (%s) installed Steward", installation.team_id, installation.team_name or "")
    return await args.default.success(args)


async def _refused(args: AsyncFailureArgs) -> BoltResponse:
    reason = args.reason if _REASON.fullmatch(args.reason or "") else "unknown"  # `error=` comes from the URL
    logger.warning("Slack install refused: %s (%s)", reason, _REFUSALS.get(reason, "as Slack's redirect said"))
    return await args.default.failure(args)
