"""The rule protocol: a rule looks at one event and the community's state and says what to do.

Rules never import a platform SDK, the database or the LLM client, and never await anything: a rule is a plain
function of the event and the working set. It returns actions; what it understood that others need (a new
question, an answer, a flag) as a `Decided` event, which the engine hands to every rule right after the event
itself; what it changes in the working set as `Change`s (bot.changes), which the engine applies and persists in
the same transaction as the actions; and what needs slow I/O (a store query, a distillation, an LLM) as an
`Errand`, which the application shell runs after the rule and turns into actions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.changes import Change
from bot.core.actions import Action, Card, PostEphemeral
from bot.core.events import CommandInvoked, Decided, Event
from bot.core.lessons import LessonHit
from bot.i18n import supported, translate
from bot.settings import Settings
from bot.state import ChannelState, CommunityState, MemberState, WorkspaceState
from facilitation_rules.text.answers import Response
from facilitation_rules.text.questions import QuestionVerdict


class KnowledgeBase(Protocol):
    """Search over the lessons store; the lessons module provides it, rules only query it."""

    async def related(self, workspace: str, text: str, *, limit: int = 3) -> Sequence[LessonHit]: ...


@dataclass(frozen=True, slots=True)
class Perception:
    """What the text models made of a posted message before the rules ran (see `bot.app.perception`)."""

    verdict: QuestionVerdict | None = None  # None: not looked at (a reply in a thread, a command, a bot)
    response: Response | None = None  # the earlier question the conversation tracker links it to

    @property
    def asks(self) -> bool:
        return self.verdict is not None and self.verdict.is_question


@dataclass
class RuleContext:
    """What a rule may know while deciding: the time, the settings, the community (a view: rules read it and
    return changes), and what the text models perceived in the message being decided about."""

    now: datetime
    settings: Settings
    state: CommunityState
    backfill: bool = False  # importing history: the engine posts nothing; rules skip work that only serves posts
    perception: Perception = field(default_factory=Perception)

    def workspace(self, workspace_id: str) -> WorkspaceState:
        """The workspace, or its defaults if Steward has not seen it (nothing is added to the working set)."""
        found = self.state.workspaces.get(workspace_id)
        return found if found is not None else WorkspaceState(id=workspace_id, platform=workspace_id.split(":")[0])

    def channel(self, workspace_id: str, channel_id: str) -> ChannelState:
        found = self.state.channels.get((workspace_id, channel_id))
        return found if found is not None else ChannelState(workspace_id=workspace_id, id=channel_id, name=channel_id)

    def member(self, workspace_id: str, member_id: str) -> MemberState:
        found = self.state.members.get((workspace_id, member_id))
        return found if found is not None else MemberState(workspace_id=workspace_id, id=member_id, name=member_id)

    def language(self, workspace_id: str, member_id: str | None = None, *, otherwise: str | None = None) -> str:
        """The member's language if known, else `otherwise` (a channel's, a question's), else the workspace's."""
        if member_id is not None:
            member = self.state.members.get((workspace_id, member_id))
            if member is not None and member.language:
                return supported(member.language)
        return supported(otherwise or self.workspace(workspace_id).language)

    def channel_language(self, workspace_id: str, channel_id: str) -> str:
        """What a channel speaks: its `language` setting, else the language most of its questions were asked in
        (a German channel in an English workspace), else the workspace's."""
        channel = self.state.channels.get((workspace_id, channel_id))
        settings = channel.settings if channel is not None else {}
        if settings.get("language"):
            return supported(str(settings["language"]))
        asked: dict[str, int] = settings.get("asked_in") or {}
        if asked:  # the most asked-in language; a tie goes to the one named first (alphabetically)
            return supported(max(sorted(asked), key=lambda language: asked[language]))
        return supported(self.workspace(workspace_id).language)

    def t(
        self, workspace_id: str, key: str, /, *, for_member: str | None = None, language: str | None = None,
        **params: Any,
    ) -> str:
        """A catalog text in the member's language (else `language`, else the workspace's)."""
        return translate(key, self.language(workspace_id, for_member, otherwise=language), **params)

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


CommandHandler = Callable[[CommandInvoked, list[str], RuleContext], "Decision"]


@dataclass(frozen=True, slots=True)
class Command:
    """A `/steward` subcommand a rule offers."""

    name: str
    handler: CommandHandler
    help_key: str  # catalog key of its one-line help
    facilitators_only: bool = False
    usage: str = ""
    # Other words that run it (`paths` for `path`): the router knows them, platforms register only the name, so
    # Discord's 25 subcommands of `/steward` are not spent on them.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Errand:
    """Work with slow I/O that a rule leaves to the application shell: a store query, a distillation, an LLM.

    The shell runs it right after the rule decided (see `bot.app.errands`) and its outcome is a decision like a
    rule's. Without a handler for it (no store wired in), or when the handler fails, `unserved` decides instead.
    """

    workspace: str

    def unserved(self, ctx: RuleContext) -> Decision:
        """What to do when the shell cannot run this errand: by default nothing."""
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandErrand(Errand):
    """An errand that answers a `/steward` command: if it cannot be run, the member hears so."""

    command: CommandInvoked

    def unserved(self, ctx: RuleContext) -> Decision:
        return [command_failed(self.command, ctx)]


def command_failed(event: CommandInvoked, ctx: RuleContext) -> PostEphemeral:
    name = event.args.split(maxsplit=1)[0].lower() if event.args.strip() else "help"
    return ctx.reply(event, "command.failed", name=name)


# What a rule says to do, the facts it decided for the other rules, and the errands it leaves to the shell.
Decision = Sequence[Action | Decided | Errand | Change]


@runtime_checkable
class Rule(Protocol):
    name: str

    def handle(self, event: Event, ctx: RuleContext) -> Decision: ...


class RuleBase:
    """Convenience base: no commands, ignores every event unless overridden."""

    name = "rule"
    reacts_to: tuple[type[Event], ...] = (Event,)  # the events `handle` looks at; the engine asks about no others

    def commands(self) -> Mapping[str, Command]:
        return {}

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        return ()

    def next_due(self, ctx: RuleContext) -> datetime | None:
        """When this rule next has time-based work (replay jumps the simulated clock there); None: nothing due."""
        return None

    def seed(self, ctx: RuleContext) -> Decision:
        """The deadlines to derive from the stored questions when a working set is loaded (as `Scheduled`)."""
        return ()
