"""The engine: record each event, ask every enabled rule what to do, persist state and outbox together.

A rule that raises is logged and skipped; the others still run (one broken plugin never takes the bot down).
State changes and outbound actions of an event are written in one transaction, so a crash between deciding
and sending loses nothing, and the idempotency key of each action means a re-decided action is not sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.errands import Errands
from bot.app.ownership import Ownership, Taken, wall_clock
from bot.app.perception import perceive, perceive_join
from bot.changes import Change, apply_all
from bot.commands import CommandRouter
from bot.core.actions import Action, PostEphemeral
from bot.core.clock import Clock
from bot.core.events import (
    CommandInvoked,
    Decided,
    Event,
    InteractionClicked,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    TimePassed,
    event_from_dict,
    event_to_dict,
)
from bot.core.markup import mentions
from bot.rules import Decision, Errand, Rule, RuleContext
from bot.settings import Settings
from bot.state import (
    ChannelState,
    CommunityState,
    MemberState,
    MessageInfo,
    QuestionState,
    WorkspaceState,
    columns,
)
from facilitation_rules.questions import chat_line, is_facilitated
from facilitation_rules.text.linked_tracker import LinkedConversationTracker
from storage import leases
from storage import repository as repo
from storage.leases import LeaseLost

logger = logging.getLogger(__name__)

CLOSED_QUESTIONS_KEPT = timedelta(days=7)
ANSWERED_QUESTIONS_KEPT = timedelta(days=30)
OUTBOX_KEYS_KEPT = 100_000
# Keys of events processed in this span are held in memory; a redelivery older than that is looked up in the database.
PROCESSED_WINDOW = timedelta(days=2)
# An event taken in and still waiting after this long: its handling failed (the database was away); a sweep retries.
LEFT_BEHIND_SECONDS = 10.0
MAX_DECIDED_PER_EVENT = 50  # an event and the facts rules decided about it (a guard against a loop between rules)
CHECKPOINT_FORMAT = 3  # bump when the text models' classes change shape: older checkpoints are then ignored
FORGOTTEN_YEAR = 2100  # "forget me" mutes a member for a century: their expertise is not rebuilt

Observer = Callable[[Event, Sequence[Action], RuleContext], None]


class Engine:
    def __init__(
        self,
        db: AsyncEngine,
        settings: Settings,
        rules: Sequence[Rule],
        clock: Clock,
        *,
        backfill: bool = False,
        batch_size: int = 1,
    ) -> None:
        self.db = db
        self.settings = settings
        self.rules = list(rules)
        # Only rules that react to events or keep time are asked (command-only rules have neither).
        self._handlers = [r for r in self.rules if _overrides(r, "handle")]
        self._timekeepers = [r for r in self.rules if _overrides(r, "next_due")]
        self._handlers_for: dict[type[Event], list[Rule]] = {}  # per event type, the rules that react to it
        self.clock = clock
        self.errands = Errands()  # the shell's side of the rules' slow work (the composition root registers it)
        self.backfill = backfill
        self.batch_size = batch_size
        self.state = CommunityState()
        if settings.reply_links == "model":
            self.state.tracker_kind = LinkedConversationTracker
        self.router = CommandRouter(self.rules)
        self.observers: list[Observer] = []
        self.on_outbox: list[Callable[[], None]] = []
        self.on_forget: list[Callable[[str, str], Awaitable[object]]] = []  # stores outside the batch (lessons)
        self.rule_failures: dict[str, int] = {}
        self.extras: dict[str, Any] = {}  # hooks modules hang on the engine (e.g. the report's lessons)
        self._batch = repo.WriteBatch()
        self._pending_events = 0
        self._outbox_keys: set[tuple[str, str]] = set()
        self._processed: dict[tuple[str, str], datetime] = {}  # (workspace, event key) -> the event's time
        self._processed_since = datetime.max.replace(tzinfo=UTC)  # every event at or after this is in _processed
        self._checkpointed: set[str] = set()  # workspaces whose stored checkpoint is still current
        self._store_text = settings.message_retention_days > 0
        self._last_forget: datetime | None = None
        self._lock = asyncio.Lock()
        self.ownership: Ownership | None = None  # set when several processes share the database (leases)
        self._replies_to_outbox = False  # events from the inbox: nobody waits for their private replies
        self._taken_in: dict[tuple[str, str], tuple[int, float]] = {}  # (workspace, key) -> (inbox row, when)
        self._failed: set[tuple[str, str]] = set()  # taken in, and an attempt to handle them failed
        self._reload_needed = False  # a write failed: the working set may be ahead of the database
        self._closed = False  # after `close`, nothing more is decided (a tick that waited for the lock, say)

    # --- life cycle ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Rebuild the working set from the database (with leases: none yet; each workspace when its lease is
        taken)."""
        now = self.clock.now()
        self._processed_since = now - PROCESSED_WINDOW
        self._checkpointed = await self._absorb(set() if self.ownership is not None else None)
        if self.ownership is None:
            await self._drain_inbox()  # events a crashed process had taken in (and acknowledged) but not handled
        logger.debug(
            "state loaded: %d workspaces, %d members, %d unresolved questions",
            len(self.state.workspaces),
            len(self.state.members),
            len(self.state.unresolved),
        )

    async def _absorb(self, only: set[str] | None) -> set[str]:
        """Load the stored working set (of the `only` workspaces, if given) into memory; the workspaces whose text
        models came from a checkpoint."""
        now = self.clock.now()
        async with self.db.connect() as conn:
            models = unpickle_checkpoints(await repo.load_checkpoints(conn, only))
        snapshot = await repo.load_snapshot(
            self.db, now, recent=PROCESSED_WINDOW, processed_since=self._processed_since, only=only,
            models_kept=set(models),
        )
        hydrate(self.state, snapshot, lambda ws, channel: is_facilitated(self.context(now), ws, channel))
        self._outbox_keys |= snapshot.outbox_keys
        self._processed.update(snapshot.processed)
        for row in snapshot.recent_messages:  # the recent messages span the same window
            self._processed[(row["workspace_id"], f"posted:{row['id']}")] = row["posted_at"]
        for ws, (tracker, index, private) in models.items():  # as the clean stop left them
            self.state.trackers[ws], self.state.expertise[ws] = tracker, index
            self.state.private_expertise.update({(ws, channel): kept for channel, kept in private.items()})
        return set(models)

    async def close(self) -> None:
        """A clean stop: write what is pending, checkpoint the text models, and close the database connections.

        The next start takes the checkpoint and so decides exactly as this process would have; after a crash
        (no checkpoint) the models are taught again from the stored messages.
        """
        async with self._lock:
            self._closed = True
            await self.flush()
            state = self.state
            rows = [
                {
                    "workspace_id": ws,
                    "format": CHECKPOINT_FORMAT,
                    "taken_at": self.clock.now(),
                    "blob": pickle.dumps((state.trackers.get(ws), state.expertise.get(ws), {
                        channel: index for (w, channel), index in state.private_expertise.items() if w == ws
                    })),
                }
                for ws in sorted(set(state.trackers) | set(state.expertise))
                if self.ownership is None or self.ownership.holds(ws)
            ]
            if rows:
                async with self.db.begin() as conn:
                    await repo.save_checkpoints(conn, rows)
            if self.ownership is not None:
                await self.ownership.release_all()
        await self.db.dispose()

    # --- events --------------------------------------------------------------------------------------------
    async def take_in(self, event: Event) -> None:
        """Store an event the moment it arrives, before the adapter acknowledges it to the platform.

        A platform delivers an event again only while it is unacknowledged, so an event acknowledged before its
        own transaction would be lost to a crash in between. Stored first, it waits in the inbox: `handle` takes
        the row in the transaction that stores the event's effects; after a crash the next start handles it, and
        after a failed attempt (the database away) the next sweep does. A redelivery finds its row there already.
        """
        async with self.db.begin() as conn:
            row = await leases.take_in(conn, event.workspace, event.key, event_to_dict(event), wall_clock())
        if row is not None:
            self._taken_in[(event.workspace, event.key)] = (row, time.monotonic())

    async def handle(self, event: Event) -> list[Action]:
        """Process one event and commit it; returns the private replies to hand straight back to the member.

        Events are handled one at a time (adapters, the scheduler and the console share one engine), so rules
        always see a consistent community and each event's writes form one transaction. An event whose writes fail
        leaves nothing behind: its decisions are dropped, the working set is loaded again before the next event,
        and the error is raised to the caller (an event taken in waits in the inbox for another attempt).
        """
        async with self._lock:
            try:
                return await self._handle(event)
            except BaseException:
                if (event.workspace, event.key) in self._taken_in:
                    self._failed.add((event.workspace, event.key))  # it waits in the inbox, before what comes next
                raise

    async def _handle(self, event: Event) -> list[Action]:
        """`handle`, under the lock."""
        if self._closed:
            logger.debug("%s after the stop: not handled here (what was taken in waits for the next start)",
                         type(event).__name__)
            return []
        await self._recover()
        shared = self.ownership is not None and event.workspace and not isinstance(event, TimePassed)
        try:
            decides = not shared or await self._decide_for(event.workspace)
        except LeaseLost:  # lost again while catching up on the inbox (this process stalled): the new owner decides
            decides = False
        if not decides:
            await self._hand_over(event)
            return []
        try:
            if self._inbox_first(event):
                await self._drain_inbox()
            replies = await self.process(event)
            await self.flush()
        except LeaseLost:
            if not isinstance(event, TimePassed):
                await self._hand_over(event)
            return []
        except BaseException:
            self._abandon()
            raise
        return replies

    def _inbox_first(self, event: Event) -> bool:
        """Whether what waits in the inbox must be handled before `event`, which is older than it.

        A sweep that ran ahead of the inbox (this process's loop was busy past a deadline) would flag a question
        whose answer waits there. And while other processes run, the platform spreads events over their
        connections: a question one of them took in may wait in the inbox while its answer reaches this process,
        and an answer handled before its question answers nothing in a flat channel. The same holds for an event
        of this process's own that waits there after a failed attempt (the database was away).
        """
        if isinstance(event, TimePassed):
            return self.ownership is not None or self._left_behind()
        return (self.ownership is not None and self.ownership.replicas > 1) or self._left_behind()

    def _abandon(self) -> None:
        """The event's decisions could not be stored: drop them; the working set is loaded again before the next
        decision, since it may hold changes the database never got."""
        self._batch = repo.WriteBatch()
        self._pending_events = 0
        self.state.take_dirty()
        self._take_rule_writes(repo.WriteBatch())
        self._reload_needed = True

    async def _recover(self) -> None:
        """After a failed write: the working set again as the database holds it (raises while it is away)."""
        if not self._reload_needed:
            return
        for workspace in list(self.state.workspaces):
            self._drop(workspace)
        self._processed.clear()
        self._outbox_keys.clear()
        await self._absorb(None if self.ownership is None else set(self.ownership.held))
        self._reload_needed = False
        logger.info("working set loaded again from the database after a failed write")

    def _left_behind(self) -> bool:
        """Whether an event taken in by this process waits in the inbox after a failed attempt (one that failed,
        or one waiting longer than its handling takes)."""
        if any(self.ownership is None or self.ownership.holds(workspace) for workspace, _ in self._failed):
            return True
        oldest = min((at for _, at in self._taken_in.values()), default=None)
        return oldest is not None and time.monotonic() - oldest > LEFT_BEHIND_SECONDS

    # --- several processes, one database: leases ------------------------------------------------------------
    async def _decide_for(self, workspace: str) -> bool:
        """Whether this process decides for `workspace` (taking its lease, and then its working set, if free)."""
        assert self.ownership is not None
        if self.ownership.holds(workspace):
            return True
        taken = await self.ownership.take(workspace)
        if not taken:
            return False
        if taken is Taken.KEPT:  # it was this process's all along (renewed late): its working set is right
            return True
        await self._reload(workspace)
        await self._drain_inbox()  # events handed over before this one come first
        return True

    async def _reload(self, workspace: str) -> None:
        """Rebuild one workspace's working set from the database: another process may have decided meanwhile."""
        await self.flush()
        self._drop(workspace)
        await self._absorb({workspace})

    def _drop(self, workspace: str) -> None:
        self.state.drop_workspace(workspace)
        self._processed = {key: at for key, at in self._processed.items() if key[0] != workspace}
        self._outbox_keys = {key for key in self._outbox_keys if key[0] != workspace}

    async def _hand_over(self, event: Event) -> None:
        """Leave the event in the inbox for the process that owns its workspace."""
        self._taken_in.pop((event.workspace, event.key), None)  # taken in already: the row stays for the owner
        self._failed.discard((event.workspace, event.key))
        async with self.db.begin() as conn:
            await leases.hand_over(conn, event.workspace, event.key, event_to_dict(event), wall_clock())
        logger.debug("event %s handed to the owner of %s", event.key, event.workspace)

    async def tend_leases(self) -> None:
        """Renew this process's leases, give up those beyond its share, take those nobody holds while it has room,
        and process the events waiting in the inbox."""
        if self.ownership is None:
            return
        async with self._lock:
            if self._closed:
                return
            await self._recover()
            for workspace in await self.ownership.renew():
                self._drop(workspace)
            await self.ownership.count()
            try:
                await self._give_up(self.ownership.surplus())
                for workspace in await self.ownership.unowned():
                    if await self.ownership.take(workspace) is Taken.NEW:
                        await self._reload(workspace)
                await self.ownership.let_go()
                await self._drain_inbox()
            except LeaseLost as lost:
                logger.warning("tending leases: %s", lost)
            except BaseException:
                self._abandon()
                raise

    async def _give_up(self, workspaces: list[str]) -> None:
        """Stop deciding for these workspaces: what was decided for them is written first, under the lease."""
        if not workspaces:
            return
        assert self.ownership is not None
        await self.flush()
        for workspace in workspaces:
            self.ownership.leave(workspace)
            self._drop(workspace)

    async def _drain_inbox(self) -> None:
        """Handle the events waiting in the inbox, oldest first: handed over by other processes, taken in before a
        crash, or left behind by a failed attempt. Events this process took in a moment ago are left to their own
        handling, which answers the member directly."""
        held = self.ownership.held if self.ownership is not None else None
        failed = {self._taken_in[key][0] for key in self._failed if key in self._taken_in}
        in_flight = {row: at for row, at in self._taken_in.values() if row not in failed}
        after = 0
        self._replies_to_outbox = True
        try:
            while True:
                async with self.db.connect() as conn:
                    rows = await leases.waiting(conn, held, after=after)
                for row in rows:
                    at = in_flight.get(row["id"])
                    if at is not None and time.monotonic() - at <= LEFT_BEHIND_SECONDS:
                        continue
                    try:
                        event = event_from_dict(row["event"])
                    except (ValueError, KeyError, TypeError) as exc:
                        logger.warning("inbox row %s is unreadable and dropped: %s", row["id"], exc)
                        self._batch.inbox_dropped.append(row["id"])
                        continue
                    self._taken_in[(event.workspace, event.key)] = (row["id"], at or time.monotonic())
                    await self.process(event)
                await self.flush()
                if len(rows) < leases.WAITING_PAGE:
                    break
                after = rows[-1]["id"]
        finally:
            self._replies_to_outbox = False

    async def process(self, event: Event) -> list[Action]:
        """Process one event into the pending batch (flushed every `batch_size` events).

        An event processed before (a redelivery, a retry, a duplicated line) is skipped: its effects are stored.
        """
        if not isinstance(event, TimePassed):
            key = event.key
            if await self._already_processed(event, key):
                logger.debug("event %s processed before; skipped", key)
                self._took(event)
                return []
            self._processed[(event.workspace, key)] = event.at
        self._record(event)
        ctx = self.context(event.at)
        self._seed_deadlines(ctx)
        if isinstance(event, MessagePosted):
            ctx.perception = perceive(event, ctx)
        elif isinstance(event, MemberJoined):
            perceive_join(event, ctx)
        replies: list[Action] = []
        pending: deque[Event] = deque([event])
        for _ in range(MAX_DECIDED_PER_EVENT):
            if not pending:
                break
            current = pending.popleft()
            actions = await self._decide(current, ctx, pending, replies, event.at)
            for observer in self.observers:
                observer(current, actions, ctx)
        else:
            logger.warning("rules kept deciding facts about %s; the rest is dropped", event.key)
        if not isinstance(event, TimePassed):
            # Written with the event's last changes, not before: an errand that flushes midway (a digest's figures,
            # a lesson's thread) must not mark the event done, or a crash right after would lose the rest of it.
            if not isinstance(event, MessagePosted):  # a posted message's own row is its processed fact
                self._batch.processed.append({"workspace_id": event.workspace, "key": event.key, "at": event.at})
            self._took(event)
        self._pending_events += 1
        if self._pending_events >= self.batch_size:
            await self.flush()
        return replies

    def _took(self, event: Event) -> None:
        """The event's inbox row (if it was taken in) goes with the event's writes."""
        if (event.workspace, event.key) in self._taken_in:
            self._batch.inbox_taken.append((event.workspace, event.key))

    async def _decide(
        self, event: Event, ctx: RuleContext, decided: deque[Event], replies: list[Action], at: datetime
    ) -> list[Action]:
        """Ask every rule about one event: their actions are returned (and enqueued, the private replies added to
        `replies`), the facts they decided queued.

        Actions join the pending batch as they are decided, before any errand runs: an errand may write the batch
        midway (`before=engine.flush`, as loading learning paths after a lease change does), and the state changes
        written then must not go without the actions that came with them (a flag posted for a question marked
        flagged), or a later write that is refused or fails would lose those actions for good.
        """
        actions: list[Action] = []
        enqueued = 0  # actions[:enqueued] are in the batch

        def enqueue() -> None:
            nonlocal enqueued
            replies.extend(self._enqueue(actions[enqueued:], at))
            enqueued = len(actions)

        handlers = self._handlers_for.get(type(event))
        if handlers is None:
            handlers = self._handlers_for[type(event)] = [
                rule for rule in self._handlers if isinstance(event, getattr(rule, "reacts_to", (Event,)))
            ]

        errands: list[Errand] = []

        def take(decision: Decision) -> None:
            """Changes are applied at once (the next rule sees them); errands wait for the shell."""
            for item in decision:
                if isinstance(item, Change):
                    item.apply(state)
                elif isinstance(item, Errand):
                    errands.append(item)
                else:
                    (decided if isinstance(item, Decided) else actions).append(item)  # type: ignore[arg-type]

        async def run_errands() -> None:
            while errands:
                enqueue()
                take(await self.errands.run(errands.pop(0), ctx))

        state = self.state
        for rule in handlers:
            try:
                decision = rule.handle(event, ctx)
            except Exception:
                self.rule_failures[rule.name] = self.rule_failures.get(rule.name, 0) + 1
                logger.exception("rule %s failed on %s; the other rules go on", rule.name, type(event).__name__)
                continue
            take(decision)
            if errands:  # right after the rule that left them, before the next rule decides
                await run_errands()
        if isinstance(event, CommandInvoked):
            take(self.router.dispatch(event, ctx))
            await run_errands()
        enqueue()
        return actions

    async def forget_workspace(self, workspace: str) -> int:
        """Delete one workspace from the database and from memory (its platform removed Steward and the operator
        chose to purge); what else is pending is written first. Returns how many rows went."""
        from storage.workspaces import forget_workspace

        await self.flush()
        removed = await forget_workspace(self.db, workspace)
        self._drop(workspace)
        self._checkpointed.discard(workspace)
        self._taken_in = {key: row for key, row in self._taken_in.items() if key[0] != workspace}
        self._failed = {key for key in self._failed if key[0] != workspace}
        return removed

    async def flush(self) -> None:
        """Write the pending state changes and outbox rows in one transaction."""
        dirty = self.state.take_dirty()
        batch, self._batch = self._batch, repo.WriteBatch()
        self._pending_events = 0
        batch.workspaces = [columns(w, _WS_COLS) for w in dirty.workspaces.values()]
        batch.channels = [columns(c, _CH_COLS) for c in dirty.channels.values()]
        batch.members = [columns(m, _MEMBER_COLS) for m in dirty.members.values()]
        batch.questions = [columns(q, _QUESTION_COLS) for q in dirty.questions.values()]
        self._take_rule_writes(batch)
        if not len(batch):
            return
        try:
            await self._write(batch)
        except LeaseLost:
            raise
        except BaseException:
            self._reload_needed = True  # the working set holds what the database did not get
            raise
        for done in batch.inbox_taken:
            self._taken_in.pop(done, None)
            self._failed.discard(done)
        if batch.outbox:
            for notify in self.on_outbox:
                notify()
        for row in batch.forgotten:
            for forget in self.on_forget:
                await forget(row["ws"], row["mid"])
        self._forget_old_state()

    async def _write(self, batch: repo.WriteBatch) -> None:
        touched: set[str] = set()
        taken_now: set[str] = set()
        if self.ownership is not None:
            # Any process may have left a checkpoint of these workspaces; it stops fitting with this write.
            touched = batch.workspace_ids()
            batch.stale_checkpoints = [{"ws": ws} for ws in sorted(touched)]
            for ws in sorted(touched):
                if not self.ownership.holds(ws) and await self.ownership.take(ws) is Taken.NEW:
                    taken_now.add(ws)
        elif self._checkpointed:  # the text models move on from here: the stored checkpoint no longer fits
            batch.stale_checkpoints = [{"ws": ws} for ws in sorted(self._checkpointed)]
            self._checkpointed = set()
        started = time.perf_counter()
        try:
            async with self.db.begin() as conn:
                if self.ownership is not None:
                    await self.ownership.fence(conn, touched)
                await repo.write_batch(conn, batch)
        except LeaseLost as lost:
            await self._after_refused_write(touched, lost)
            raise
        for workspace in sorted(taken_now):  # written before its lease was held: load what others stored too
            await self._reload(workspace)
        logger.debug("flushed %d rows in %.1f ms", len(batch), (time.perf_counter() - started) * 1000)

    async def _already_processed(self, event: Event, key: str) -> bool:
        if (event.workspace, key) in self._processed:
            return True
        if event.at >= self._processed_since:
            return False  # the memory holds every event key from this span
        async with self.db.connect() as conn:
            if isinstance(event, MessagePosted):
                return await repo.message_stored(conn, event.workspace, event.message_id)
            return await repo.event_processed(conn, event.workspace, key)

    async def _after_refused_write(self, touched: set[str], lost: LeaseLost) -> None:
        """The write was refused, so what the working set changed for it is gone: reload what is still ours."""
        assert self.ownership is not None
        logger.warning("write refused (%s); reloading the working set of %s", lost, ", ".join(sorted(touched)))
        for workspace in lost.workspaces:
            self.ownership.forget(workspace)
        for workspace in sorted(touched):
            self._drop(workspace)
            if self.ownership.holds(workspace):
                await self._absorb({workspace})

    def _forget_old_state(self) -> None:
        """Once a simulated or real day, old closed and answered questions leave the working set."""
        now = self.clock.now()
        if self._last_forget is not None and now - self._last_forget < timedelta(days=1):
            return
        self._last_forget = now
        forgotten = self.state.forget_old_questions(now - CLOSED_QUESTIONS_KEPT, now - ANSWERED_QUESTIONS_KEPT)
        since = now - PROCESSED_WINDOW
        if since > self._processed_since:
            self._processed = {key: at for key, at in self._processed.items() if at >= since}
            self._processed_since = since
        if len(self._outbox_keys) > OUTBOX_KEYS_KEPT:
            self._outbox_keys.clear()  # the outbox's unique key still refuses a repeated decision
        if forgotten:
            logger.debug("forgot %d closed questions from memory", forgotten)

    def _take_rule_writes(self, batch: repo.WriteBatch) -> None:
        """Rows rules asked for through the state: nudges and the expert registry."""
        state = self.state
        batch.nudges, state.new_nudges = state.new_nudges, []
        batch.nudge_answers, state.answered_nudges = state.answered_nudges, []
        batch.responses, state.new_responses = state.new_responses, []
        for op, ws, member, topics in state.topic_changes:
            if op == "remove":
                batch.expert_topics_removed.append({"ws": ws, "mid": member})
            batch.expert_topics_added.extend(
                {"workspace_id": ws, "member_id": member, "topic": topic} for topic in sorted(topics)
            )
        state.topic_changes = []
        batch.forgotten = [{"ws": ws, "mid": member} for ws, member in state.forget_requests]
        state.forget_requests = []

    # --- recording -----------------------------------------------------------------------------------------
    def _record(self, event: Event) -> None:
        """Store what happened (before any rule runs, so a failing rule never loses an event)."""
        if isinstance(event, TimePassed):
            return
        state, batch, ws = self.state, self._batch, event.workspace
        state.workspace(ws)
        if isinstance(event, MessagePosted):
            channel = state.channel(ws, event.channel)
            if event.channel_private is not None and channel.private != event.channel_private:
                channel.private = event.channel_private
                state.touch_channel(channel)
            state.mark_active(channel, event.at)
            self._seen(ws, event.user, event.at, event.user_name, bot=event.bot,
                       timezone=event.user_timezone, language=event.user_language)
            batch.messages.append(
                {
                    "workspace_id": ws,
                    "id": event.message_id,
                    "channel_id": event.channel,
                    "user_id": event.user,
                    "thread_id": event.thread,
                    "reply_to": event.reply_to,
                    "is_bot": event.bot,
                    "text": event.text if self._store_text else None,
                    "posted_at": event.at,
                    "edited_at": None,
                    "deleted_at": None,
                }
            )
            state.remember_message(
                ws, event.message_id, MessageInfo(event.channel, event.user, event.thread, event.at, event.bot),
                event.text,
            )
        elif isinstance(event, MessageEdited):
            batch.message_edits.append(
                {"ws": ws, "mid": event.message_id, "text": event.text if self._store_text else None, "at": event.at}
            )
        elif isinstance(event, MessageDeleted):
            batch.message_deletes.append({"ws": ws, "mid": event.message_id, "at": event.at})
        elif isinstance(event, ReactionAdded):
            self._seen(ws, event.user, event.at)
            batch.reactions.append(
                {
                    "workspace_id": ws,
                    "message_id": event.message_id,
                    "user_id": event.user,
                    "emoji": event.emoji,
                    "reacted_at": event.at,
                    "removed_at": None,
                }
            )
        elif isinstance(event, ReactionRemoved):
            batch.reaction_removals.append({"ws": ws, "mid": event.message_id, "uid": event.user, "emo": event.emoji})
        elif isinstance(event, MemberJoined):
            state.channel(ws, event.channel)
            self._seen(ws, event.user, event.at, event.user_name)
        elif isinstance(event, (CommandInvoked, InteractionClicked)) and (event.user_timezone or event.user_language):
            self._profile(state.member(ws, event.user), event.user_timezone, event.user_language)

    def _seen(
        self, ws: str, user: str, at: datetime, name: str | None = None, *, bot: bool = False,
        timezone: str | None = None, language: str | None = None,
    ) -> None:
        member = self.state.member(ws, user)
        changed = self._profile(member, timezone, language)
        if member.first_seen_at is None:
            member.first_seen_at, changed = at, True
        if name and member.name != name:
            member.name, changed = name, True
        if bot and not member.is_bot:
            member.is_bot, changed = True, True
        # last_seen_at is written at most hourly: it feeds "inactive contributors", not a live presence.
        if member.last_seen_at is None or at - member.last_seen_at >= timedelta(hours=1):
            member.last_seen_at, changed = at, True
        if changed:
            self.state.touch_member(member)

    def _profile(self, member: MemberState, timezone: str | None, language: str | None) -> bool:
        """What the platform says of a member (time zone, language); whether it changed anything."""
        changed = False
        if timezone and member.timezone != timezone:
            member.timezone, changed = timezone, True
        if language and member.language != language:
            member.language, changed = language, True
        if changed:
            self.state.touch_member(member)
        return changed

    def _enqueue(self, actions: Sequence[Action], at: datetime) -> list[Action]:
        """Outbound actions go to the outbox (once per key); private replies go straight back."""
        replies: list[Action] = []
        for action in actions:
            if isinstance(action, PostEphemeral) and not self._replies_to_outbox:
                replies.append(action)
                continue
            if self.backfill:
                continue  # importing history: decisions shape the state, but nothing is posted for the past
            key = (action.workspace, action.key)
            if key in self._outbox_keys:
                logger.debug("action %s already decided; not sent again", action.key)
                continue
            self._outbox_keys.add(key)
            self._batch.outbox.append(
                {
                    "workspace_id": action.workspace,
                    "key": action.key,
                    "action": action.to_dict(),
                    "status": "pending",
                    "attempts": 0,
                    "created_at": at,
                    "due_at": at,
                    "claimed_until": None,
                    "sent_at": None,
                    "platform_ref": None,
                    "last_error": None,
                }
            )
        return replies

    def context(self, now: datetime) -> RuleContext:
        return RuleContext(
            now=now, settings=self.settings, state=self.state, backfill=self.backfill
        )

    def _seed_deadlines(self, ctx: RuleContext) -> None:
        """Once per working set (after a start, a reload or a lost lease): every rule that keeps time derives its
        deadlines from the stored questions, so work that fell due while Steward was down is done once, now."""
        if self.state.timers.seeded:
            return
        self.state.timers.seeded = True
        for rule in self._timekeepers:
            seed = getattr(rule, "seed", None)
            if seed is None:
                continue
            try:
                apply_all((c for c in seed(ctx) if isinstance(c, Change)), self.state)
            except Exception:
                logger.exception("rule %s failed to derive its deadlines", rule.name)

    def next_due(self, now: datetime) -> datetime | None:
        """The earliest moment any rule has time-based work."""
        ctx = self.context(now)
        self._seed_deadlines(ctx)
        moments = [due for rule in self._timekeepers if (due := _next_due(rule, ctx)) is not None]
        return min(moments, default=None)

