"""Co-creation errands: store and read decisions and commitments, distil threads, and answer with the rules' actions.

The rules (facilitation_rules.decisions, facilitation_rules.commitments) decide what should happen; these handlers
do the I/O and hand the stored records back to the rules' pure functions for the actions. Each write is keyed by
the event that caused it, so an event handled again after a crash yields the same rows and the same actions (whose
outbox keys then send nothing twice).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.app.decision_llm import make_decision_distiller
from bot.core.cocreation import AGREED, HELP, OBJECTED, OPEN, SUPERSEDED, CommitmentRecord, DecisionRecord
from bot.core.markup import excerpt
from bot.i18n import local_datetime
from bot.rules import Decision, RuleContext
from facilitation_rules import commitments as commit_rule
from facilitation_rules import decisions as decide_rule
from facilitation_rules.commitments import (
    STILL_LOADED,
    AnswerCommitment,
    Commitments,
    FollowUpCommitment,
    ListCommitments,
    LoadCommitments,
    RecordCommitment,
)
from facilitation_rules.decisions import (
    ANNOUNCED_WITHIN,
    SEARCH_RESULTS,
    CloseConsent,
    DecisionDistiller,
    DecisionLog,
    LoadDecisions,
    OfferDecision,
    RecordDecision,
    SearchDecisions,
    VoteOnDecision,
)
from facilitation_rules.etiquette import member_zone
from facilitation_rules.lesson_contradictions import ReviewLessonsAgainst
from facilitation_rules.lessons import ThreadReader, permalink
from storage.commitments import CommitmentStore
from storage.decisions import DecisionStore
from storage.lessons import MessageThreadReader

if TYPE_CHECKING:
    from bot.app.engine import Engine

logger = logging.getLogger(__name__)

Flush = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


class CocreationErrands:
    def __init__(
        self,
        decisions: DecisionStore,
        commitments: CommitmentStore,
        reader: ThreadReader,
        distiller: DecisionDistiller | None = None,
        *,
        before: Flush | None = None,
    ) -> None:
        self.decisions, self.commitments, self.reader = decisions, commitments, reader
        self.distiller = distiller or decide_rule.OfflineDecisionDistiller()
        self.before = before or _nothing  # the engine's pending writes first: "asked" facts and outbox rows

    # --- decisions -----------------------------------------------------------------------------------------
    async def record_decision(self, errand: RecordDecision, ctx: RuleContext) -> Decision:
        ws, event = errand.workspace, errand.reply_to
        again = await self.decisions.by_origin(ws, errand.origin)
        if again is not None:  # this event recorded it before its effects were stored: the same answer again
            return [*decide_rule.proposed(again, ctx), self._recorded_reply(errand, again, ctx)]
        superseded: DecisionRecord | None = None
        if errand.supersedes is not None:
            superseded = await self.decisions.get(ws, errand.supersedes)
            if superseded is None:
                return [decide_rule.private(event, ctx, "decide.not_found", id=errand.supersedes)]
            admin = bool(getattr(event, "is_admin", False))
            if superseded.recorded_by != errand.by and not ctx.is_facilitator(ws, errand.by, is_admin=admin):
                logger.info("%s may not supersede decision %s: not its recorder or a facilitator", errand.by,
                            superseded.id)
                return [decide_rule.private(event, ctx, "command.not_allowed", name="decide supersede")]
            if superseded.status == SUPERSEDED:
                return [decide_rule.private(event, ctx, "decide.already_superseded", id=superseded.id,
                                            by=superseded.superseded_by or "?")]
        live = await self.decisions.live_in_thread(ws, errand.root)
        if live is not None and (superseded is None or live.id != superseded.id):
            if live.status == OBJECTED and superseded is None:
                return await self._repropose(errand, live, ctx)
            if live.status == OBJECTED or live.open_for_consent:
                return [decide_rule.private(event, ctx, "decide.exists_open", id=live.id, title=_named(live),
                                            until=self._until(live, ctx, errand.by))]
            return [decide_rule.private(event, ctx, "decide.exists_agreed", id=live.id, title=_named(live))]
        thread = await self.reader.thread(ws, errand.root)
        if not any(m.text for m in thread):
            return [decide_rule.private(event, ctx, "decide.empty")]
        draft = await self.distiller.distill(thread, title=errand.title, recorded_by=errand.by)
        if not draft.title.strip() or not (draft.outcome or errand.title):
            return [decide_rule.private(event, ctx, "decide.empty")]
        channel = await self._channel_of(ws, errand.root, errand.channel, ctx)
        decision, _ = await self.decisions.record(
            ws, draft, origin=errand.origin, channel=channel, thread=errand.root,
            permalink=permalink(ws, channel, errand.root), language=ctx.channel_language(ws, channel),
            private=ctx.channel(ws, channel).private, recorded_by=errand.by, now=ctx.now,
            consent_until=decide_rule.consent_until(ctx, ws, ctx.now),
            card_key=lambda id_, round_: decide_rule.card_key(ws, id_, round_), supersedes=errand.supersedes,
        )
        logger.info("decision %s recorded in %s from thread %s", decision.id, ws, errand.root)
        outcome: list[Any] = [*decide_rule.proposed(decision, ctx)]
        if superseded is not None:
            refreshed = await self.decisions.get(ws, superseded.id)
            if refreshed is not None and refreshed.card_key:
                outcome.append(decide_rule.card_update(refreshed, ctx))
        return [*outcome, self._recorded_reply(errand, decision, ctx)]

    async def _repropose(self, errand: RecordDecision, live: DecisionRecord, ctx: RuleContext) -> Decision:
        ws = errand.workspace
        thread = await self.reader.thread(ws, errand.root)
        draft = await self.distiller.distill(thread, title=errand.title or live.title, recorded_by=errand.by)
        again = await self.decisions.repropose(
            ws, live.id, draft, origin=errand.origin, now=ctx.now,
            consent_until=decide_rule.consent_until(ctx, ws, ctx.now),
            card_key=lambda id_, round_: decide_rule.card_key(ws, id_, round_),
        )
        if again is None:
            return [decide_rule.private(errand.reply_to, ctx, "decide.exists_open", id=live.id, title=_named(live),
                                        until=self._until(live, ctx, errand.by))]
        logger.info("decision %s proposed again (round %d)", again.id, again.round)
        return [
            *decide_rule.proposed(again, ctx),
            decide_rule.private(errand.reply_to, ctx, "decide.reproposed", id=again.id, title=_named(again),
                                until=self._until(again, ctx, errand.by)),
        ]

    def _recorded_reply(self, errand: RecordDecision, decision: DecisionRecord, ctx: RuleContext) -> Any:
        if decision.supersedes is not None:
            return decide_rule.private(errand.reply_to, ctx, "decide.superseding", id=decision.id,
                                       title=_named(decision), old=decision.supersedes,
                                       until=self._until(decision, ctx, errand.by))
        return decide_rule.private(errand.reply_to, ctx, "decide.recorded", id=decision.id, title=_named(decision),
                                   until=self._until(decision, ctx, errand.by))

    def _until(self, decision: DecisionRecord, ctx: RuleContext, member: str | None = None) -> str:
        """The end of a decision's consent window, as the member who asked reads it."""
        zone = ctx.workspace(decision.workspace_id).timezone or "UTC"
        return local_datetime(decision.consent_until, zone, ctx.language(decision.workspace_id, member))

    async def _channel_of(self, ws: str, root: str, fallback: str, ctx: RuleContext) -> str:
        """The channel a thread is in: from the recent messages, else the offer made in it, else where asked."""
        known = ctx.state.message(ws, root)
        if known is not None:
            return known.channel
        for offer in await self.decisions.offers(ws):
            if offer["thread_id"] == root:
                return str(offer["channel_id"])
        return fallback

    async def search_decisions(self, errand: SearchDecisions, ctx: RuleContext) -> Decision:
        event = errand.command
        if errand.query:
            found = await self.decisions.search(errand.workspace, errand.query, SEARCH_RESULTS, channel=event.channel)
        else:
            found = await self.decisions.recent(errand.workspace, decide_rule.RECENT_LISTED, channel=event.channel)
        return [decide_rule.found_reply(event, errand.query, found, ctx)]

    async def offer_decision(self, errand: OfferDecision, ctx: RuleContext) -> Decision:
        ws = errand.workspace
        if await self.decisions.live_in_thread(ws, errand.thread) is not None:
            return ()
        if not await self.decisions.add_offer(ws, errand.thread, errand.channel, errand.message_id, ctx.now):
            return ()  # offered before, after another message: once per thread
        logger.debug("offering to record the decision of thread %s in %s", errand.thread, ws)
        return [decide_rule.offer(ws, errand.channel, errand.thread, ctx)]

    async def vote(self, errand: VoteOnDecision, ctx: RuleContext) -> Decision:
        click, ws = errand.click, errand.workspace
        decision = await self._decision_for(ws, click.value)
        if decision is None:
            return [decide_rule.private(click, ctx, "decide.not_found", id=click.value[:20])]
        after, counted = await self.decisions.vote(ws, decision.id, click.user, errand.vote, origin=click.key,
                                                   now=ctx.now)
        if after is None:
            return [decide_rule.private(click, ctx, "decide.not_found", id=decision.id)]
        if not counted:
            key = "decide.already_voted" if after.open_for_consent else "decide.vote_closed"
            return [decide_rule.private(click, ctx, key, id=after.id)]
        if errand.vote == "object":
            logger.info("decision %s objected to by %s", after.id, click.user)
            return [*decide_rule.objected(after, click.user, ctx),
                    decide_rule.private(click, ctx, "decide.objected_noted", id=after.id)]
        noted = decide_rule.private(click, ctx, "decide.agreed_noted", id=after.id)
        return [decide_rule.card_update(after, ctx), noted]

    async def close_consent(self, errand: CloseConsent, ctx: RuleContext) -> Decision:
        decision = await self.decisions.agree(errand.workspace, errand.decision_id, errand.round, ctx.now)
        if decision is None:
            return ()
        logger.info("decision %s stands: no objection by %s", decision.id, decision.consent_until.isoformat())
        # Lessons it bears on are offered to their authors for review (bot.app.errands.paths).
        return [*decide_rule.agreed(decision, ctx), ReviewLessonsAgainst(workspace=errand.workspace,
                                                                          decision_id=decision.id)]

    async def load_decisions(self, errand: LoadDecisions, ctx: RuleContext) -> Decision:
        ws = errand.workspace
        await self.before()
        deadlines: list[Any] = [decide_rule.consent_deadline(d) for d in await self.decisions.open_for_consent(ws)]
        unannounced = await self.decisions.agreed_unannounced(
            ws, ctx.now - ANNOUNCED_WITHIN, lambda id_, round_: decide_rule.agreed_key(ws, id_, round_)
        )
        for decision in unannounced:
            if decision.status == AGREED:
                deadlines.append(decide_rule.consent_deadline(decision))
        return deadlines

    async def _decision_for(self, ws: str, value: str) -> DecisionRecord | None:
        """A button's decision: its id, or (a console click names a message) the decision of that thread."""
        if value.isdigit() and len(value) <= 9:
            found = await self.decisions.get(ws, int(value))
            if found is not None:
                return found
        return await self.decisions.live_in_thread(ws, value)

    # --- commitments ---------------------------------------------------------------------------------------
    async def record_commitment(self, errand: RecordCommitment, ctx: RuleContext) -> Decision:
        commitment, created = await self.commitments.record(
            errand.workspace, origin=errand.origin, owner=errand.owner, channel=errand.channel, thread=errand.thread,
            message=errand.message_id, text=errand.text, language=errand.language, now=ctx.now, due=errand.due,
            ask_at=errand.ask_at,
        )
        if created:
            logger.info("commitment %s of %s recorded in %s, due %s", commitment.id, commitment.owner_id,
                        commitment.workspace_id, commitment.due_at.isoformat())
        return commit_rule.recorded(commitment, ctx, errand.command)

    async def list_commitments(self, errand: ListCommitments, ctx: RuleContext) -> Decision:
        event = errand.command
        return [commit_rule.open_list(event, await self.commitments.open_of(event.workspace, event.user), ctx)]

    async def follow_up(self, errand: FollowUpCommitment, ctx: RuleContext) -> Decision:
        await self.before()  # a follow-up decided moments ago must be seen as asked
        commitment = await self.commitments.get(errand.workspace, errand.commitment_id)
        if commitment is None or commitment.status != OPEN or commitment.round != errand.round:
            return ()
        if await self.commitments.asked(commitment):
            return ()
        return commit_rule.follow_up(commitment, ctx)

    async def answer_commitment(self, errand: AnswerCommitment, ctx: RuleContext) -> Decision:
        click, ws = errand.click, errand.workspace
        commitment = await self._commitment_for(ws, click.value)
        if commitment is None:
            return [commit_rule.private(click, ctx, "commit.closed")]
        if click.user != commitment.owner_id:
            logger.info("%s answered for %s's commitment %s: refused", click.user, commitment.owner_id,
                        commitment.id)
            return [commit_rule.private(click, ctx, "commit.not_yours")]
        if errand.answer == "help" and commitment.status in (OPEN, HELP):
            if commitment.status == OPEN:
                await self.commitments.mark_help(ws, commitment.id, commitment.anchor, ctx.now)
            logger.info("commitment %s: its owner asked for help", commitment.id)
            return commit_rule.need_help(commitment, click, ctx)
        if commitment.status != OPEN:
            key = "commit.done_noted" if errand.answer == "done" and commitment.done_at else "commit.closed"
            return [commit_rule.private(click, ctx, key)]
        if errand.answer == "done":
            await self.commitments.mark_done(ws, commitment.id, ctx.now)
            return [commit_rule.private(click, ctx, "commit.done_noted")]
        if commitment.postponed:
            return [commit_rule.private(click, ctx, "commit.later_once", due=self._due(commitment, ctx))]
        due, ask_at = commit_rule.later_due(commitment, ctx)
        moved = await self.commitments.postpone(ws, commitment.id, due=due, ask_at=ask_at, now=ctx.now)
        if moved is None:
            return [commit_rule.private(click, ctx, "commit.closed")]
        return [commit_rule.follow_up_deadline(moved),
                commit_rule.private(click, ctx, "commit.later_noted", due=self._due(moved, ctx))]

    def _due(self, commitment: CommitmentRecord, ctx: RuleContext) -> str:
        member = ctx.member(commitment.workspace_id, commitment.owner_id)
        lang = ctx.language(commitment.workspace_id, member.id, otherwise=commitment.language)
        return local_datetime(commitment.due_at, member_zone(member, ctx), lang)

    async def load_commitments(self, errand: LoadCommitments, ctx: RuleContext) -> Decision:
        await self.before()
        pending = await self.commitments.pending(errand.workspace, due_after=ctx.now - STILL_LOADED)
        return [commit_rule.follow_up_deadline(c) for c in pending]

    async def _commitment_for(self, ws: str, value: str) -> CommitmentRecord | None:
        """A button's commitment: its id, or (a console click names a message) the one that message made."""
        if value.isdigit() and len(value) <= 9:
            found = await self.commitments.get(ws, int(value))
            if found is not None:
                return found
        return await self.commitments.by_message(ws, value)

    # --- forget-me and the replay report -------------------------------------------------------------------
    async def forget_member(self, workspace: str, member: str) -> int:
        """Their commitments go; their votes, authorship and part in decisions too."""
        return await self.commitments.forget_member(workspace, member) + await self.decisions.forget_member(
            workspace, member
        )

    async def report(self, workspace: str) -> dict[str, list[dict[str, Any]]]:
        """The replay report's lists: Steward's offers to record a decision, the decisions and the commitments."""
        offers = [
            {"thread": o["thread_id"], "channel": o["channel_id"], "message": o["message_id"],
             "at": _iso(o["offered_at"])}
            for o in await self.decisions.offers(workspace)
        ]
        decided = [
            {"id": d.id, "thread": d.thread_id, "channel": d.channel_id, "title": d.title, "status": d.status,
             "recorded_at": _iso(d.recorded_at), "consent_until": _iso(d.consent_until),
             "agreed_at": _iso(d.agreed_at), "supersedes": d.supersedes}
            for d in await self.decisions.all(workspace)
        ]
        promised = [
            {"id": c["id"], "owner": c["owner_id"], "channel": c["channel_id"], "message": c["message_id"],
             "text": c["text"], "recorded_at": _iso(c["recorded_at"]), "due_at": _iso(c["due_at"]),
             "ask_at": _iso(c["ask_at"]), "status": c["status"], "asked": c["asked"]}
            for c in await self.commitments.all(workspace)
        ]
        return {"decision_offers": offers, "decisions": decided, "commitments": promised}


