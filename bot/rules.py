"""The rule protocol: a rule looks at one event and the community's state and says what to do.

Rules never import a platform SDK, the database or the LLM client: they return actions, and they change the
community's state only through `CommunityState`'s mutators, which the engine persists in the same transaction
as the actions. What a rule understood that others need (a new question, an answer, a flag) it returns as a
`Decided` event beside its actions; the engine hands those to every rule right after the event itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.core.actions import Action, Card, PostEphemeral
from bot.core.events import CommandInvoked, Decided, Event
from bot.i18n import supported, translate
from bot.settings import Settings
from bot.state import ChannelState, CommunityState, MemberState, WorkspaceState


class KnowledgeBase(Protocol):
    """Search over the lessons store; the lessons module provides it, rules only query it."""

    async def related(self, workspace: str, text: str, *, limit: int = 3) -> Sequence[LessonHit]: ...


@dataclass(frozen=True, slots=True)
class LessonHit:
    id: str
    title: str
    link: str = ""
    score: float = 0.0


class NoKnowledge:
    async def related(self, workspace: str, text: str, *, limit: int = 3) -> Sequence[LessonHit]:
        return ()


@dataclass
class RuleContext:
    """What a rule may know while deciding: the time, the settings and the community."""

    now: datetime
    settings: Settings
    state: CommunityState
    knowledge: KnowledgeBase = field(default_factory=NoKnowledge)
    backfill: bool = False  # importing history: the engine posts nothing; rules skip work that only serves posts

    def workspace(self, workspace_id: str) -> WorkspaceState:
        return self.state.workspace(workspace_id)

    def channel(self, workspace_id: str, channel_id: str) -> ChannelState:
        return self.state.channel(workspace_id, channel_id)

    def member(self, workspace_id: str, member_id: str) -> MemberState:
        return self.state.member(workspace_id, member_id)

    def language(self, workspace_id: str, member_id: str | None = None) -> str:
        """The member's language if known, else the workspace's."""
        if member_id is not None:
            member = self.state.members.get((workspace_id, member_id))
            if member is not None and member.language:
                return supported(member.language)
        return supported(self.state.workspace(workspace_id).language)

    def t(self, workspace_id: str, key: str, /, *, for_member: str | None = None, **params: Any) -> str:
        """A catalog text in the member's language (or the workspace's)."""
        return translate(key, self.language(workspace_id, for_member), **params)

    def is_facilitator(self, workspace_id: str, member_id: str, *, is_admin: bool = False) -> bool:
        if is_admin or member_id in self.settings.facilitator_ids:
            return True
        member = self.state.members.get((workspace_id, member_id))
        return bool(member and member.is_facilitator)

    def reply(self, event: CommandInvoked, key: str, /, card: Card | None = None, **params: Any) -> PostEphemeral:
        """A private answer to the member who ran a command."""
        return PostEphemeral(
            key=f"reply:{event.channel}:{event.user}:{event.at.isoformat()}:{key}",
            workspace=event.workspace,
            channel=event.channel,
            user=event.user,
            text=self.t(event.workspace, key, for_member=event.user, **params),
            card=card,
        )


CommandHandler = Callable[[CommandInvoked, list[str], RuleContext], Awaitable["Decision"]]


@dataclass(frozen=True, slots=True)
class Command:
    """A `/steward` subcommand a rule offers."""

    name: str
    handler: CommandHandler
    help_key: str  # catalog key of its one-line help
    facilitators_only: bool = False
    usage: str = ""


Decision = Sequence[Action | Decided]  # what a rule says to do, and the facts it decided for the other rules


@runtime_checkable
class Rule(Protocol):
    name: str

    async def handle(self, event: Event, ctx: RuleContext) -> Decision: ...


class RuleBase:
    """Convenience base: no commands, ignores every event unless overridden."""

    name = "rule"
    reacts_to: tuple[type[Event], ...] = (Event,)  # the events `handle` looks at; the engine asks about no others

    def commands(self) -> Mapping[str, Command]:
        return {}

    async def handle(self, event: Event, ctx: RuleContext) -> Decision:
        return ()

    def next_due(self, ctx: RuleContext) -> datetime | None:
        """When this rule next has time-based work (replay jumps the simulated clock there); None: nothing due."""
        return None
