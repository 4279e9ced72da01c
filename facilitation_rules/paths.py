"""Learning paths: facilitators arrange lessons in order, and members follow them at their own pace.

Facilitators run `/steward path new NAME GOAL`, `path add NAME LESSON_ID [position]`, `path remove NAME LESSON_ID`
and `path delete NAME`; anyone reads `/steward paths` and `/steward path NAME`. A member runs `path start NAME
[every N days]` (one lesson every 2 working days unless they say "daily", "weekly" or a number of days), `path stop
NAME` and `path next NAME` (the next lesson at once). Steward sends each lesson by direct message within the
nudge etiquette (mute, quiet hours, the nudge budget), says where the member is ("lesson 2 of 5") and offers
"Done" (the next one follows at their pace) or "Later" (this one comes again then). Without an answer nothing
more is sent: a path waits for its member. A finished path gets one short congratulation.

A member's rounds count up with every delivery; the nudge row of a round (kind "path", subject `path:ID:ROUND`)
is written with the direct message itself, so after a restart a round that was sent is never sent again and one
that was decided but never stored is decided again. The store, the lessons and who may see them are I/O: the
rule decides, and leaves the reading and writing to the shell (bot.app.errands.paths).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.changes import Change, DeadlinesMet, Scheduled
from bot.core.actions import Action, Button, Card, PostEphemeral, SendDirectMessage
from bot.core.events import CommandInvoked, Event, InteractionClicked, TimePassed
from bot.core.markup import defuse, excerpt
from bot.core.paths import PATH_NUDGE, Enrolment, PathRecord, PathStep, path_subject
from bot.i18n import local_datetime, translate
from bot.rules import Command, CommandErrand, Decision, Errand, RuleBase, RuleContext
from facilitation_rules.commitments import working_hours
from facilitation_rules.etiquette import member_zone, nudge, nudge_refusal

logger = logging.getLogger(__name__)

DEFAULT_PACE = 2  # working days between lessons
MAX_PACE = 60
WEEKLY = 5  # working days: "weekly" is one lesson a working week
RETRY_HOURS = 2.0  # working hours to wait when the member may not be messaged right now (budget)
MAX_NAME = 40
MAX_GOAL = 300
EDITING = ("new", "add", "remove", "delete")  # facilitators only
FOLLOWING = ("start", "stop", "next")
ANSWERS = {"path_done": "done", "path_later": "later"}
_NAME = re.compile(r"^[\w-]{1,40}$")
_DAILY = {"daily", "täglich", "taeglich"}
_WEEKLY = {"weekly", "wöchentlich", "woechentlich"}
_EVERY = {"every", "alle", "jeden", "each"}
_DAYS = {"day", "days", "tag", "tage", "tagen", "d", "working", "arbeitstage", "arbeitstagen"}


def parse_pace(words: Sequence[str]) -> int | None:
    """A member's pace in working days from what they typed after the path's name; None when it makes no sense.

    Nothing is the default (2); "daily"/"täglich" is 1, "weekly"/"wöchentlich" 5, and "every 3 days",
    "alle 3 Tage", "3d" or "3" that many."""
    tokens = [w.lower().strip(",.") for w in words if w.strip(",.")]
    if not tokens:
        return DEFAULT_PACE
    if len(tokens) == 1 and tokens[0] in _DAILY:
        return 1
    if len(tokens) == 1 and tokens[0] in _WEEKLY:
        return WEEKLY
    rest = [t for t in tokens if t not in _EVERY and t not in _DAYS]
    if len(rest) == 1 and rest[0].endswith("d") and rest[0][:-1].isdigit():
        rest = [rest[0][:-1]]
    if len(rest) != 1 or not rest[0].isdigit():
        return None
    days = int(rest[0])
    return days if 1 <= days <= MAX_PACE else None


def path_name(word: str) -> str | None:
    """A path's name as stored: one word (letters, digits, - and _), lower case; None if it cannot be one."""
    name = word.strip().lower()
    if not _NAME.match(name) or name in EDITING or name in FOLLOWING:
        return None
    return name