def _named(decision: DecisionRecord) -> str:
    """A decision's title as a private reply quotes it: one line, defused."""
    return excerpt(decision.title, 120)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def attach_cocreation(engine: Engine) -> CocreationErrands:
    """Run the decision and commitment errands against their stores; the report lists offers and commitments."""
    shell = CocreationErrands(
        DecisionStore(engine.db),
        CommitmentStore(engine.db),
        MessageThreadReader(engine.db, before=engine.flush),
        make_decision_distiller(engine.settings),
        before=engine.flush,
    )
    engine.errands.register(RecordDecision, shell.record_decision)
    engine.errands.register(SearchDecisions, shell.search_decisions)
    engine.errands.register(OfferDecision, shell.offer_decision)
    engine.errands.register(VoteOnDecision, shell.vote)
    engine.errands.register(CloseConsent, shell.close_consent)
    engine.errands.register(LoadDecisions, shell.load_decisions)
    engine.errands.register(RecordCommitment, shell.record_commitment)
    engine.errands.register(ListCommitments, shell.list_commitments)
    engine.errands.register(FollowUpCommitment, shell.follow_up)
    engine.errands.register(AnswerCommitment, shell.answer_commitment)
    engine.errands.register(LoadCommitments, shell.load_commitments)
    engine.on_forget.append(shell.forget_member)
    engine.extras["report_cocreation"] = shell.report
    for rule in engine.rules:
        if isinstance(rule, DecisionLog | Commitments):
            rule.enabled = True
    return shell
