"""What the application and the adapters agree on: the shapes that cross between them.

Adapters implement these; the application (runner, importer) uses them. Keeping them here, below both, lets
each import the other's side without a cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.actions import Action
from bot.core.events import Event

logger = logging.getLogger(__name__)


class RefLookup(Protocol):
    async def __call__(self, workspace: str, key: str) -> str | None: ...


class Sender(Protocol):
    """An adapter's outbound side."""

    def handles(self, workspace: str) -> bool: ...

    async def send(self, action: Action, refs: RefLookup) -> str | None:
        """Deliver one action; return the platform's id for what was posted, if any."""
        ...


class PlatformAdapter(Protocol):
    """What `run_platforms` needs from an adapter (adapters/slack, adapters/discord)."""

    platform: str  # "slack", "discord": how readiness names its connection
    sender: Sender

    async def start(self) -> None:
        """Connect; raise AdapterStartError with a message that names the setting to fix."""
        ...

    async def stop(self) -> None: ...

    async def ready(self) -> bool:
        """Whether the platform connection is up now (`/readyz`)."""
        ...


class AdapterStartError(Exception):
    """An adapter cannot start (missing or wrong token, intents not enabled): the message says what to fix."""


class ExportError(Exception):
    """The export as a whole cannot be read (missing, corrupt, wrong format, nothing usable)."""


@dataclass
class ExportProblems:
    """What was skipped or looked wrong, each naming the file (and message id) so it can be found."""

    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def skip(self, where: str, why: str, message_id: str | None = None) -> None:
        text = f"{where}{f' (message {message_id})' if message_id else ''}: {why}; skipped"
        self.skipped.append(text)
        logger.warning(text)

    def warn_once(self, key: str, text: str) -> None:
        """A warning that would otherwise repeat for every message (an unknown user id, say)."""
        if key not in self._seen:
            self._seen.add(key)
            self.warnings.append(text)
            logger.warning(text)


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str
    private: bool = False
    kind: str = "text"  # text | forum


@dataclass(frozen=True)
class UserInfo:
    id: str
    name: str
    timezone: str | None = None
    bot: bool = False


class Export(Protocol):
    """A platform export read as one time-ordered stream of events."""

    platform: str
    workspace_id: str  # the platform's own id: "T123" for Slack, the guild id for Discord
    workspace_name: str
    timezone: str | None
    problems: ExportProblems

    @property
    def channels(self) -> dict[str, ChannelInfo]: ...

    @property
    def users(self) -> dict[str, UserInfo]: ...

    def events(self) -> Iterator[Event]: ...
