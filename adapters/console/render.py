"""Plain-text rendering: what Steward noticed and did, readable in a terminal."""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.core.actions import Action, AddReaction, SendDirectMessage, UpdateMessage, action_text
from bot.core.events import (
    CommandInvoked,
    Event,
    HelpCredited,
    InteractionClicked,
    MemberJoined,
    MessagePosted,
    MessageUnderstood,
    QuestionResolved,
    ReactionAdded,
    TimePassed,
)
from bot.core.markup import excerpt
from bot.i18n import catalog, duration, supported, translate
from bot.rules import RuleContext

if TYPE_CHECKING:
    from bot.app.replay import ReplayResult

IDEA_CARD = "idea-card:"  # the key of an idea card's edit (facilitation_rules.ideas.card_update)
_USER = re.compile(r"<@!?([A-Za-z0-9_.-]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Za-z0-9_.-]+)(?:\|[^>]*)?>")

Printer = Callable[[str], None]


def plain(text: str, names: Mapping[str, str]) -> str:
    """`<@U1>` -> `@Anna`, `<#C1>` -> `#help`."""
    text = _USER.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    return _CHANNEL.sub(lambda m: "#" + m.group(1), text)


def describe(
    action: Action, names: Mapping[str, str], numbers: Mapping[str, int] | None = None, *, brief: bool = False
) -> str:
    """One action as the console shows it; `numbers`: the console's message numbers, shown as [N]; `brief`: only
    its first line (a card edited in place is told by what changed, not shown whole again)."""
    text = plain(action_text(action), names)
    buttons = getattr(action, "buttons", ())
    suffix = "  " + " ".join(f"[{b.label}]" for b in buttons) if buttons else ""
    target: dict[str, str] = {
        "post_message": "post in #{channel}{thread}",
        "post_ephemeral": "private reply to @{user}",
        "send_dm": "DM to @{user}",
        "pin_message": "pin message {message_id} in #{channel}",
        "add_reaction": "react :{emoji}: on {message_id}",
        "update_message": "update message in #{channel}",
        "set_forum_solved": "tag forum post {thread} as solved",
    }
    fields: dict[str, Any] = {name: getattr(action, name, "") for name in ("channel", "message_id", "emoji", "thread")}
    fields["user"] = names.get(getattr(action, "user", ""), getattr(action, "user", ""))
    for name in ("thread", "message_id"):
        if numbers and fields[name] in numbers:
            fields[name] = f"[{numbers[fields[name]]}]"
    fields["thread"] = f" (thread {fields['thread']})" if fields["thread"] else ""
    head = target.get(action.type, action.type).format(**fields)
    lines = text.splitlines()
    body = "\n".join("    " + line for line in (lines[:1] if brief else lines))
    return f"  → {head}{suffix}\n{body}" if body else f"  → {head}{suffix}"


def local_time(moment: datetime, timezone: str, language: str = "en") -> str:
    """A moment as the community reads it: its own time zone, its language ("Mon 02 Mar 09:40", "Mo. 02 März 09:40")."""
    return format_datetime(moment, "EEE dd MMM HH:mm", tzinfo=ZoneInfo(timezone), locale=supported(language))


def community_zone(event: Event, ctx: RuleContext) -> str:
    """The time zone of the event's workspace (time passing belongs to the one workspace, if there is one)."""
    workspaces = list(ctx.state.workspaces.values())
    ws = ctx.state.workspaces.get(event.workspace) or (workspaces[0] if len(workspaces) == 1 else None)
    return (ws.timezone if ws is not None else "") or ctx.settings.steward_timezone


def member_names(ctx: RuleContext) -> dict[str, str]:
    return {m.id: m.name or m.id for m in ctx.state.members.values()}