class LearningPaths(RuleBase):
    """Paths of lessons and the members who follow them; the shell stores and reads them."""

    name = "paths"
    reacts_to = (InteractionClicked, TimePassed)

    def __init__(self, *, enabled: bool = False) -> None:
        self.enabled = enabled  # False until the app wires the path store in: the commands say so

    def commands(self) -> Mapping[str, Command]:
        return {
            "path": Command(
                "path", self.path_command, "path.help",
                usage="[NAME] | new NAME GOAL | add NAME ID [position] | remove NAME ID | delete NAME"
                      " | start NAME [every N days] | stop NAME | next NAME",
                aliases=("paths",),  # `/steward paths` lists them, as `/steward path` alone does
            ),
        }

    def next_due(self, ctx: RuleContext) -> datetime | None:
        return ctx.state.timers.next(self.name) if self.enabled else None

    def seed(self, ctx: RuleContext) -> Decision:
        """After a start, each workspace's undelivered rounds are loaded from the store at the next tick."""
        if not self.enabled:
            return ()
        return [Scheduled(self.name, ctx.now, "load", (ws,)) for ws in sorted(ctx.state.workspaces)]

    # --- events --------------------------------------------------------------------------------------------
    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if not self.enabled:
            return ()
        if isinstance(event, InteractionClicked) and event.action in ANSWERS:
            return [AnswerPathLesson(workspace=event.workspace, click=event, answer=ANSWERS[event.action])]
        if isinstance(event, TimePassed):
            return self.on_time(ctx)
        return ()

    def on_time(self, ctx: RuleContext) -> Decision:
        due = ctx.state.timers.due(self.name, ctx.now)
        if not due:
            return ()
        decision: list[Change | Errand] = [DeadlinesMet(self.name, ctx.now)]
        seen: set[tuple[str, ...]] = set()
        for _, step, subject in due:
            if (step, *subject) in seen:
                continue
            seen.add((step, *subject))
            if step == "load":
                decision.append(LoadPaths(workspace=subject[0]))
            elif step == "send" and len(subject) == 4 and not ctx.backfill:
                ws, path_id, member, round_ = subject
                decision.append(
                    DeliverPathLesson(workspace=ws, path_id=int(path_id), member=member, round=int(round_))
                )
        return decision

    # --- commands ------------------------------------------------------------------------------------------
    def path_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if not self.enabled:
            return [ctx.reply(event, "path.unavailable")]
        if not args:  # `/steward path` or `/steward paths`: the list
            return [PathCommand(workspace=event.workspace, command=event, verb="list")]
        verb = args[0].lower()
        if verb in EDITING and not ctx.is_facilitator(event.workspace, event.user, is_admin=event.is_admin):
            return [ctx.reply(event, "command.not_allowed", name=f"path {verb}")]
        if verb not in EDITING and verb not in FOLLOWING:
            name = path_name(args[0])
            if name is None or len(args) > 1:
                return [ctx.reply(event, "path.usage")]
            return [PathCommand(workspace=event.workspace, command=event, verb="show", name=name)]
        name = path_name(args[1]) if len(args) > 1 else None
        if name is None:
            return [ctx.reply(event, "path.usage")]
        rest = args[2:]
        if verb == "new":
            goal = " ".join(" ".join(rest).split())
            if not goal:
                return [ctx.reply(event, "path.usage")]
            return [PathCommand(workspace=event.workspace, command=event, verb=verb, name=name,
                                goal=defuse(goal)[:MAX_GOAL])]
        if verb in ("add", "remove"):
            numbers = [int(a.lstrip("#")) for a in rest if a.lstrip("#").isdigit()]
            if not numbers or len(numbers) != len(rest) or len(numbers) > (2 if verb == "add" else 1):
                return [ctx.reply(event, "path.usage")]
            position = numbers[1] if len(numbers) > 1 else None
            if position is not None and position < 1:
                return [ctx.reply(event, "path.usage")]
            return [PathCommand(workspace=event.workspace, command=event, verb=verb, name=name,
                                lesson_id=numbers[0], position=position)]
        if verb == "start":
            pace = parse_pace(rest)
            if pace is None:
                return [ctx.reply(event, "path.bad_pace", value=excerpt(" ".join(rest), 40))]
            return [PathCommand(workspace=event.workspace, command=event, verb=verb, name=name, pace=pace)]
        if rest:
            return [ctx.reply(event, "path.usage")]
        return [PathCommand(workspace=event.workspace, command=event, verb=verb, name=name)]


