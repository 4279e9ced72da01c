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
    database_url: str = Field(default="sqlite:///data/steward.db")
    message_retention_days: int = Field(default=90, ge=0)  # 0 = never store message text

    # Community defaults (per-channel settings override them)
    steward_language: str = Field(default="en")
    steward_timezone: str = Field(default="UTC")
    answer_time_hours: float = Field(default=4.0, gt=0)
    escalation_hours: float = Field(default=4.0, gt=0)
    # Below this probability that a flat-channel question is really unanswered, Steward asks the asker first
    flag_confidence: float = Field(default=0.7, ge=0, le=1)
    stale_after_days: int = Field(default=14, ge=1)
    work_start_hour: int = Field(default=9, ge=0, le=23)
    work_end_hour: int = Field(default=17, ge=1, le=24)
    work_days: str = Field(default="mon,tue,wed,thu,fri")
    facilitators_channel: str = Field(default="facilitators")
    facilitators: str = Field(default="")  # comma-separated member ids
    resolve_emoji: str = Field(default="white_check_mark")
    lesson_emoji: str = Field(default="bulb")
    lesson_reaction_threshold: int = Field(default=3, ge=1)
    lesson_related_replies: bool = Field(default=False)  # answer new questions with a strongly matching lesson
    lesson_related_min_score: float = Field(default=0.6, gt=0, le=1)  # share of the question's terms it must hold
    lesson_review_days: int = Field(default=180, ge=1)  # unverified for this long: listed for review
    nudges_per_day: int = Field(default=2, ge=0)
    # How flat-channel answers are found: "rules" (default) or "model", the learned reply links (not yet better)
    reply_links: Literal["rules", "model"] = Field(default="rules")
    nudges_per_week: int = Field(default=5, ge=0)
    quiet_start_hour: int = Field(default=20, ge=0, le=23)
    quiet_end_hour: int = Field(default=8, ge=0, le=23)
    stuck_nudge_cooldown_days: int = Field(default=7, ge=1)
    confirm_after_hours: float = Field(default=8.0, ge=0)  # 0 = never ask an asker whether an answer solved it
    experts_per_question: int = Field(default=2, ge=1)
    digest_day: str = Field(default="mon")  # weekly digest: day and local time (a channel can override)
    digest_time: str = Field(default="09:00")

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_mode: str = Field(default="socket")  # socket | http
    slack_http_port: int = Field(default=3000)
    # HTTP mode: the interface to listen on (loopback unless a proxy on another host forwards to it), and the
    # largest request body read; larger ones are refused before they are read or verified.
    slack_http_host: str = Field(default="127.0.0.1")
    slack_http_max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    slack_api_url: str = Field(default="https://slack.com/api/")

    # Discord
    discord_token: SecretStr | None = None
    discord_application_id: str | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    discord_facilitator_role: str = Field(default="Facilitator")
    discord_solved_tag: str = Field(default="solved")

    # LLM (optional)
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = Field(default="gpt-4o-mini")
    openai_timeout_seconds: float = Field(default=20.0, gt=0)
    openai_max_input_chars: int = Field(default=12000, ge=500)

    # The web portal (`steward web`; `steward run` serves it too when WEB_PORT is set).
    web_port: int | None = Field(default=None, ge=1, le=65535)
    web_host: str = Field(default="127.0.0.1")
    web_base_url: str = Field(default="")  # how members reach it, for sign-in links; default http://WEB_HOST:port
    web_secure_cookies: bool = Field(default=False)  # true behind HTTPS: the session cookie is sent only over it
    web_min_group: int = Field(default=5, ge=1)  # figures about fewer people are shown as "too few to show"

    log_level: str = Field(default="INFO")
    # How often `steward run` looks for due work, and how long a replica's lease on a workspace lasts unrenewed
    # (it is renewed every third of that; another replica takes the workspace over once it expired).
    sweep_seconds: int = Field(default=60, ge=1, le=3600)
    lease_seconds: int = Field(default=30, ge=3, le=3600)

    @field_validator("steward_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"en", "de"}:
            raise ValueError("STEWARD_LANGUAGE must be 'en' or 'de'")
        return value

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
        return self.slack_bot_token is not None

    @property
    def has_discord(self) -> bool:
        return self.discord_token is not None

    @property
    def has_llm(self) -> bool:
        return self.openai_api_key is not None


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
