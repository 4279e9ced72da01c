"""Settings from the environment and `.env`; every one is documented in `.env.example`.

Secrets are `SecretStr`, so printing or logging the settings never shows a token.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    # Storage
    database_url: str = Field(
        default="sqlite:///data/steward.db",
        description=(
            "Where Steward keeps its state: sqlite:///PATH (embedded) or "
            "postgresql://USER:PASSWORD@HOST/DB (several replicas)."
        ),
    )
    message_retention_days: int = Field(
        default=90, ge=0,
        description="Days message text is kept (metadata stays for metrics); 0 = never store message text.",
    )

    # Community defaults (per-channel settings override them)
    steward_language: str = Field(
        default="en",
        description="Language of Steward's posts when a member's own is unknown: en or de.",
    )
    steward_timezone: str = Field(
        default="UTC",
        description=(
            "The community's time zone (an IANA name such as Europe/Berlin): working hours and digests "
            "follow it."
        ),
    )
    answer_time_hours: float = Field(
        default=4.0, gt=0,
        description="Working hours a question may wait before Steward flags it (a channel can override it).",
    )
    escalation_hours: float = Field(
        default=4.0, gt=0,
        description="Working hours after the flag before the question goes to the facilitators' channel.",
    )
    flag_confidence: float = Field(
        default=0.7, ge=0, le=1,
        description=(
            "Below this probability that a flat-channel question is really unanswered, Steward asks the "
            "asker first instead of flagging it (0 = always flag)."
        ),
    )
    stale_after_days: int = Field(
        default=14, ge=1,
        description="Days after which an unanswered question counts as stale.",
    )
    work_start_hour: int = Field(
        default=9, ge=0, le=23,
        description="Hour the working day starts in the community's time zone (answer times count working hours only).",
    )
    work_end_hour: int = Field(
        default=17, ge=1, le=24,
        description="Hour the working day ends in the community's time zone.",
    )
    work_days: str = Field(
        default="mon,tue,wed,thu,fri",
        description="Working days, comma-separated: mon, tue, wed, thu, fri, sat, sun.",
    )
    facilitators_channel: str = Field(
        default="facilitators",
        description="Channel (name or id) where escalations and calls for help go.",
    )
    facilitators: str = Field(
        default="",
        description="Member ids who facilitate besides workspace admins, comma-separated.",
    )
    resolve_emoji: str = Field(
        default="white_check_mark",
        description="Reaction with which an asker marks their question solved.",
    )
    lesson_emoji: str = Field(default="bulb", description="Reaction that captures a thread as a lesson.")
    lesson_reaction_threshold: int = Field(
        default=3, ge=1,
        description="Members' LESSON_EMOJI reactions it takes to capture a thread (a facilitator's counts at once).",
    )
    lesson_related_replies: bool = Field(
        default=False,
        description="Answer a new question with one strongly matching lesson (off by default: busy channels).",
    )
    lesson_related_min_score: float = Field(
        default=0.6, gt=0, le=1,
        description="Share of the question's terms a lesson must hold to count as a strong match.",
    )
    lesson_review_days: int = Field(
        default=180, ge=1,
        description="Lessons unverified for this many days are listed for review (/steward lesson review).",
    )
    stale_lesson_months: int = Field(
        default=6, ge=0, le=120,
        description="Months without a verification after which a lesson is offered once to its authors for a "
        "review, by direct message (0 = never).",
    )
    nudges_per_day: int = Field(default=2, ge=0, description="At most this many nudges per member per day.")
    reply_links: Literal["rules", "model"] = Field(
        default="rules",
        description=(
            "How answers are found in flat channels: hand-written rules, or the learned reply-link model "
            "(not yet better)."
        ),
    )
    nudges_per_week: int = Field(default=5, ge=0, description="At most this many nudges per member per week.")
    quiet_start_hour: int = Field(
        default=20, ge=0, le=23,
        description="Start of the default quiet hours, in each member's own time zone (they may wrap midnight).",
    )
    quiet_end_hour: int = Field(
        default=8, ge=0, le=23,
        description="End of the default quiet hours, in each member's own time zone.",
    )
    stuck_nudge_cooldown_days: int = Field(
        default=7, ge=1,
        description="Days before a stuck member may get another \"can I help?\" message.",
    )
    confirm_after_hours: float = Field(
        default=8.0, ge=0,
        description=(
            "Working hours after the first answer before Steward asks the asker, once, whether it solved "
            "the question; 0 = never ask."
        ),
    )
    experts_per_question: int = Field(default=2, ge=1, description="Experts asked per unanswered question.")
    onboarding_invite_days: int = Field(
        default=7, ge=0, le=90,
        description="Days after joining before a welcomed newcomer who has not posted gets one gentle invitation "
        "(0 = never).",
    )
    digest_day: str = Field(
        default="mon",
        description="Day of the weekly digest, mon to sun (a channel can override it).",
    )
    digest_time: str = Field(
        default="09:00",
        description="Local time (HH:MM) of the weekly digest, in the community's time zone.",
    )
    sponsor_report_channel: str = Field(
        default="",
        description="Channel (name or id) for the monthly sponsor report, posted on the first working day of "
        "the month at 10:00 community time; empty: not posted.",
    )

    # Slack
    slack_bot_token: SecretStr | None = Field(
        default=None,
        description="Bot User OAuth Token (xoxb-...); setting it makes `steward run` connect to Slack.",
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        description="App-level token (xapp-...) with connections:write, for Socket Mode.",
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        description="HTTP mode: the signing secret that verifies every request.",
    )
    slack_mode: str = Field(
        default="socket",
        description=(
            "socket (Socket Mode, no public URL needed) or http (events, commands and interactivity at "
            "/slack/events)."
        ),
    )
    slack_http_port: int = Field(default=3000, description="HTTP mode: the port to listen on.")
    slack_http_host: str = Field(
        default="127.0.0.1",
        description="HTTP mode: the interface to listen on (loopback unless a proxy on another host forwards to it).",
    )
    slack_http_max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, le=1024 * 1024,
        description="HTTP mode: larger request bodies are refused before they are read or verified.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        description="Slack Web API base URL, for proxies; must end with /.",
    )
    slack_client_id: str | None = Field(
        default=None,
        description=(
            "\"Add to Slack\" for many workspaces: the app's Client ID. With SLACK_CLIENT_SECRET and "
            "SLACK_SIGNING_SECRET (SLACK_MODE=http) Steward serves /slack/install and /slack/oauth_redirect and "
            "keeps each workspace's bot token in the database; SLACK_BOT_TOKEN is then not used."
        ),
    )
    slack_client_secret: SecretStr | None = Field(
        default=None, description="\"Add to Slack\": the app's Client Secret (Basic Information).",
    )
    slack_scopes: str = Field(
        default=(
            "channels:history,groups:history,channels:read,groups:read,chat:write,commands,files:write,im:write,"
            "im:history,pins:write,reactions:read,reactions:write,users:read"
        ),
        description="\"Add to Slack\": the bot scopes a workspace grants, comma-separated (those of the manifest).",
    )
    slack_redirect_uri: str | None = Field(
        default=None,
        description=(
            "\"Add to Slack\": the Redirect URL, https://YOUR-HOST/slack/oauth_redirect; needed only when the app "
            "lists more than one."
        ),
    )
    slack_authorize_url: str = Field(
        default="https://slack.com/oauth/v2/authorize",
        description="\"Add to Slack\": where an installer is sent to approve Steward, for proxies.",
    )
    slack_uninstall: Literal["keep", "purge"] = Field(
        default="keep",
        description=(
            "When a workspace uninstalls Steward: keep its community data (a reinstall carries on) or purge "
            "every row of it. Its tokens and unsent messages go either way."
        ),
    )

    # Discord
    discord_token: SecretStr | None = Field(
        default=None,
        description="Bot token; setting it makes `steward run` connect to Discord.",
    )
    discord_application_id: str | None = Field(
        default=None,
        description="Application id, for `steward discord invite-url`.",
    )
    discord_api_url: str | None = Field(
        default=None,
        description="Discord REST API base URL, only behind a proxy (e.g. https://proxy.internal/api/v10).",
    )
    discord_gateway_url: str | None = Field(
        default=None,
        description="Discord gateway URL, only behind a proxy (e.g. wss://proxy.internal/gateway).",
    )
    discord_facilitator_role: str = Field(
        default="Facilitator",
        description="Role (name or id) whose members facilitate, besides members with Manage Server.",
    )
    discord_solved_tag: str = Field(
        default="solved",
        description="Forum tag Steward sets when a forum question is resolved, and reads when members set it.",
    )
    discord_shards: str = Field(
        default="auto",
        description=(
            "Gateway shards: `auto` takes the number Discord recommends for the bot's servers (one for a small "
            "bot), or a fixed number of shards."
        ),
    )
    discord_removal: Literal["keep", "purge"] = Field(
        default="keep",
        description=(
            "When a server removes Steward: keep its community data (adding Steward again carries on) or purge "
            "every row of it. Its unsent messages fail either way."
        ),
    )

    # LLM (optional)
    openai_api_key: SecretStr | None = Field(
        default=None,
        description="Key of an OpenAI-compatible API; without one, no message text leaves the organisation.",
    )
    openai_base_url: str | None = Field(
        default=None,
        description="A local or company-internal OpenAI-compatible server, e.g. http://llm.internal:8000/v1.",
    )
    openai_model: str = Field(default="gpt-4o-mini", description="The model that writes lessons and digest openings.")
    openai_timeout_seconds: float = Field(
        default=20.0, gt=0,
        description="Seconds to wait for the model before falling back to the offline method.",
    )
    openai_max_input_chars: int = Field(
        default=12000, ge=500,
        description="Cost guard: at most this many characters of a thread are sent (masked) to the model.",
    )

    # The web portal (`steward web`; `steward run` serves it too when WEB_PORT is set).
    web_port: int | None = Field(
        default=None, ge=1, le=65535,
        description=(
            "Port of the web portal; `steward run` serves it beside the platforms when this is set "
            "(`steward web`: 8080)."
        ),
    )
    web_host: str = Field(default="127.0.0.1", description="Interface the portal listens on (0.0.0.0 in a container).")
    web_base_url: str = Field(
        default="",
        description="How members reach the portal, for sign-in links; default http://WEB_HOST:WEB_PORT.",
    )
    web_secure_cookies: bool = Field(
        default=False,
        description="True behind HTTPS: the session cookie is sent only over it.",
    )
    web_min_group: int = Field(
        default=5, ge=1,
        description="Figures about fewer people than this are shown as \"too few to show\".",
    )
    web_slack_client_id: str | None = Field(
        default=None,
        description="\"Sign in with Slack\" on the portal: the Slack app's client id (OpenID Connect).",
    )
    web_slack_client_secret: SecretStr | None = Field(
        default=None, description="\"Sign in with Slack\": the Slack app's client secret.",
    )
    web_slack_authorize_url: str = Field(
        default="https://slack.com/openid/connect/authorize",
        description="\"Sign in with Slack\": where members are sent to sign in, for proxies.",
    )
    web_discord_client_secret: SecretStr | None = Field(
        default=None,
        description="\"Sign in with Discord\" on the portal: the application's OAuth2 client secret "
        "(the client id is DISCORD_APPLICATION_ID).",
    )
    web_discord_authorize_url: str = Field(
        default="https://discord.com/oauth2/authorize",
        description="\"Sign in with Discord\": where members are sent to sign in, for proxies.",
    )

    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING or ERROR.")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text (one readable line per entry) or json (one JSON object per line, for log collectors).",
    )
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535,
        description=(
            "`steward run`: serve /healthz, /readyz and Prometheus /metrics on this port for operators "
            "(unset: not served)."
        ),
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Interface of the METRICS_PORT server (loopback unless a scraper on another host reads it).",
    )
    sweep_seconds: int = Field(
        default=60, ge=1, le=3600,
        description="How often `steward run` looks for due work (flags, nudges, digests), in seconds.",
    )
    lease_seconds: int = Field(
        default=30, ge=3, le=3600,
        description=(
            "Several replicas: how long a workspace's lease lasts unrenewed (renewed every third of it) "
            "before another replica takes the workspace over."
        ),
    )

    @field_validator("steward_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"en", "de"}:
            raise ValueError("STEWARD_LANGUAGE must be 'en' or 'de'")
        return value

    @field_validator("discord_shards")
    @classmethod
    def _shard_count(cls, value: str) -> str:
        value = value.strip().lower()
        if value != "auto" and not (value.isdigit() and int(value) >= 1):
            raise ValueError(f"DISCORD_SHARDS '{value}' must be 'auto' or a number of shards (1 or more)")
        return value if value == "auto" else str(int(value))

    @field_validator("steward_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"STEWARD_TIMEZONE '{value}' is not an IANA time zone") from exc
        return value

    @field_validator("work_days")
    @classmethod
    def _known_days(cls, value: str) -> str:
        days = [d.strip().lower()[:3] for d in value.split(",") if d.strip()]
        unknown = set(days) - set(WEEKDAYS)
        if unknown or not days:
            raise ValueError(f"WORK_DAYS must list days like mon,tue,...; unknown: {', '.join(sorted(unknown))}")
        return ",".join(days)

    @cached_property
    def working_weekdays(self) -> frozenset[int]:
        return frozenset(WEEKDAYS.index(d) for d in self.work_days.split(","))

    @cached_property
    def facilitator_ids(self) -> frozenset[str]:
        return frozenset(x.strip() for x in self.facilitators.split(",") if x.strip())

    @property
    def has_slack(self) -> bool:
        return self.slack_bot_token is not None or self.slack_installs

    @property
    def slack_installs(self) -> bool:
        """Whether workspaces install Steward themselves ("Add to Slack") instead of one SLACK_BOT_TOKEN."""
        return bool(self.slack_client_id) and self.slack_client_secret is not None

    @property
    def has_discord(self) -> bool:
        return self.discord_token is not None

    @property
    def has_llm(self) -> bool:
        return self.openai_api_key is not None


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
