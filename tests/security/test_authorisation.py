"""Every facilitator-only command and every button that changes someone else's question, run by a plain member
through the real engine: a polite private refusal, and nothing in the database changes.

The commands come from the router (every rule's registered commands) and their subcommands from each command's
usage line; the buttons from the rules' sources. A new command or button must be classified here, so one
that forgets its check cannot slip in unnoticed.
"""

from __future__ import annotations

import copy
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app.engine import Engine
from bot.core.actions import Action, PostEphemeral
from bot.core.events import Event, InteractionClicked
from bot.i18n import translate
from bot.settings import Settings
from tests.support import WS, at, command, community, message

ROOT = Path(__file__).resolve().parents[2]
START = at("2026-03-02 08:00")  # a Monday, 09:00 in Berlin
MALLORY = "mallory"  # a plain member: not an admin, not a facilitator, asked nothing
FRAN = "fran"  # a facilitator (a workspace admin)

# What any member may run: it concerns only themselves, or only reads. Everything else is for facilitators.
EVERYONE = {
    "help": ["help"],
    "unanswered": ["unanswered"],
    "solved": ["solved"],  # their own question; someone else's thread is in PRIVILEGED
    "expert": ["expert add rollout", "expert remove rollout", "expert visible on", "expert visible off"],
    "experts": ["experts rollout"],
    "stuck": ["stuck with the rollout plan"],
    "mute": ["mute 3"],
    "unmute": ["unmute"],
    "forget": ["forget me"],
    "lesson": ["lesson How we book rooms"],
    "lessons": ["lessons rooms"],
    "digest": ["digest preview"],
    "stats": ["stats 7"],
    "portal": ["portal"],  # a sign-in link for themselves, sent to them alone
    "thanks": ["thanks @ben for the room booking tip"],  # a credit to someone else, and a word to them alone
    "me": ["me"],  # what they helped with, shown to them alone
    # their own quiet hours and time zone (the channel's settings are PRIVILEGED)
    "settings": ["settings", "settings quiet 20-7", "settings quiet off", "settings timezone Europe/Berlin",
                 "settings timezone auto"],
    "decide": ["decide We book rooms in Outlook"],  # the thread's decision, for everyone to agree or object
    "decisions": ["decisions rooms", "decisions"],
    "commit": ["commit send the room list by Friday", "commit"],  # their own promise, or their own list
    "skills": ["skills rollout"],  # who chose to be listed for a topic, from public channels only
    "idea": ["idea Book rooms through a shared calendar"],  # their own idea, for everyone to support
    "ideas": ["ideas", "ideas rooms"],
    "initiative": ["initiative Rollout"],  # looking at one; starting or changing one is PRIVILEGED
    "initiatives": ["initiatives"],
    "path": ["path", "paths", "path crm", "path start crm", "path stop crm", "path next crm"],  # their own progress
}
# Run by a plain member, each must be refused. `None`: run in the channel; else in that question's thread.
PRIVILEGED: list[tuple[str, str | None]] = [
    ("facilitator add mallory", None),
    ("facilitator remove fran", None),
    ("watch", None),
    ("unwatch", None),
    ("settings answer_time 1", None),
    ("settings language de", None),
    ("settings language en", None),
    ("digest now", None),
    ("digest schedule fri 10:00", None),
    ("digest schedule off", None),
    ("lesson edit 1 Hacked title", None),
    ("lesson retag 1 hacked", None),
    ("lesson merge 1 2", None),
    ("lesson verify 1", None),
    ("lesson delete 1", None),
    ("lesson review", None),
    ("solved", "q-tom"),  # someone else's question
    ("decide supersede 1 Rooms are booked by the facilitators", "q2"),  # someone else's decision: its recorder's
    ("channel purpose Change agents share what works", None),
    ("channel purpose", None),
    ("report", None),  # when and where the sponsor report goes
    ("report note The pilot teams met twice", None),
    ("report preview", None),  # the month so far, privately
    ("idea status 1 accepted", None),  # someone else's idea: its author's
    ("initiative new Launch Everyone on the new CRM", None),
    ("initiative add Rollout decision 1", None),
    ("initiative close Rollout", None),
    ("path new crm Hacked goal", None),
    ("path add crm 1", None),
    ("path remove crm 1", None),
    ("path delete crm", None),
]
# Buttons any member may press: offering to answer, asking for help for oneself, and consent to a decision.
MEMBER_BUTTONS = {"claim", "call_facilitator", "decision_agree", "decision_object", "decision_record",
                  "idea_vote", "idea_withdraw",  # support: one vote each, their own
                  "path_done", "path_later"}  # a path's buttons move only the presser's own progress