# --- errands: what the shell does with the store ---------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class PathCommand(CommandErrand):
    """`/steward path …` and `/steward paths`, parsed and allowed; the shell reads and writes the store."""

    verb: str  # list | show | new | add | remove | delete | start | stop | next
    name: str = ""
    goal: str = ""
    lesson_id: int | None = None
    position: int | None = None
    pace: int = DEFAULT_PACE


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverPathLesson(Errand):
    """A member's round fell due: send the next lesson, unless it was sent, or they stopped or moved on since."""

    path_id: int
    member: str
    round: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerPathLesson(Errand):
    """The member's "Done" or "Later" on a lesson of their path."""

    click: InteractionClicked
    answer: str

    def unserved(self, ctx: RuleContext) -> Decision:
        return [private(self.click, ctx, "path.failed")]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadPaths(Errand):
    """After a start: the rounds not yet delivered, from the store, as deadlines."""


# --- the decisions the shell takes with a stored path in hand (pure) ---------------------------------------------
def next_round_at(ctx: RuleContext, workspace: str, member: str, pace_days: int, start: datetime) -> datetime:
    """`pace_days` working days after `start` at the same time of day on the member's clock (their time zone,
    else the community's), moved into their working hours: a lesson marked done on Friday at 15:00 with a pace
    of 2 comes on Tuesday at 15:00, one marked done at 20:00 the next working morning but one."""
    hours = working_hours(ctx, workspace, member)
    zone = ZoneInfo(hours.timezone)
    local = start.astimezone(zone)
    day, counted = local.date(), 0
    for _ in range(pace_days * 7 + 14):  # weekdays are never empty (settings): a guard, not a limit
        if counted >= pace_days:
            break
        day += timedelta(days=1)
        counted += day.weekday() in hours.weekdays
    return hours.add(datetime.combine(day, local.time(), zone), 0).astimezone(start.tzinfo)


def round_deadline(enrolment: Enrolment) -> Scheduled:
    return Scheduled(
        LearningPaths.name, enrolment.due_at, "send",
        (enrolment.workspace_id, str(enrolment.path_id), enrolment.member_id, str(enrolment.round)),
    )


def next_step(path: PathRecord, enrolment: Enrolment) -> tuple[int, PathStep] | None:
    """The first lesson on the path the member has not marked done, with its number (1-based), or None."""
    for number, step in enumerate(path.steps, start=1):
        if step.lesson_id not in enrolment.done:
            return number, step
    return None


def deliver(path: PathRecord, enrolment: Enrolment, ctx: RuleContext, *, asked: bool = False) -> list[Action | Change]:
    """The round's lesson by direct message, if the member may be messaged now; else a later try, or nothing.

    `asked`: the member ran `path next`, so it is no nudge (no etiquette, no budget). Otherwise mute means a try
    when the mute ends, quiet hours a try early in their next working hours, a spent budget one `RETRY_HOURS`
    working hours later; closed direct messages and a forgotten member mean nothing is sent."""
    ws, member_id = enrolment.workspace_id, enrolment.member_id
    found = next_step(path, enrolment)
    if found is None:
        return []
    member = ctx.member(ws, member_id)
    if not asked:
        refusal = nudge_refusal(member, ctx)
        if refusal is not None:
            later = _retry_at(refusal, enrolment, ctx)
            logger.debug("path %s: not sending to %s now (%s); next try %s", path.id, member_id, refusal, later)
            return [] if later is None else [Scheduled(LearningPaths.name, later, "send", (
                ws, str(path.id), member_id, str(enrolment.round)))]
    number, step = found
    lang = ctx.language(ws, member_id)
    value = f"{path.id}:{step.lesson_id}:{enrolment.round}"
    buttons = (
        Button("path_done", translate("button.path_done", lang), value, "primary"),
        Button("path_later", translate("button.path_later", lang), value),
    )
    text = "\n".join([
        translate("path.lesson_intro", lang, path=path.name, number=number, total=len(path.steps)),
        translate("path.lesson_why", lang, path=path.name),
    ])
    message = SendDirectMessage(
        key=f"path-lesson:{ws}:{path.id}:{member_id}:{enrolment.round}", workspace=ws, user=member_id, text=text,
        buttons=buttons, card=step_card(step, number, len(path.steps), lang),
    )
    if asked:
        return [message]
    return [
        nudge(ctx, member, kind=PATH_NUDGE, question_id=path_subject(path.id, enrolment.round),
              reason="learning path"),
        message,
    ]