_WS_COLS = repo.column_names(repo.T_WORKSPACE)
_CH_COLS = repo.column_names(repo.T_CHANNEL)
_MEMBER_COLS = repo.column_names(repo.T_MEMBER)
_QUESTION_COLS = repo.column_names(repo.T_QUESTION)


def _overrides(rule: Rule, method: str) -> bool:
    """Whether the rule brings its own `method`, rather than RuleBase's do-nothing default (or none at all)."""
    from bot.rules import RuleBase

    own = getattr(type(rule), method, None)
    return own is not None and own is not getattr(RuleBase, method)


def _next_due(rule: Rule, ctx: RuleContext) -> datetime | None:
    method = getattr(rule, "next_due", None)
    if method is None:
        return None
    try:
        due: datetime | None = method(ctx)
    except Exception:
        logger.exception("rule %s failed to say when it is next due", rule.name)
        return None
    return due


def _build(cls: type, row: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in row.items() if k in names})


def hydrate(state: CommunityState, snapshot: repo.Snapshot, facilitated: Callable[[str, str], bool]) -> None:
    """Fill an empty state from stored rows (without marking anything dirty).

    The conversation tracker and the expertise index are not stored: they are taught again from the stored
    messages, in the order and with the inputs they had live, so they decide after a restart as they would have.
    `facilitated(workspace, channel)` says which channels the tracker watches.
    """
    for row in snapshot.workspaces:
        state.workspaces[row["id"]] = _build(WorkspaceState, row)
    for row in snapshot.channels:
        state.channels[(row["workspace_id"], row["id"])] = _build(ChannelState, row)
    for row in snapshot.members:
        state.members[(row["workspace_id"], row["id"])] = _build(MemberState, row)
    for row in snapshot.nudges:
        member = state.members.get((row["workspace_id"], row["member_id"]))
        if member is not None:
            member.nudges_sent.append(row["sent_at"])
            latest = member.last_nudged.get(row["kind"])
            if latest is None or row["sent_at"] > latest:
                member.last_nudged[row["kind"]] = row["sent_at"]
    for row in snapshot.expert_topics:
        state.expert_topics.setdefault((row["workspace_id"], row["member_id"]), set()).add(row["topic"])
    for (ws, member_id), topics in state.expert_topics.items():
        state.expertise_index(ws).set_registered_topics(member_id, topics)
    for row in snapshot.questions:
        question: QuestionState = _build(QuestionState, row)
        question.text = snapshot.question_texts.get((question.workspace_id, question.id), "")
        state.questions[(question.workspace_id, question.id)] = question
        state.touch_question(question)
    rebuild_expertise(state, snapshot)
    for row in snapshot.recent_messages:
        ws = row["workspace_id"]
        info = MessageInfo(row["channel_id"], row["user_id"], row["thread_id"], row["posted_at"], row["is_bot"])
        state.remember_message(ws, row["id"], info)
        if not row["is_bot"] and facilitated(ws, row["channel_id"]):
            _observe_again(state, row)
    state.take_dirty()