# Buttons that change what a question is: the asker's or a facilitator's call.
SETTLING_BUTTONS = {"solved", "not_a_question", "still_open"}
# Buttons that move an idea on: its author's or a facilitator's.
IDEA_BUTTONS = {"idea_accept", "idea_start", "idea_done", "idea_decline"}
# Buttons that answer for a commitment: only its owner's.
OWNER_BUTTONS = {"commitment_done", "commitment_help", "commitment_later"}
# Buttons that answer a stale lesson's review: only its authors' (or a facilitator's).
AUTHOR_BUTTONS = {"review_still_right", "review_needs_update", "review_retire"}

REFUSALS = ("command.not_allowed", "solved.not_yours", "not_a_question.not_yours", "still_open.not_yours",
            "commit.not_yours", "review.not_yours", "idea.not_yours")


def refusal_texts(name: str = "") -> set[str]:
    return {translate(key, lang, name=name) for key in REFUSALS for lang in ("en", "de")}


def database_rows(settings: Settings) -> dict[str, list[str]]:
    """Every row of every table, but the log of processed event ids (a refused command was still processed)."""
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{t}"')) for t in tables
                if t not in {"processed_event"}}


def usage_verbs(usage: str) -> set[str]:
    """The subcommand words of a usage line: the words next to a "|" ("edit|retag", "| review")."""
    return set(re.findall(r"([a-z_]+)\s*\|", usage)) | set(re.findall(r"\|\s*\[?([a-z_]+)", usage))


def declared_buttons() -> set[str]:
    sources = (ROOT / "facilitation_rules").rglob("*.py")
    return {name for path in sources for name in re.findall(r"\bButton\(\s*\"(\w+)\"", path.read_text("utf-8"))}


async def run(engine: Engine, event: Event) -> Sequence[Action]:
    engine.clock.set(event.at)  # type: ignore[attr-defined]
    return await engine.handle(event)


async def a_community(settings: Settings) -> tuple[Engine, datetime]:
    """Two answered questions captured as lessons #1 and #2 by a facilitator, and tom's open question."""
    engine = await community(settings, START)
    when = START
    for n, (question, answer) in enumerate([
        ("How do I book the big meeting room for a workshop?", "Use the room finder in Outlook, then confirm."),
        ("Where do I find the rollout plan for the new CRM?", "It is in the wiki, under Projects and then CRM."),
    ], start=1):
        await run(engine, message("ana", question, when, message_id=f"q{n}"))
        await run(engine, message("ben", answer, when + timedelta(minutes=5), thread=f"q{n}"))
        replies = await run(engine, command(FRAN, "lesson", when + timedelta(minutes=6), thread=f"q{n}", is_admin=True))
        assert "lesson" in " ".join(getattr(r, "text", "") for r in replies).lower()
        when += timedelta(minutes=10)
    await run(engine, message("tom", "Does anyone know who runs the SAP key-user training?", when, message_id="q-tom"))
    # ana records decision #1 in the first thread; tom promises something (commitment #1).
    replies = await run(engine, command("ana", "decide Rooms are booked in Outlook", when, thread="q1"))
    assert "#1" in " ".join(getattr(r, "text", "") for r in replies)
    await run(engine, message("tom", "I'll send the room list by Friday.", when, message_id="c-tom"))
    # ana proposes idea #1; fran starts the initiative Rollout.
    await run(engine, command("ana", "idea Book rooms through a shared calendar", when))
    await run(engine, command(FRAN, "initiative new Rollout", when, is_admin=True))
    return engine, when + timedelta(minutes=1)