class Narrator:
    """An engine observer that tells, event by event, what Steward noticed and did.

    It remembers what recent messages said, so a button pressed or a promise noted later can be told by what it
    is about ("Priya Nair: “I'll send it on Wednesday…”") rather than by a message id.
    """

    REMEMBERED = 2000  # recent messages a click or a promise may be about

    def __init__(self, out: Printer = print, *, language: str = "en") -> None:
        self.out = out
        self.language = language
        self._said: OrderedDict[tuple[str, str], tuple[str, str]] = OrderedDict()  # (ws, id) -> (author, text)

    def __call__(self, event: Event, actions: Sequence[Action], ctx: RuleContext) -> None:
        if isinstance(event, MessagePosted) and not event.bot:
            self._remember(event)
        names = member_names(ctx)
        notes = self.notes(event, ctx, names) + self.noted(event.workspace, actions, names)
        if not notes and not actions:
            return
        if not notes:  # Steward acts on something the story has not told yet: say what, so it has its moment
            notes = self.cause(event, names, idea=any(a.key.startswith(IDEA_CARD) for a in actions))
        stamp = local_time(event.at, community_zone(event, ctx), self.language)
        if isinstance(event, TimePassed):
            self.out(f"{stamp}  ⏰ {self.t('narrate.time_passes')}")
        for note in notes:
            self.out(f"{stamp}  {note}")
        for action in actions:
            self.out(describe(action, names, brief=isinstance(action, UpdateMessage)))

    def notes(self, event: Event, ctx: RuleContext, names: Mapping[str, str]) -> list[str]:
        """What Steward understood, told from the facts its rules decided."""
        t, notes = self.t, []
        if isinstance(event, MessageUnderstood):
            message = event.message
            question = ctx.state.question(event.workspace, event.question_id) if event.question_id else None
            if question is not None:
                key = "narrate.followup" if question.followup else "narrate.question"
                who = names.get(message.user, message.user)
                notes.append(t(key, member=who, channel=message.channel, text=excerpt(message.text, 90)))
            answered = ctx.state.question(event.workspace, event.answer.question_id) if event.answer else None
            if event.answer is not None and event.answer.first and answered is not None:
                responder = event.answer.responder
                notes.append(
                    t(
                        "narrate.answered",
                        member=names.get(responder, responder),
                        asker=names.get(answered.asker_id, answered.asker_id),
                        how=event.answer.how,
                    )
                )
        elif isinstance(event, QuestionResolved):
            q = ctx.state.question(event.workspace, event.question_id)
            if q is not None:
                notes.append(t("narrate.resolved", asker=names.get(q.asker_id, q.asker_id), how=event.how))
        elif isinstance(event, MemberJoined):
            notes.append(t("narrate.joined", member=names.get(event.user, event.user), channel=event.channel))
        elif isinstance(event, CommandInvoked):
            command = excerpt(plain(f"/steward {event.args}".strip(), names), 120)
            notes.append(t("narrate.command", member=names.get(event.user, event.user), channel=event.channel,
                           command=command))
        elif isinstance(event, InteractionClicked):
            label = f"button.{event.action}"
            button = self.t(label) if label in catalog(self.language) else event.action
            about = (self._idea(event.value) if event.action.startswith("idea_")
                     else self._lesson(event.action, event.value) or self._about(event.workspace, event.value, names))
            notes.append(t("narrate.clicked", member=names.get(event.user, event.user), button=button, about=about))
        elif isinstance(event, HelpCredited):
            for credit in event.credits:
                by = names.get(credit.by, credit.by) if credit.by else "-"
                notes.append(t("narrate.credited", member=names.get(credit.member, credit.member), by=by,
                               how=credit.how))
        return notes

    def noted(self, workspace: str, actions: Sequence[Action], names: Mapping[str, str]) -> list[str]:
        """What an action means when its form does not say it: a 📌 on a message is a commitment noted, a direct
        message the next lesson of a member's learning path or a lesson offered to its author for review."""
        notes = []
        for action in actions:
            if isinstance(action, AddReaction) and action.key.startswith("commitment-noted:"):
                notes.append(self.t("narrate.commitment", about=self._about(workspace, action.message_id, names)))
                continue
            user = getattr(action, "user", "")
            member = names.get(user, user)
            key = action.key
            if key.startswith("path-lesson:"):
                notes.append(self.t("narrate.path_lesson", member=member))
            elif key.startswith("path-finished:"):
                notes.append(self.t("narrate.path_finished", member=member))
            elif key.startswith("lesson-decision:"):  # lesson-decision:WS:LESSON:DECISION:AUTHOR
                _, lesson, decision, _author = key.rsplit(":", 3)
                notes.append(self.t("narrate.review_decision", member=member, id=lesson, decision=decision))
            elif key.startswith("lesson-review:") and isinstance(action, SendDirectMessage):
                _, lesson, _checked, _author = key.rsplit(":", 3)  # lesson-review:WS:LESSON:CHECKED:AUTHOR
                notes.append(self.t("narrate.review_stale", member=member, id=lesson))
            elif key.endswith(":report.preview"):
                notes.append(self.t("narrate.report_preview", member=member))
        return notes

    def cause(self, event: Event, names: Mapping[str, str], *, idea: bool = False) -> list[str]:
        """The message or reaction that led to actions nothing else told of (a thread that sounds decided, a 👍 on
        an idea's card: `idea`, when the actions edit one)."""
        message = event.message if isinstance(event, MessageUnderstood) else event
        if isinstance(message, MessagePosted):
            return [self.t("narrate.said", member=names.get(message.user, message.user), channel=message.channel,
                           text=excerpt(plain(message.text, names), 90))]
        if isinstance(event, ReactionAdded):
            about = self._about(event.workspace, event.message_id, names)
            if idea and about == event.message_id:  # not a member's message: the card, or the idea's number
                about = self._idea(event.message_id)
            return [self.t("narrate.reacted", member=names.get(event.user, event.user), emoji=event.emoji,
                           about=about)]
        return []

    def _remember(self, event: MessagePosted) -> None:
        self._said[(event.workspace, event.message_id)] = (event.user, event.text)
        while len(self._said) > self.REMEMBERED:
            self._said.popitem(last=False)

    def _about(self, workspace: str, message_id: str, names: Mapping[str, str]) -> str:
        """A message as the story names it: its author and its first words; else its id (a decision's number)."""
        said = self._said.get((workspace, message_id))
        if said is None:
            return message_id
        author, text = said
        return self.t("narrate.about", member=names.get(author, author), text=excerpt(plain(text, names), 70))

    def _lesson(self, action: str, value: str) -> str:
        """The lesson a path's or a review's button is about ("" for other buttons): "lesson #4 of their learning
        path" (a path button's value is PATH:LESSON:ROUND), "lesson #2" (a review's is the lesson's id)."""
        parts = value.split(":")
        if action.startswith("path_") and len(parts) == 3 and parts[1].isdigit():
            return self.t("narrate.about_path_lesson", lesson=parts[1])
        if action.startswith("review_") and value.isdigit():
            return self.t("narrate.about_lesson", id=value)
        return ""

    def _idea(self, value: str) -> str:
        """An idea as its buttons name it: "idea #1" (a card's message id stays as it is)."""
        number = value.lstrip("#")
        return self.t("narrate.about_idea", id=number) if number.isdigit() else value

    def t(self, key: str, **params: Any) -> str:
        return translate(key, self.language, **params)