def unpickle_checkpoints(stored: dict[str, tuple[int, bytes]]) -> dict[str, tuple[Any, Any, dict[str, Any]]]:
    """The text models (tracker, expertise index, private channels' indexes) a clean stop left, per workspace;
    unreadable ones are skipped, and those workspaces' models are taught again from the stored messages."""
    models = {}
    for ws, (format_, blob) in stored.items():
        if format_ != CHECKPOINT_FORMAT:
            continue
        try:
            tracker, index, private = pickle.loads(blob)  # written by this program into its own database
        except Exception as exc:
            logger.warning("checkpoint of %s unreadable (%s); its text models are rebuilt", ws, type(exc).__name__)
            continue
        if tracker is not None and index is not None:
            models[ws] = (tracker, index, private)
    return models


def _observe_again(state: CommunityState, row: dict[str, Any]) -> None:
    """Show the tracker a stored message as the question rule showed it live (see `QuestionLifecycle.on_message`)."""
    ws, text = row["workspace_id"], row["text"] or ""
    member = state.members.get((ws, row["user_id"]))
    name = member.name if member is not None and member.name else None
    tracker = state.tracker(ws)
    if name:
        tracker.register_name(row["user_id"], name)
    question = state.questions.get((ws, row["id"]))
    stored = MessagePosted(
        workspace=ws,
        at=row["posted_at"],
        channel=row["channel_id"],
        message_id=row["id"],
        user=row["user_id"],
        text=text,
        thread=row["thread_id"],
        reply_to=row["reply_to"],
        user_name=name,
        mentions=mentions(text),
    )
    tracker.read(chat_line(stored), is_question=question is not None)
    if question is not None and question.status in {"not_a_question", "withdrawn"}:
        tracker.forget_question(question.id)