def only_a_refusal(replies: Sequence[Action], name: str = "") -> bool:
    return len(replies) == 1 and isinstance(replies[0], PostEphemeral) and replies[0].user == MALLORY \
        and replies[0].text in refusal_texts(name)


def test_every_command_and_button_is_classified(settings: Settings) -> None:
    from bot.commands import CommandRouter
    from facilitation_rules import default_rules

    router = CommandRouter(default_rules(settings))
    privileged_names = {args.split()[0] for args, _ in PRIVILEGED}
    assert {"help", *router.commands} == set(EVERYONE) | privileged_names, "classify every registered command"
    for name, cmd in router.commands.items():
        if cmd.facilitators_only:
            assert name not in EVERYONE, f"/steward {name} is declared for facilitators only"
        tried = " ".join(a for a in [*EVERYONE.get(name, []), *(p for p, _ in PRIVILEGED)] if a.split()[0] == name)
        missing = usage_verbs(cmd.usage) - set(tried.split())
        assert not missing, f"/steward {name}: subcommands {missing} of '{cmd.usage}' are not tried"
    assert declared_buttons() == MEMBER_BUTTONS | SETTLING_BUTTONS | OWNER_BUTTONS | AUTHOR_BUTTONS \
        | IDEA_BUTTONS, \
        "classify every button"


@pytest.mark.parametrize(("args", "thread"), PRIVILEGED, ids=[a for a, _ in PRIVILEGED])
async def test_a_plain_member_is_refused_and_nothing_changes(
    settings: Settings, args: str, thread: str | None
) -> None:
    engine, when = await a_community(settings)
    try:
        await engine.flush()
        before = database_rows(settings)
        replies = await run(engine, command(MALLORY, args, when, thread=thread))
        words = args.split()
        # as refused
        name = " ".join(words[:2]) if words[0] in {"digest", "lesson", "decide", "path", "initiative"} else words[0]
        assert only_a_refusal(replies, name), f"/steward {args}: {replies}"
        await engine.flush()
        assert database_rows(settings) == before, f"/steward {args} by a plain member changed the database"

        # The same command by a facilitator is not refused: the case really exercises a privileged path.
        done = await run(engine, command(FRAN, args, when + timedelta(minutes=1), thread=thread, is_admin=True))
        assert done and not any(getattr(r, "text", None) in refusal_texts(name) for r in done), done
    finally:
        await engine.db.dispose()


@pytest.mark.parametrize("action", sorted(SETTLING_BUTTONS))
async def test_a_plain_member_cannot_settle_someone_elses_question(settings: Settings, action: str) -> None:
    engine, when = await a_community(settings)
    try:
        await engine.flush()
        before = database_rows(settings)
        click = InteractionClicked(workspace=WS, at=when, channel="help", user=MALLORY, action=action, value="q-tom")
        replies = await run(engine, click)
        assert only_a_refusal(replies), f"{action}: {replies}"
        await engine.flush()
        assert database_rows(settings) == before, f"the {action} button by a plain member changed the database"
        question = copy.deepcopy(engine.state.question(WS, "q-tom"))
        assert question is not None and question.status == "asked"

        by_asker = InteractionClicked(workspace=WS, at=when + timedelta(minutes=1), channel="help", user="tom",
                                      action=action, value="q-tom")
        assert not any(isinstance(r, PostEphemeral) for r in await run(engine, by_asker)), "the asker may"
        assert engine.state.question(WS, "q-tom") != question, f"the asker's {action} took effect"
    finally:
        await engine.db.dispose()