def print_summary(result: ReplayResult, out: Printer = print) -> None:
    metrics = result.report.get("metrics", {})
    out("")
    out(f"{result.events} events replayed; {result.actions} actions decided.")
    out(
        "questions: {questions}, answered: {answered}, resolved: {resolved}, flagged: {flagged}, "
        "escalated: {escalated}, median time to first response: {ttfr}".format(
            ttfr=_duration(metrics.get("median_time_to_first_response_s")),
            **{k: metrics.get(k, 0) for k in ("questions", "answered", "resolved", "flagged", "escalated")},
        )
    )
    offers, promised = result.report.get("decision_offers", []), result.report.get("commitments", [])
    decided = result.report.get("decisions", [])
    if offers or decided or promised:
        out(f"decision offers: {len(offers)}, decisions recorded: {len(decided)}, "
            f"commitments: {len(promised)} (owners asked: {sum(1 for c in promised if c.get('asked'))})")
    ideas = result.report.get("ideas", [])
    if ideas:
        statuses = Counter(i.get("status", "") for i in ideas)
        out(f"ideas: {len(ideas)} (votes: {sum(i.get('votes', 0) for i in ideas)}), "
            + ", ".join(f"{status.replace('_', ' ')}: {n}" for status, n in sorted(statuses.items())))
    for problem in result.problems.summary():  # the first few skipped lines, then how many more
        out(f"skipped: {problem}")


def _duration(seconds: float | None) -> str:
    """The summary is English, so is its duration ("15 minutes"); a dash when nothing was measured."""
    return "-" if seconds is None else duration(seconds, "en")
