"""Recognition without ranking: thanks credit the people who helped, and members see what they helped with.

A thank-you credits a member: "thanks"/"danke" (or 🙏) in a thread credits the member it replied to (the one it
names, the message it answers, else the latest other voice in the thread); a thanks in a flat channel that
resolves the asker's question credits the question's first responder; a 🙏 on a message credits its author; the
asker's ✅ on an answer credits whoever wrote it. `/steward thanks @member [why]` records a credit on purpose
and tells the member privately who thanked them and why. `/steward me` shows a member the questions they
answered first, the credits they received and which of their answers became lessons. Nothing here compares
members: the digest says how many people answered and names first-time helpers, never a count per person.

Credits are kept by the shell (`RecordCredits`), each under a key that says who thanked for what, so one
thank-you is one credit however often it is decided or however many ways it was said.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.core.actions import Action, Card, SendDirectMessage
from bot.core.events import (
    AnswerAccepted,
    CommandInvoked,
    Event,
    MessagePosted,
    MessageUnderstood,
    QuestionResolved,
    ReactionAdded,
)
from bot.core.markup import clip, defuse, mentions
from bot.core.recognition import REASON_CHARS, Contributions, Credit
from bot.i18n import local_date, translate
from bot.rules import Command, CommandErrand, Decision, Errand, RuleBase, RuleContext, command_failed
from bot.state import MessageInfo
from facilitation_rules.etiquette import member_zone, nudge_refusal
from facilitation_rules.questions import is_facilitated
from facilitation_rules.text.cues import is_thanks

logger = logging.getLogger(__name__)

THANKS_EMOJI = frozenset({"pray", "folded_hands", "🙏"})
THANKS_MARKS = ("🙏", ":pray:", ":folded_hands:")
# A thank-you to everyone ("thanks all", "danke an alle") credits nobody in particular.
TO_EVERYONE = re.compile(
    r"\b(?:every(?:one|body)|all|y'?all|folks|team|guys|alle[nms]?|zusammen|leute|ihr alle|euch allen)\b"
    r"\s*[!.🙂🙏]*\s*$|\b(?:to|an) (?:all|every(?:one|body)|alle)\b"
    # ... or whose thanks is addressed to a group wherever it stands ("thanks all of you, this helps", "vielen
    # Dank euch allen für die Tipps"); after a comma only words that cannot start a sentence of their own.
    r"|\b(?:thanks?|thank you|thx|cheers|danke(?:schön)?|dank)\s+(?:(?:to|an)\s+)?(?:you\s+)?"
    r"(?:all|every(?:one|body)|y'?all|folks|guys|team|both|alle[nms]?|euch|ihr|zusammen|leute)\b"
    r"|\b(?:thanks?|thank you|thx|danke(?:schön)?),\s*(?:every(?:one|body)|y'?all|folks|guys|alle[nms]?|euch"
    r"|ihr|zusammen|leute)\b",
    re.IGNORECASE,
)
THREAD_LOOKBACK = 500  # recent messages read back to find whom a thanks in a thread answers
THREAD_AGE = timedelta(days=14)


def says_thanks(text: str, language: str) -> bool:
    """"thanks", "danke", "hat geklappt", a 🙏: gratitude or a success report (not "thanks in advance", and not a
    thank-you to everyone, which credits nobody in particular)."""
    if TO_EVERYONE.search(text):
        return False
    return any(mark in text for mark in THANKS_MARKS) or is_thanks(text, language)


class Recognition(RuleBase):
    name = "recognition"
    reacts_to = (MessageUnderstood, ReactionAdded, AnswerAccepted, QuestionResolved)

    def __init__(self, *, enabled: bool = False) -> None:
        self.enabled = enabled  # False until the app wires the credit store in: then thanks are not kept

    def commands(self) -> Mapping[str, Command]:
        return {
            "thanks": Command("thanks", self.thanks_command, "recognition.help_thanks", usage="@member [why]"),
            "me": Command("me", self.me_command, "recognition.help_me"),
        }

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if not self.enabled:
            return ()
        if isinstance(event, MessageUnderstood):
            credits = [] if event.question_id else self.thanked(event.message, ctx)  # a question thanks nobody
        elif isinstance(event, ReactionAdded):
            credits = self.reacted(event, ctx)
        elif isinstance(event, AnswerAccepted):
            credits = self.accepted(event, ctx)
        elif isinstance(event, QuestionResolved) and event.how == "thanks":
            credits = self.resolved_by_thanks(event, ctx)
        else:
            return ()
        return [RecordCredits(workspace=event.workspace, credits=tuple(credits))] if credits else ()

    # --- thanks in chat ------------------------------------------------------------------------------------
    def thanked(self, event: MessagePosted, ctx: RuleContext) -> list[Credit]:
        """Whom a thank-you in a facilitated channel credits (nobody, if it names no one and answers nothing)."""
        ws = event.workspace
        in_thread = event.thread is not None and event.thread != event.message_id
        if not (in_thread or event.reply_to or event.mentions):
            return []  # a flat thanks names no one: credited if it resolves a question (`resolved_by_thanks`)
        if event.bot or not is_facilitated(ctx, ws, event.channel):
            return []
        if not says_thanks(event.text, ctx.channel_language(ws, event.channel)):
            return []
        question = ctx.state.question(ws, event.thread) if in_thread and event.thread else None

        def credit(member: str, key: str, message: str | None) -> Credit:
            return Credit(key=key, member=member, by=event.user, how="thanks", at=event.at, channel=event.channel,
                          question=question.id if question else None, message=message)

        named = [m for m in event.mentions if m != event.user and not self._bot(ws, m, ctx)]
        if named:
            return [credit(m, f"named:{event.message_id}:{m}", None) for m in named]
        if event.mentions:
            return []  # it thanks Steward (or another bot) by name: no member helped
        if event.reply_to:
            target = ctx.state.message(ws, event.reply_to)
            if target is not None and target.user != event.user and not target.bot:
                return [credit(target.user, f"{event.reply_to}:{event.user}", event.reply_to)]
            return []
        if in_thread and event.thread:
            found = self._answered_in_thread(ws, event, ctx)
            if found is not None:
                return [credit(found[1].user, f"{found[0]}:{event.user}", found[0])]
            if question is not None:  # the thread has left memory: its latest responder
                others = [r for r in question.responders if r != event.user]
                return [credit(others[-1], f"{question.id}:{event.user}:{others[-1]}", None)] if others else []
        return []

    def _answered_in_thread(
        self, ws: str, event: MessagePosted, ctx: RuleContext
    ) -> tuple[str, MessageInfo] | None:
        """The latest message in the thread before the thanks, by someone else (the root counts too)."""
        for read, ((w, message_id), info) in enumerate(reversed(ctx.state.messages.items())):
            if read >= THREAD_LOOKBACK or event.at - info.at > THREAD_AGE:
                break
            if w != ws or message_id == event.message_id:
                continue
            in_this_thread = info.thread == event.thread or message_id == event.thread
            if in_this_thread and info.user != event.user and not info.bot and info.at <= event.at:
                return message_id, info
        return None

    def resolved_by_thanks(self, event: QuestionResolved, ctx: RuleContext) -> list[Credit]:
        """The asker's thanks in a flat channel resolved their question: it credits the first responder. (A thanks
        in the question's thread was credited to the answer it replied to when it was understood, in `thanked`.)"""
        ws = event.workspace
        question = ctx.state.question(ws, event.question_id)
        if question is None or not question.first_responder_id or not question.first_response_id:
            return []
        if question.first_responder_id == question.asker_id or self._bot(ws, question.first_responder_id, ctx):
            return []
        last = next(reversed(ctx.state.messages.items()), None)  # the thanks itself, remembered before the rules
        if last is not None:
            (_, said_id), said = last
            if said.user == question.asker_id and said.at == event.at and said.thread not in (None, said_id):
                return []
        return [Credit(key=f"{question.first_response_id}:{question.asker_id}", member=question.first_responder_id,
                       by=question.asker_id, how="thanks", at=event.at, channel=question.channel_id,
                       question=question.id, message=question.first_response_id)]

    def reacted(self, event: ReactionAdded, ctx: RuleContext) -> list[Credit]:
        """A 🙏 on someone's message (not on a question: thanking someone for asking is not credit for help)."""
        if event.emoji not in THANKS_EMOJI:
            return []
        ws = event.workspace
        target = ctx.state.message(ws, event.message_id)
        if target is None or target.bot or target.user == event.user or not is_facilitated(ctx, ws, target.channel):
            return []
        if ctx.state.question(ws, event.message_id) is not None:
            return []
        question = ctx.state.question(ws, target.thread) if target.thread else None
        return [Credit(key=f"{event.message_id}:{event.user}", member=target.user, by=event.user, how="reaction",
                       at=event.at, channel=target.channel, question=question.id if question else None,
                       message=event.message_id)]

    def accepted(self, event: AnswerAccepted, ctx: RuleContext) -> list[Credit]:
        """The asker's ✅ on an answer credits whoever wrote it."""
        question = ctx.state.question(event.workspace, event.question_id)
        if question is None or event.answerer == question.asker_id or self._bot(event.workspace, event.answerer, ctx):
            return []
        return [Credit(key=f"{event.message_id}:{question.asker_id}", member=event.answerer, by=question.asker_id,
                       how="accepted", at=event.at, channel=question.channel_id, question=question.id,
                       message=event.message_id)]

    @staticmethod
    def _bot(ws: str, member: str, ctx: RuleContext) -> bool:
        found = ctx.state.members.get((ws, member))
        return found is not None and found.is_bot

    # --- commands -------------------------------------------------------------------------------------------
    def thanks_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        """`/steward thanks @member [why]`: a credit on purpose, and a private word to the member."""
        if not self.enabled:
            return [ctx.reply(event, "recognition.unavailable")]
        ws = event.workspace
        named = (mentions(args[0]) or (args[0].lstrip("@"),)) if args else ()
        member_id = named[0] if named else ""
        if not member_id:
            return [ctx.reply(event, "recognition.thanks_usage")]
        if member_id == event.user:
            return [ctx.reply(event, "recognition.thanks_self")]
        member = ctx.state.members.get((ws, member_id))
        if member is None or member.is_bot:
            return [ctx.reply(event, "recognition.thanks_unknown", member=defuse(args[0]))]
        reason = clip(" ".join(defuse(" ".join(args[1:])).split()), REASON_CHARS)
        question = ctx.state.question(ws, event.thread) if event.thread else None
        key = f"{event.channel}:{event.user}:{event.at.isoformat()}:{member_id}"
        credit = Credit(key=f"command:{key}", member=member_id, by=event.user, how="command", at=event.at,
                        channel=event.channel, question=question.id if question else None, reason=reason)
        then: list[Action] = []
        if nudge_refusal(member, ctx, budgeted=False) is None:  # a thank-you asks nothing: no budget, the rest holds
            lang = ctx.language(ws, member_id)
            text = translate("recognition.thanks_dm_why" if reason else "recognition.thanks_dm", lang,
                             by=f"<@{event.user}>", channel=f"<#{event.channel}>", why=reason)
            then.append(SendDirectMessage(key=f"thanks:{key}", workspace=ws, user=member_id,
                                          text=f"{text}\n{translate('recognition.thanks_dm_me', lang)}"))
            then.append(ctx.reply(event, "recognition.thanks_sent", member=f"<@{member_id}>"))
        else:
            then.append(ctx.reply(event, "recognition.thanks_kept", member=f"<@{member_id}>"))
        return [RecordCredits(workspace=ws, credits=(credit,), command=event, then=tuple(then))]

    def me_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        """`/steward me`: what the member helped with, privately."""
        if not self.enabled:
            return [ctx.reply(event, "recognition.unavailable")]
        return [ShowContributions(workspace=event.workspace, command=event)]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordCredits(Errand):
    """Keep credits (the shell writes them, once per key), then say what follows: a DM, a reply."""

    credits: tuple[Credit, ...]
    command: CommandInvoked | None = None
    then: tuple[Action, ...] = ()

    def unserved(self, ctx: RuleContext) -> Decision:
        return [command_failed(self.command, ctx)] if self.command is not None else ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowContributions(CommandErrand):
    """`/steward me`: the member's contributions, read from the store."""


