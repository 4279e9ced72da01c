"""Initiatives: a facilitator groups decisions, ideas and commitments under a named plan and follows its progress.

`/steward initiative new NAME [goal]` starts one, `/steward initiative add NAME decision|idea|commitment ID`
groups an item under it, `/steward initiative close NAME` ends it (facilitators only, each of them);
`/steward initiative NAME` shows how far it is (decisions taken, ideas by status, commitments done, open and
overdue) and `/steward initiatives` lists them, for everyone. The weekly digest gives each active initiative one
line. A name of several words is quoted: `/steward initiative new "Digital workplace" Everyone on Teams`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.actions import Action, Card
from bot.core.events import CommandInvoked
from bot.core.ideas import ACTIVE, ITEM_KINDS, InitiativeProgress, InitiativeRecord
from bot.core.markup import defuse, excerpt
from bot.i18n import names, translate
from bot.rules import Command, CommandErrand, Decision, RuleBase, RuleContext

logger = logging.getLogger(__name__)

MAX_NAME = 80
MAX_GOAL = 300
VERBS = {"new": "new", "neu": "new", "add": "add", "dazu": "add", "close": "close", "schliessen": "close",
         "schließen": "close"}
KINDS = {"decision": "decision", "entscheidung": "decision", "idea": "idea", "idee": "idea",
         "commitment": "commitment", "zusage": "commitment"}


class Initiatives(RuleBase):
    """Parses the initiative commands and checks who may run them; the shell stores and counts."""

    name = "initiatives"
    reacts_to = ()

    def __init__(self, *, enabled: bool = False) -> None:
        self.enabled = enabled  # False until the app wires the initiative store in: the commands say so

    def commands(self) -> Mapping[str, Command]:
        return {
            "initiative": Command("initiative", self.initiative_command, "initiative.help",
                                  usage="NAME | new NAME [GOAL] | add NAME KIND ID | close NAME"),
            "initiatives": Command("initiatives", self.list_command, "initiatives.help"),
        }

    def initiative_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if not self.enabled:
            return [ctx.reply(event, "initiative.unavailable")]
        if not args:
            return [ctx.reply(event, "initiative.usage")]
        verb = VERBS.get(args[0].lower())
        if verb is None:
            return [ShowInitiative(workspace=event.workspace, command=event, name=_name(args))]
        if not ctx.is_facilitator(event.workspace, event.user, is_admin=event.is_admin):
            logger.info("%s may not run initiative %s: not a facilitator", event.user, verb)
            return [ctx.reply(event, "command.not_allowed", name=f"initiative {verb}")]
        rest = args[1:]
        if not rest or not _name(rest[:1]):
            return [ctx.reply(event, "initiative.usage")]
        name = _name(rest[:1])
        if verb == "new":
            goal = " ".join(" ".join(rest[1:]).split())[:MAX_GOAL]
            return [CreateInitiative(workspace=event.workspace, command=event, name=name, goal=goal)]
        if verb == "close":
            return [CloseInitiative(workspace=event.workspace, command=event, name=name)]
        kind = KINDS.get(rest[1].lower()) if len(rest) > 1 else None
        number = rest[2].lstrip("#") if len(rest) > 2 else ""
        if kind is None or not number.isdigit() or len(number) > 9:
            return [ctx.reply(event, "initiative.add_usage")]
        return [AddToInitiative(workspace=event.workspace, command=event, name=name, kind=kind, item=int(number))]

    def list_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if not self.enabled:
            return [ctx.reply(event, "initiative.unavailable")]
        return [ListInitiatives(workspace=event.workspace, command=event)]


# --- errands: what the shell does with the store ---------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class CreateInitiative(CommandErrand):
    name: str
    goal: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddToInitiative(CommandErrand):
    name: str
    kind: str  # one of ITEM_KINDS
    item: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseInitiative(CommandErrand):
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowInitiative(CommandErrand):
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ListInitiatives(CommandErrand):
    pass


# --- what the shell's outcomes look like (pure) ---------------------------------------------------------------
def progress_parts(progress: InitiativeProgress, lang: str) -> list[str]:
    """An initiative's progress in short phrases: decisions taken, ideas by status, commitments."""
    parts: list[str] = []
    if progress.decisions:
        parts.append(translate("initiative.part_decisions", lang, count=progress.decisions,
                               taken=progress.decisions_taken))
    if progress.ideas:
        counted = [translate("initiative.ideas_in_status", lang, count=count,
                             status=translate(f"idea.short_{status}", lang)) for status, count in progress.ideas]
        parts.append(translate("initiative.part_ideas", lang, ideas=names(counted, lang)))
    if progress.commitments_done or progress.commitments_open:
        parts.append(translate("initiative.part_commitments", lang, done=progress.commitments_done,
                               open=progress.commitments_open, overdue=progress.commitments_overdue))
    return parts or [translate("initiative.part_empty", lang)]


def progress_line(progress: InitiativeProgress, lang: str) -> str:
    """One line per initiative (the digest's, and the list's)."""
    return translate("initiative.line", lang, name=defuse(progress.initiative.name),
                     progress=" · ".join(progress_parts(progress, lang)))


def shown(event: CommandInvoked, progress: InitiativeProgress, ctx: RuleContext) -> Action:
    """`/steward initiative NAME`: its goal and its progress, privately."""
    lang = ctx.language(event.workspace, event.user)
    initiative = progress.initiative

    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    ideas = names([t("initiative.ideas_in_status", count=count, status=t(f"idea.short_{status}"))
                   for status, count in progress.ideas], lang)
    fields = [
        (t("initiative.field_decisions"),
         t("initiative.decisions_value", count=progress.decisions, taken=progress.decisions_taken)),
        (t("initiative.field_ideas"), ideas or t("initiative.none_yet")),
        (t("initiative.field_commitments"),
         t("initiative.commitments_value", done=progress.commitments_done, open=progress.commitments_open,
           overdue=progress.commitments_overdue)),
        (t("initiative.field_status"), t(f"initiative.status_{initiative.status}")),
    ]
    sections = (defuse(initiative.goal),) if initiative.goal else ()
    card = Card(title=t("initiative.title", name=defuse(initiative.name)), sections=sections, fields=tuple(fields),
                footer=t("initiative.footer", name=_quoted(initiative.name)))
    return ctx.reply(event, "initiative.shown", card=card, name=excerpt(initiative.name, MAX_NAME))


def listed(event: CommandInvoked, found: Sequence[InitiativeProgress], ctx: RuleContext) -> Action:
    """`/steward initiatives`: one line each, active ones first."""
    if not found:
        return ctx.reply(event, "initiatives.none")
    lang = ctx.language(event.workspace, event.user)
    lines = [
        progress_line(p, lang) + ("" if p.initiative.status == ACTIVE else " " + translate("initiative.closed_mark",
                                                                                           lang))
        for p in found
    ]
    card = Card(title=translate("initiatives.title", lang), sections=tuple(lines))
    return ctx.reply(event, "initiatives.found", card=card, count=len(found))


def kind_name(kind: str, lang: str) -> str:
    return translate(f"initiative.kind_{kind}", lang) if kind in ITEM_KINDS else kind


def named(initiative: InitiativeRecord) -> str:
    return excerpt(initiative.name, MAX_NAME)


def _name(words: list[str]) -> str:
    return " ".join(" ".join(words).split())[:MAX_NAME]


def _quoted(name: str) -> str:
    return f'"{name}"' if " " in name else name