def rebuild_expertise(state: CommunityState, snapshot: repo.Snapshot) -> None:
    """Teach the expertise index again what it learned live: presence and questions from every message, answers
    (with their texts) from the response rows, in the order Steward learned them.
    """
    responses = iter(snapshot.responses)
    pending = next(responses, None)
    for ws, user, posted_at, is_bot, question_text, channel in snapshot.activity:
        while pending is not None and pending["recorded_at"] < posted_at:
            _replay_answer(state, pending)
            pending = next(responses, None)
        if not is_bot:
            state.expertise_index(ws, channel).record_activity(user, posted_at, question_text or "")
        while pending is not None and pending["recorded_at"] == posted_at:
            _replay_answer(state, pending)
            pending = next(responses, None)
    while pending is not None:
        _replay_answer(state, pending)
        pending = next(responses, None)
    for member in state.members.values():
        if member.muted_until is not None and member.muted_until.year >= FORGOTTEN_YEAR:
            for index in state.expertise_indexes(member.workspace_id):
                index.forget(member.id)


def _replay_answer(state: CommunityState, row: dict[str, Any]) -> None:
    question = state.questions.get((row["workspace_id"], row["question_id"]))
    if question is not None and not row["accepted"] and row["responder_id"] not in question.responders:
        question.responders.append(row["responder_id"])
    # Live, only the message being processed lends its text; a response revealed later (an earlier line) does not.
    with_text = not row["accepted"] and row["at"] == row["recorded_at"]
    channel = question.channel_id if question is not None else row.get("question_channel")
    state.expertise_index(row["workspace_id"], channel).record_answer(
        question_id=row["question_id"],
        question_text=row["question_text"] or "",
        answer_text=(row["answer_text"] or "") if with_text else "",
        answerer=row["responder_id"],
        at=row["at"],
        first=row["first"],
        accepted=row["accepted"],
    )