# --- how contributions read ------------------------------------------------------------------------------------
def contribution_sections(
    found: Contributions, lang: str, *, quote: Callable[[str], str] = defuse, timezone: str = "UTC"
) -> list[str]:
    """The member's contributions as sections of text, their own figures only; `quote` makes stored member text
    safe for where it is shown (Slack's Home tab escapes it; chat defuses it)."""

    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    if found.empty:
        return [t("recognition.me_nothing_yet")]
    sections = []
    if found.answered_first:
        lines = [t("recognition.me_answered", count=found.answered_first)]
        lines += [f"• <#{a.channel}> {quote(a.excerpt)}".rstrip() for a in found.answered]
        sections.append("\n".join(lines))
    if found.credits:
        lines = [t("recognition.me_credits", count=found.credits)]
        for credit in found.recent_credits:
            who = f"<@{credit.by}>" if credit.by else t("recognition.someone")
            day = local_date(credit.at, timezone, lang)
            line = t(f"recognition.me_credit_{credit.how}", by=who, day=day)
            lines.append(f"• {line}" + (f": {quote(credit.reason)}" if credit.reason else ""))
        sections.append("\n".join(lines))
    if found.lessons:
        lines = [t("recognition.me_lessons", count=found.lessons)]
        lines += [f"• #{ref.id} {quote(ref.title)} {ref.link}".rstrip() for ref in found.lesson_refs]
        sections.append("\n".join(lines))
    return sections


def contributions_card(found: Contributions, ctx: RuleContext, workspace: str, member: str) -> Card:
    lang = ctx.language(workspace, member)
    zone = member_zone(ctx.member(workspace, member), ctx)
    return Card(
        title=translate("recognition.me_title", lang),
        sections=tuple(contribution_sections(found, lang, timezone=zone)),
        footer=translate("recognition.me_footer", lang),
    )
