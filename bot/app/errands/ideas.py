"""Idea and initiative errands: store and read ideas, votes and initiatives, and answer with the rules' actions.

The rules (facilitation_rules.ideas, facilitation_rules.initiatives) decide what is asked; these handlers do the
I/O and hand the stored records back to the rules' pure functions. Each write is keyed by the event that caused
it, so an event handled again after a crash yields the same rows and the same card update (whose outbox key
then sends nothing twice).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.core.ideas import DECLINED, IdeaRecord, next_statuses
from bot.core.markup import excerpt
from bot.i18n import translate
from bot.rules import Decision, RuleContext
from facilitation_rules import ideas as idea_rule
from facilitation_rules import initiatives as plan_rule
from facilitation_rules.ideas import (
    LISTED,
    CountIdeaComments,
    Ideas,
    ListIdeas,
    MoveIdea,
    ProposeIdea,
    SupportIdea,
)
from facilitation_rules.initiatives import (
    AddToInitiative,
    CloseInitiative,
    CreateInitiative,
    Initiatives,
    ListInitiatives,
    ShowInitiative,
)
from storage.ideas import IdeaStore
from storage.initiatives import InitiativeStore

if TYPE_CHECKING:
    from bot.app.engine import Engine

logger = logging.getLogger(__name__)

Flush = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


class IdeaErrands:
    def __init__(self, ideas: IdeaStore, initiatives: InitiativeStore, *, before: Flush | None = None) -> None:
        self.ideas, self.initiatives = ideas, initiatives
        self.before = before or _nothing  # the engine's pending writes first: the reply just posted, a card sent

    # --- ideas ---------------------------------------------------------------------------------------------
    async def propose(self, errand: ProposeIdea, ctx: RuleContext) -> Decision:
        event, ws = errand.command, errand.workspace
        idea, created = await self.ideas.record(
            ws, origin=event.key, channel=event.channel, text=errand.text, author=event.user,
            language=ctx.channel_language(ws, event.channel), private=ctx.channel(ws, event.channel).private,
            now=ctx.now, card_key=lambda id_: idea_rule.card_key(ws, id_),
        )
        if created:
            logger.info("idea %s proposed in %s", idea.id, ws)
        return [idea_rule.posted(idea, ctx), ctx.reply(event, "idea.recorded", id=idea.id)]

    async def list_ideas(self, errand: ListIdeas, ctx: RuleContext) -> Decision:
        event = errand.command
        found = await self.ideas.open_ideas(errand.workspace, errand.words, channel=event.channel, limit=LISTED)
        return [idea_rule.found_reply(event, errand.words, found, ctx)]

    async def support(self, errand: SupportIdea, ctx: RuleContext) -> Decision:
        ws, click = errand.workspace, errand.click
        idea = await self._idea_for(ws, errand.idea, by_card=errand.by_reaction)
        if idea is None:
            if click is None:
                return ()  # a 👍 on some other message of Steward's
            return [idea_rule.private(click, ctx, "idea.not_found", id=excerpt(errand.idea, 20))]
        if errand.support:
            after, counted = await self.ideas.vote(ws, idea.id, errand.member, origin=errand.origin, now=ctx.now)
        else:
            after, counted = await self.ideas.withdraw(ws, idea.id, errand.member, ctx.now)
        after = after or idea
        update = idea_rule.card_update(after, ctx)  # sent once per revision, however often it is decided
        if click is None:
            return [update]
        if counted:
            key = "idea.voted" if errand.support else "idea.withdrawn"
        elif not after.open:
            key = "idea.closed"
        else:
            key = "idea.already_voted" if errand.support else "idea.not_voted"
        status = translate(f"idea.short_{after.status}", ctx.language(ws, click.user))
        return [update, idea_rule.private(click, ctx, key, id=after.id, status=status)]

    async def move(self, errand: MoveIdea, ctx: RuleContext) -> Decision:
        ws, event = errand.workspace, errand.reply_to
        idea = await self._idea_for(ws, errand.idea)
        if idea is None:
            return [idea_rule.private(event, ctx, "idea.not_found", id=excerpt(errand.idea, 20))]
        admin = bool(getattr(event, "is_admin", False))
        if idea.author_id != event.user and not ctx.is_facilitator(ws, event.user, is_admin=admin):
            logger.info("%s may not move idea %s: not its author or a facilitator", event.user, idea.id)
            return [idea_rule.private(event, ctx, "idea.not_yours")]
        lang = ctx.language(ws, event.user)
        target = translate(f"idea.short_{errand.status}", lang)
        if errand.status == DECLINED and not errand.reason:
            return [idea_rule.private(event, ctx, "idea.needs_reason", id=idea.id)]
        if errand.status not in next_statuses(idea.status) and idea.status != errand.status:
            current = translate(f"idea.short_{idea.status}", lang)
            return [idea_rule.private(event, ctx, "idea.cannot_move", id=idea.id, status=current, target=target)]
        after, moved = await self.ideas.move(ws, idea.id, errand.status, by=event.user, reason=errand.reason,
                                             origin=errand.origin, now=ctx.now)
        if after is None:
            return [idea_rule.private(event, ctx, "idea.not_found", id=idea.id)]
        if not moved:
            current = translate(f"idea.short_{after.status}", lang)
            return [idea_rule.private(event, ctx, "idea.cannot_move", id=after.id, status=current, target=target)]
        logger.info("idea %s moved to %s", after.id, after.status)
        return [idea_rule.card_update(after, ctx), idea_rule.private(event, ctx, "idea.moved", id=after.id,
                                                                     status=target)]

    async def count_comments(self, errand: CountIdeaComments, ctx: RuleContext) -> Decision:
        idea = await self.ideas.by_card(errand.workspace, errand.thread)
        if idea is None:
            return ()
        await self.before()  # the reply being handled is counted too
        counted = await self.ideas.count_comments(errand.workspace, idea, errand.thread, ctx.now)
        return [idea_rule.card_update(counted, ctx)] if counted.revision != idea.revision else ()

    async def _idea_for(self, ws: str, value: str, *, by_card: bool = False) -> IdeaRecord | None:
        """A button's idea: its number; a reaction's: the card it is on (a console or transcript names the
        number either way)."""
        number = value.lstrip("#")
        as_number = int(number) if number.isdigit() and len(number) <= 9 else None
        if by_card:
            found = await self.ideas.by_card(ws, value)
            if found is None and as_number is not None:
                found = await self.ideas.get(ws, as_number)
            return found
        if as_number is not None and (found := await self.ideas.get(ws, as_number)) is not None:
            return found
        return await self.ideas.by_card(ws, value)

    # --- initiatives ---------------------------------------------------------------------------------------
    async def create_initiative(self, errand: CreateInitiative, ctx: RuleContext) -> Decision:
        event = errand.command
        initiative, created = await self.initiatives.create(
            errand.workspace, errand.name, goal=errand.goal, channel=event.channel, by=event.user, now=ctx.now
        )
        if not created:
            return [ctx.reply(event, "initiative.exists", name=plan_rule.named(initiative))]
        logger.info("initiative %s started in %s", initiative.id, errand.workspace)
        return [ctx.reply(event, "initiative.created", name=plan_rule.named(initiative))]

    async def add_to_initiative(self, errand: AddToInitiative, ctx: RuleContext) -> Decision:
        event, ws = errand.command, errand.workspace
        initiative = await self.initiatives.named(ws, errand.name)
        lang = ctx.language(ws, event.user)
        if initiative is None:
            return [ctx.reply(event, "initiative.not_found", name=excerpt(errand.name, 80))]
        kind = plan_rule.kind_name(errand.kind, lang)
        if not await self.initiatives.item_exists(ws, errand.kind, errand.item):
            return [ctx.reply(event, "initiative.item_not_found", kind=kind, id=errand.item)]
        added = await self.initiatives.add(ws, initiative, errand.kind, errand.item, by=event.user, now=ctx.now)
        key = "initiative.added" if added else "initiative.already_added"
        return [ctx.reply(event, key, kind=kind, id=errand.item, name=plan_rule.named(initiative))]

    async def close_initiative(self, errand: CloseInitiative, ctx: RuleContext) -> Decision:
        event = errand.command
        initiative = await self.initiatives.named(errand.workspace, errand.name)
        if initiative is None:
            return [ctx.reply(event, "initiative.not_found", name=excerpt(errand.name, 80))]
        await self.initiatives.close(errand.workspace, initiative)
        return [ctx.reply(event, "initiative.closed", name=plan_rule.named(initiative))]

    async def show_initiative(self, errand: ShowInitiative, ctx: RuleContext) -> Decision:
        event = errand.command
        initiative = await self.initiatives.named(errand.workspace, errand.name)
        if initiative is None:
            return [ctx.reply(event, "initiative.not_found", name=excerpt(errand.name, 80))]
        return [plan_rule.shown(event, await self.initiatives.progress(initiative, ctx.now), ctx)]

    async def list_initiatives(self, errand: ListInitiatives, ctx: RuleContext) -> Decision:
        found = [await self.initiatives.progress(i, ctx.now) for i in await self.initiatives.all(errand.workspace)]
        return [plan_rule.listed(errand.command, found, ctx)]

    # --- forget-me and the replay report -------------------------------------------------------------------
    async def forget_member(self, workspace: str, member: str) -> int:
        """Their votes go; the ideas they proposed and the initiatives they started no longer name them."""
        return await self.ideas.forget_member(workspace, member) + await self.initiatives.forget_member(
            workspace, member
        )

    async def report(self, workspace: str) -> dict[str, list[dict[str, Any]]]:
        """The replay report's ideas: each with its status and support."""
        return {"ideas": [
            {"id": i.id, "channel": i.channel_id, "text": i.text, "status": i.status, "votes": i.votes,
             "reason": i.reason or None, "created_at": i.created_at.isoformat()}
            for i in await self.ideas.all(workspace)
        ]}


def attach_ideas(engine: Engine) -> IdeaErrands:
    """Run the idea and initiative errands against their stores; forget-me reaches them."""
    shell = IdeaErrands(IdeaStore(engine.db), InitiativeStore(engine.db), before=engine.flush)
    engine.errands.register(ProposeIdea, shell.propose)
    engine.errands.register(ListIdeas, shell.list_ideas)
    engine.errands.register(SupportIdea, shell.support)
    engine.errands.register(MoveIdea, shell.move)
    engine.errands.register(CountIdeaComments, shell.count_comments)
    engine.errands.register(CreateInitiative, shell.create_initiative)
    engine.errands.register(AddToInitiative, shell.add_to_initiative)
    engine.errands.register(CloseInitiative, shell.close_initiative)
    engine.errands.register(ShowInitiative, shell.show_initiative)
    engine.errands.register(ListInitiatives, shell.list_initiatives)
    engine.on_forget.append(shell.forget_member)
    engine.extras["report_ideas"] = shell.report
    for rule in engine.rules:
        if isinstance(rule, Ideas | Initiatives):
            rule.enabled = True
    return shell