def _retry_at(refusal: str, enrolment: Enrolment, ctx: RuleContext) -> datetime | None:
    ws, member_id = enrolment.workspace_id, enrolment.member_id
    member = ctx.member(ws, member_id)
    if refusal == "muted" and member.muted_until is not None and member.muted_until - ctx.now < timedelta(days=366):
        return member.muted_until + timedelta(minutes=1)
    if refusal == "quiet hours":
        return working_hours(ctx, ws, member_id).add(ctx.now, 0.5)
    if refusal in ("daily budget spent", "weekly budget spent"):
        return working_hours(ctx, ws, member_id).add(ctx.now, RETRY_HOURS)
    return None  # a bot, closed direct messages, or muted for good (forgotten)


def step_card(step: PathStep, number: int, total: int, lang: str) -> Card:
    """One lesson as the path sends it: its problem, its steps and where it came from."""
    sections = [defuse(step.summary)]
    if step.steps:
        heading = translate("lesson.heading_steps", lang)
        sections.append("\n".join([f"*{heading}*", *(f"• {defuse(s)}" for s in step.steps)]))
    fields = ((translate("lesson.field_source", lang), step.link),) if step.link else ()
    return Card(
        title=f"📚 {defuse(step.title)}",
        sections=tuple(s for s in sections if s),
        fields=fields,
        footer=translate("path.progress", lang, number=number, total=total),
    )


def congratulation(path: PathRecord, member: str, ctx: RuleContext) -> SendDirectMessage:
    """The one short word when a member marked the path's last lesson done."""
    ws = path.workspace_id
    return SendDirectMessage(
        key=f"path-finished:{ws}:{path.id}:{member}", workspace=ws, user=member,
        text=ctx.t(ws, "path.finished", for_member=member, path=path.name, count=len(path.steps)),
    )


def when(moment: datetime, ctx: RuleContext, workspace: str, member: str) -> str:
    return local_datetime(moment, member_zone(ctx.member(workspace, member), ctx), ctx.language(workspace, member))


def pace_words(pace_days: int, lang: str) -> str:
    return translate("path.pace", lang, count=pace_days)


def path_card(path: PathRecord, enrolment: Enrolment | None, ctx: RuleContext, ws: str, member: str) -> Card:
    """`/steward path NAME`: its goal and its lessons in order, and where the member is on it."""
    lang = ctx.language(ws, member)
    done = enrolment.done if enrolment is not None else frozenset()
    lines = [
        f"{'✅' if step.lesson_id in done else f'{number}.'} {defuse(step.title)} (#{step.lesson_id})"
        for number, step in enumerate(path.steps, start=1)
    ]
    sections = [defuse(path.goal), "\n".join(lines) if lines else translate("path.no_lessons", lang)]
    if enrolment is not None:
        finished = sum(1 for step in path.steps if step.lesson_id in done)
        key = {"active": "path.following", "finished": "path.following_finished"}.get(enrolment.status,
                                                                                    "path.following_stopped")
        sections.append(translate(key, lang, done=finished, total=len(path.steps),
                                  pace=pace_words(enrolment.pace_days, lang)))
    return Card(title=f"📚 {path.name}", sections=tuple(s for s in sections if s))


def paths_card(found: Sequence[PathRecord], ctx: RuleContext, ws: str, member: str) -> Card:
    lang = ctx.language(ws, member)
    lines = [
        f"• *{p.name}*: {excerpt(p.goal, 120)} ({translate('path.n_lessons', lang, count=len(p.steps))})"
        for p in found
    ]
    return Card(title=translate("paths.title", lang), sections=("\n".join(lines),),
                footer=translate("paths.footer", lang))


def private(event: InteractionClicked, ctx: RuleContext, key: str, **params: Any) -> PostEphemeral:
    """A private answer to the member who pressed a path's button."""
    return PostEphemeral(
        key=f"reply:{event.channel}:{event.user}:{event.at.isoformat()}:{key}",
        workspace=event.workspace,
        channel=event.channel,
        user=event.user,
        text=ctx.t(event.workspace, key, for_member=event.user, **params),
    )


def parse_button(value: str) -> tuple[int, int, int] | None:
    """A path button's value: path id, lesson id and round."""
    parts = value.split(":")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 9 for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])
