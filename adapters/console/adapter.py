"""Steward in a terminal, like errbot's text backend.

Plain lines post as the current member in the current channel. Slash lines steer the session:
`/as NAME`, `/in CHANNEL`, `/reply N TEXT`, `/react N EMOJI`, `/click ACTION N`, `/advance 2h`,
`/steward ...`, `/help`, `/quit`. What Steward would post, DM or pin is printed plainly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from adapters.console.render import describe, local_time, plain
from bot.app.delivery import DeliveryWorker, RefLookup
from bot.app.engine import Engine
from bot.core.actions import Action
from bot.core.clock import SimulatedClock, parse_duration
from bot.core.events import (
    CommandInvoked,
    Event,
    InteractionClicked,
    MemberJoined,
    MessagePosted,
    ReactionAdded,
    TimePassed,
)
from bot.core.markup import mentions

logger = logging.getLogger(__name__)

WORKSPACE = "console:demo"
HELP = """\
Type a message to post it as the current member in the current channel.
  /as NAME            speak as another member
  /in CHANNEL         switch channel
  /join               join the current channel as the current member (a newcomer is welcomed)
  /reply N TEXT       reply in the thread of message N
  /react N EMOJI      react to message N (e.g. white_check_mark, bulb)
  /click ACTION N     press a button on Steward's message about message N (claim, solved, not_a_question;
                      decision_agree, decision_object, decision_record: N started the decision's thread;
                      commitment_done, commitment_help, commitment_later: N made the promise;
                      idea_vote, idea_withdraw, idea_accept, idea_start, idea_done, idea_decline: #N is idea N)
  /advance 2h         let simulated time pass (30m, 4h, 1d ...); Steward's timed work runs
  /steward ...        Steward's slash commands (/steward help)
  /quit               leave"""


class ConsoleSender:
    """Delivers actions by printing them."""

    def __init__(
        self, out: Callable[[str], None], names: Callable[[], dict[str, str]], workspace: str = WORKSPACE,
        numbers: Callable[[], dict[str, int]] = dict,
    ) -> None:
        self.out = out
        self.names = names
        self.numbers = numbers
        self.workspace = workspace
        self.sent: list[Action] = []

    def handles(self, workspace: str) -> bool:
        return workspace == self.workspace or workspace.startswith("console:")

    async def send(self, action: Action, refs: RefLookup) -> str | None:
        self.sent.append(action)
        self.out(describe(action, self.names(), self.numbers()))
        return f"steward-{len(self.sent)}"


class ConsoleSession:
    """One member at the keyboard in a community: the sample's after `make run`, else an empty one."""

    def __init__(
        self, engine: Engine, clock: SimulatedClock, out: Callable[[str], None] = print, *,
        workspace: str = WORKSPACE,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.out = out
        self.workspace = workspace
        self.user = "alice"
        self.channel = "general"
        self.numbers: list[str] = []  # message N is self.numbers[N - 1]
        self.session = f"{clock.now().timestamp():.0f}"  # message ids stay unique across sessions in one database
        self.sender = ConsoleSender(out, self._names, workspace, self._numbers)
        self.worker = DeliveryWorker(engine.db, [self.sender], clock)

    def _numbers(self) -> dict[str, int]:
        return {message_id: n for n, message_id in enumerate(self.numbers, start=1)}

    def _names(self) -> dict[str, str]:
        return {m.id: m.name or m.id for m in self.engine.state.members.values()}

    async def handle_line(self, line: str) -> bool:
        """Process one input line; False means the member wants to leave."""
        line = line.strip()
        if not line:
            return True
        if not line.startswith("/"):
            await self.post(line)
            return True
        command, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        match command.lower():
            case "quit" | "exit":
                return False
            case "help":
                self.out(HELP)
            case "as" if rest:
                self.user = rest.split()[0]
                self.out(f"(you are now {self.user})")
            case "in" if rest:
                self.channel = rest.lstrip("#").split()[0]
                self.out(f"(you are now in #{self.channel})")
            case "join":
                self.out(f"({self.user} joins #{self.channel})")
                await self.dispatch(
                    MemberJoined(
                        workspace=self.workspace, at=self.clock.now(), channel=self.channel, user=self.user,
                        user_name=self.user,
                    )
                )
            case "reply":
                number, _, text = rest.partition(" ")
                target = self._message(number)
                if target and text.strip():
                    await self.post(text.strip(), thread=target)
                elif target:
                    self.out("usage: /reply N TEXT")
            case "react":
                number, _, emoji = rest.partition(" ")
                target = self._message(number)
                if target and emoji.strip():
                    await self.dispatch(
                        ReactionAdded(
                            workspace=self.workspace,
                            at=self.clock.now(),
                            message_id=target,
                            user=self.user,
                            emoji=emoji.strip().strip(":"),
                        )
                    )
                elif target:
                    self.out("usage: /react N EMOJI")
            case "click":
                action, _, number = rest.partition(" ")
                # "#N" names Steward's own subject N (an idea's number), not the member's message N.
                target = number[1:] if number.startswith("#") and number[1:].isdigit() else self._message(number)
                if target and action:
                    await self.dispatch(
                        InteractionClicked(
                            workspace=self.workspace,
                            at=self.clock.now(),
                            channel=self.channel,
                            user=self.user,
                            action=action,
                            value=target,
                        )
                    )
            case "advance":
                await self.advance(rest)
            case "steward":
                await self.dispatch(
                    CommandInvoked(
                        workspace=self.workspace,
                        at=self.clock.now(),
                        channel=self.channel,
                        user=self.user,
                        args=rest,
                        is_admin=False,
                    )
                )
            case _:
                self.out(f"unknown console command '/{command}'; /help lists them")
        return True

    def _message(self, number: str) -> str | None:
        if number.isdigit() and 1 <= int(number) <= len(self.numbers):
            return self.numbers[int(number) - 1]
        self.out(f"there is no message [{number}]; messages are numbered as they are posted")
        return None

    async def post(self, text: str, thread: str | None = None) -> None:
        message_id = f"c{self.session}-{len(self.numbers) + 1}"
        self.numbers.append(message_id)
        self.out(
            f"[{len(self.numbers)}] #{self.channel} {self.user}: {text}"
            + (f"  (in thread of {thread})" if thread else "")
        )
        await self.dispatch(
            MessagePosted(
                workspace=self.workspace,
                at=self.clock.now(),
                channel=self.channel,
                message_id=message_id,
                user=self.user,
                user_name=self.user,
                text=text,
                thread=thread,
                mentions=mentions(text),
            )
        )
        self.clock.advance(timedelta(seconds=30))

    async def advance(self, text: str) -> None:
        try:
            span = parse_duration(text or "1h")
        except ValueError as exc:
            self.out(str(exc))
            return
        until = self.clock.now() + span
        for _ in range(10_000):  # each round consumes the due work, so this ends long before the guard
            due = self.engine.next_due(self.clock.now())
            if due is None or due > until:
                break
            self.clock.set(due)
            await self.dispatch(TimePassed(workspace="", at=self.clock.now()))
        self.clock.set(until)
        known = self.engine.state.workspaces.get(self.workspace)
        zone = (known.timezone if known is not None else "") or self.engine.settings.steward_timezone
        self.out(f"(it is now {local_time(until, zone)})")

    async def dispatch(self, event: Event) -> None:
        replies = await self.engine.handle(event)
        names = self._names()
        for reply in replies:
            self.out(describe(reply, names, self._numbers()))
        await self.worker.run_once()


async def run_console_session(
    engine: Engine, clock: SimulatedClock, out: Callable[[str], None] = print, *, workspace: str = WORKSPACE
) -> None:
    session = ConsoleSession(engine, clock, out, workspace=workspace)
    out("Steward console. /help lists the commands; you are alice in #general.")
    loop = asyncio.get_running_loop()
    while True:
        try:
            line = await loop.run_in_executor(None, input, f"{session.user}@#{session.channel}> ")
        except EOFError:
            break
        if not await session.handle_line(plain(line, {})):
            break