@pytest.mark.parametrize("action", sorted(OWNER_BUTTONS))
async def test_a_plain_member_cannot_answer_for_someone_elses_commitment(settings: Settings, action: str) -> None:
    engine, when = await a_community(settings)
    try:
        await engine.flush()
        before = database_rows(settings)
        click = InteractionClicked(workspace=WS, at=when, channel="D-mallory", user=MALLORY, action=action, value="1")
        replies = await run(engine, click)
        assert only_a_refusal(replies), f"{action}: {replies}"
        await engine.flush()
        assert database_rows(settings) == before, f"the {action} button by a plain member changed the database"

        by_owner = InteractionClicked(workspace=WS, at=when + timedelta(minutes=1), channel="D-tom", user="tom",
                                      action=action, value="1")
        assert not any(r.text in refusal_texts() for r in await run(engine, by_owner)
                       if isinstance(r, PostEphemeral)), "the owner may"
        await engine.flush()
        assert database_rows(settings) != before, f"the owner's {action} took effect"
    finally:
        await engine.db.dispose()


@pytest.mark.parametrize("action", sorted(AUTHOR_BUTTONS))
async def test_a_plain_member_cannot_answer_the_review_of_someone_elses_lesson(settings: Settings, action: str) -> None:
    engine, when = await a_community(settings)
    try:
        await engine.flush()
        before = database_rows(settings)
        click = InteractionClicked(workspace=WS, at=when, channel="D-mallory", user=MALLORY, action=action, value="1")
        replies = await run(engine, click)
        assert only_a_refusal(replies), f"{action}: {replies}"
        await engine.flush()
        assert database_rows(settings) == before, f"the {action} button by a plain member changed the database"

        by_author = InteractionClicked(workspace=WS, at=when + timedelta(minutes=1), channel="D-ben", user="ben",
                                       action=action, value="1")
        assert not any(r.text in refusal_texts() for r in await run(engine, by_author)
                       if isinstance(r, PostEphemeral)), "the author may"
        await engine.flush()
        assert database_rows(settings) != before, f"the author's {action} took effect"
    finally:
        await engine.db.dispose()


async def test_a_facilitator_may_settle_any_question(settings: Settings) -> None:
    engine, when = await a_community(settings)
    try:
        for who, is_admin in ((FRAN, True), ("lena", False)):
            if not is_admin:  # a facilitator by `/steward facilitator add`, not by the platform
                await run(engine, command(FRAN, "facilitator add lena", when, is_admin=True))
            question_id = f"q-{who}"
            await run(engine, message("tom", f"Who approves travel requests for {who}?", when, message_id=question_id))
            click = InteractionClicked(workspace=WS, at=when + timedelta(minutes=1), channel="help", user=who,
                                       action="not_a_question", value=question_id, is_admin=is_admin)
            assert await run(engine, click) == []
            question = engine.state.question(WS, question_id)
            assert question is not None and question.status == "not_a_question"
            when += timedelta(minutes=5)
    finally:
        await engine.db.dispose()


async def test_everyone_commands_are_not_refused(settings: Settings) -> None:
    engine, when = await a_community(settings)
    try:
        for name, runs in EVERYONE.items():
            for args in runs:
                when += timedelta(minutes=1)
                replies = await run(engine, command(MALLORY, args, when))
                texts = {getattr(r, "text", "") for r in replies}
                assert not texts & refusal_texts(name), f"/steward {args} is for everyone"
    finally:
        await engine.db.dispose()


@pytest.mark.parametrize("action", sorted(IDEA_BUTTONS))
async def test_a_plain_member_cannot_move_someone_elses_idea(settings: Settings, action: str) -> None:
    engine, when = await a_community(settings)
    try:
        await engine.flush()
        before = database_rows(settings)
        click = InteractionClicked(workspace=WS, at=when, channel="help", user=MALLORY, action=action, value="1")
        replies = await run(engine, click)
        assert only_a_refusal(replies), f"{action}: {replies}"
        await engine.flush()
        assert database_rows(settings) == before, f"the {action} button by a plain member changed the database"

        by_author = InteractionClicked(workspace=WS, at=when + timedelta(minutes=1), channel="help", user="ana",
                                       action=action, value="1")
        answered = await run(engine, by_author)
        assert answered and not any(r.text in refusal_texts() for r in answered if isinstance(r, PostEphemeral))
        await engine.flush()
        if action != "idea_decline":  # declining asks the author for a reason first
            assert database_rows(settings) != before, f"the author's {action} took effect"
    finally:
        await engine.db.dispose()
