"""Ideas and initiatives through the real engine and store: an idea proposed, supported by button and by 👍 on its
card, withdrawn, commented on, moved through its statuses; the list, the digest, a restart, forget-me, a replayed
transcript, the console; initiatives grouping decisions, ideas and commitments (Berlin time, a simulated clock)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from adapters.console.adapter import ConsoleSession
from bot.app.engine import Engine
from bot.app.replay import run_due_work
from bot.app.wiring import build_engine
from bot.core.actions import Action, PostEphemeral, PostMessage, UpdateMessage
from bot.core.clock import SimulatedClock
from bot.core.digest_figures import Period
from bot.core.events import Event, InteractionClicked, ReactionAdded, ReactionRemoved
from bot.settings import Settings
from storage import metrics
from storage.ideas_model import T_IDEA, T_IDEA_VOTE, T_INITIATIVE, T_INITIATIVE_ITEM
from storage.repository import T_OUTBOX
from tests.support import WS, at, command, community, message

MONDAY = at("2026-03-02 08:00")  # 09:00 in Berlin
FRAN = "fran"  # a facilitator (a workspace admin)


class Recorder:
    def __init__(self, engine: Engine) -> None:
        self.actions: list[Action] = []
        engine.observers.append(lambda event, actions, ctx: self.actions.extend(actions))

    def of(self, kind: type, prefix: str = "") -> list[Action]:
        return [a for a in self.actions if isinstance(a, kind) and a.key.startswith(prefix)]


async def say(engine: Engine, event: Event) -> Sequence[Action]:
    await run_due_work(engine, until=event.at)
    engine.clock.set(event.at)  # type: ignore[attr-defined]
    return await engine.handle(event)


def click(user: str, action: str, value: str, when: datetime, channel: str = "help") -> InteractionClicked:
    return InteractionClicked(workspace=WS, at=when, channel=channel, user=user, action=action, value=value)


def texts(replies: Sequence[Action]) -> str:
    return " ".join(getattr(r, "text", "") for r in replies)


async def rows(engine: Engine, table: object) -> list[dict[str, object]]:
    await engine.flush()
    async with engine.db.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(table))]  # type: ignore[call-overload]


async def delivered(engine: Engine, key: str, ref: str) -> None:
    """As the delivery worker would: the card reached the platform as message `ref`."""
    await engine.flush()
    async with engine.db.begin() as conn:
        await conn.execute(update(T_OUTBOX).where(T_OUTBOX.c.key == key).values(status="sent", platform_ref=ref))


def last_card(seen: Recorder, idea: int = 1) -> UpdateMessage:
    updates = seen.of(UpdateMessage, f"idea-card:{WS}:{idea}:")
    assert updates, "the card was never updated"
    return updates[-1]  # type: ignore[return-value]


# --- ideas -----------------------------------------------------------------------------------------------------
async def test_an_idea_is_posted_supported_once_per_member_by_button_or_reaction_and_its_card_follows(
    settings: Settings,
) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    replies = await say(engine, command("ana", "idea Book rooms through a shared calendar", MONDAY))
    assert "Your idea is posted as #1" in texts(replies)
    [card] = seen.of(PostMessage, f"idea:{WS}:1")
    assert card.channel == "help" and card.thread is None  # type: ignore[attr-defined]
    assert [b.action for b in card.buttons] == [  # type: ignore[attr-defined]
        "idea_vote", "idea_withdraw", "idea_accept", "idea_start", "idea_decline"]
    shown = card.card.as_text()  # type: ignore[attr-defined]
    assert "Book rooms through a shared calendar" in shown and "<@ana>" in shown and "0 votes" in shown

    voted = await say(engine, click("ben", "idea_vote", "1", MONDAY + timedelta(minutes=1)))
    assert "you support idea #1" in texts(voted)
    assert "one vote" in last_card(seen).text
    again = await say(engine, click("ben", "idea_vote", "1", MONDAY + timedelta(minutes=2)))
    assert "already" in texts(again) and len(await rows(engine, T_IDEA_VOTE)) == 1, "a second vote changes nothing"

    await delivered(engine, f"idea:{WS}:1", "steward-1")
    await say(engine, ReactionAdded(workspace=WS, at=MONDAY + timedelta(minutes=3), message_id="steward-1",
                                    user="cem", emoji="+1"))
    assert "2 votes" in last_card(seen).text
    await say(engine, ReactionAdded(workspace=WS, at=MONDAY + timedelta(minutes=4), message_id="steward-1",
                                    user="ben", emoji="thumbsup"))
    assert sorted(str(r["member_id"]) for r in await rows(engine, T_IDEA_VOTE)) == ["ben", "cem"]
    await say(engine, ReactionAdded(workspace=WS, at=MONDAY + timedelta(minutes=4), message_id="steward-1",
                                    user="dan", emoji="tada"))
    assert len(await rows(engine, T_IDEA_VOTE)) == 2, "another emoji is no vote"

    await say(engine, ReactionRemoved(workspace=WS, at=MONDAY + timedelta(minutes=5), message_id="steward-1",
                                      user="cem", emoji="+1"))
    assert "one vote" in last_card(seen).text
    withdrawn = await say(engine, click("ben", "idea_withdraw", "1", MONDAY + timedelta(minutes=6)))
    assert "withdrawn" in texts(withdrawn) and "0 votes" in last_card(seen).text
    nothing = await say(engine, click("ben", "idea_withdraw", "1", MONDAY + timedelta(minutes=7)))
    assert "nothing to withdraw" in texts(nothing)
    sent = [r["key"] for r in await rows(engine, T_OUTBOX) if str(r["key"]).startswith(f"idea-card:{WS}:1:")]
    assert sent == [f"idea-card:{WS}:1:{n}" for n in (1, 2, 3, 4)], "one update per change; a non-change sends none"
    await engine.db.dispose()


async def test_replies_in_the_cards_thread_are_counted_on_the_card(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    await say(engine, command("ana", "idea Monthly show and tell", MONDAY))
    await delivered(engine, f"idea:{WS}:1", "steward-1")
    await say(engine, message("ben", "Love it, Friday afternoons?", MONDAY + timedelta(minutes=1), thread="steward-1"))
    assert "one comment" in last_card(seen).card.as_text()  # type: ignore[union-attr]
    await say(engine, message("cem", "Count me in", MONDAY + timedelta(minutes=2), thread="steward-1"))
    assert "2 comments" in last_card(seen).card.as_text()  # type: ignore[union-attr]
    await say(engine, message("ana", "Who owns the rollout?", MONDAY + timedelta(minutes=3), message_id="q1"))
    before = len(seen.actions)
    await say(engine, message("ben", "Tom does", MONDAY + timedelta(minutes=4), thread="q1"))
    assert not [a for a in seen.actions[before:] if a.key.startswith("idea-card:")], "a member's thread is no card"
    await engine.db.dispose()


async def test_its_author_or_a_facilitator_moves_an_idea_on_and_declining_needs_a_reason(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    await say(engine, command("ana", "idea Book rooms through a shared calendar", MONDAY))
    refused = await say(engine, command("ben", "idea status 1 accepted", MONDAY + timedelta(minutes=1)))
    assert "Only the idea's author or a facilitator" in texts(refused)
    assert (await rows(engine, T_IDEA))[0]["status"] == "proposed"

    moved = await say(engine, command("ana", "idea status 1 accepted", MONDAY + timedelta(minutes=2)))
    assert "Idea #1 is now accepted" in texts(moved)
    assert "accepted" in last_card(seen).text
    assert [b.action for b in last_card(seen).buttons] == [
        "idea_vote", "idea_withdraw", "idea_start", "idea_done", "idea_decline"]
    back = await say(engine, command("ana", "idea status 1 accepted", MONDAY + timedelta(minutes=3)))
    assert "cannot move" in texts(back)
    not_yet = await say(engine, click(FRAN, "idea_start", "1", MONDAY + timedelta(minutes=4)))
    assert "Only the idea's author or a facilitator" in texts(not_yet), "not a facilitator yet"
    await say(engine, command(FRAN, "facilitator add fran", MONDAY + timedelta(minutes=5), is_admin=True))
    started = await say(engine, click(FRAN, "idea_start", "1", MONDAY + timedelta(minutes=6)))
    assert "Idea #1 is now in progress" in texts(started)

    why = await say(engine, click(FRAN, "idea_decline", "1", MONDAY + timedelta(minutes=7)))
    assert "say why" in texts(why) and (await rows(engine, T_IDEA))[0]["status"] == "in_progress"
    declined = await say(engine, command(FRAN, "idea status 1 declined the calendar licence is too costly",
                                         MONDAY + timedelta(minutes=8)))
    assert "Idea #1 is now declined" in texts(declined)
    final = last_card(seen)
    assert final.buttons == () and "declined: the calendar licence is too costly" in final.card.as_text()  # type: ignore[union-attr]
    late = await say(engine, click("cem", "idea_vote", "1", MONDAY + timedelta(minutes=9)))
    assert "takes no more votes" in texts(late)
    usage = await say(engine, command("ana", "idea status one accepted", MONDAY + timedelta(minutes=10)))
    assert "Usage" in texts(usage)
    await engine.db.dispose()


async def test_ideas_lists_the_open_ones_most_supported_first_and_finds_them_by_words(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    assert "no open ideas yet" in texts(await say(engine, command("ana", "ideas", MONDAY)))
    for n, text in enumerate(["Book rooms through a shared calendar", "Monthly show and tell on Teams",
                              "A glossary of our SAP terms"], start=1):
        await say(engine, command("ana", f"idea {text}", MONDAY + timedelta(minutes=n)))
    for n, voter in enumerate(["ben", "cem"]):
        await say(engine, click(voter, "idea_vote", "2", MONDAY + timedelta(minutes=10 + n)))
    await say(engine, click("ben", "idea_vote", "3", MONDAY + timedelta(minutes=13)))
    await say(engine, command("ana", "idea status 1 done", MONDAY + timedelta(minutes=14)))
    [listed] = await say(engine, command("dan", "ideas", MONDAY + timedelta(minutes=15)))
    lines = listed.card.sections  # type: ignore[attr-defined]
    assert [line.split()[0] for line in lines] == ["#2", "#3"], "open ideas, most supported first"
    assert "2 votes" in lines[0] and "one vote" in lines[1]
    [found] = await say(engine, command("dan", "ideas TEAMS", MONDAY + timedelta(minutes=16)))
    assert [line.split()[0] for line in found.card.sections] == ["#2"]  # type: ignore[attr-defined]
    assert "No open idea mentions" in texts(await say(engine, command("dan", "ideas kanban",
                                                                      MONDAY + timedelta(minutes=17))))
    await engine.db.dispose()


async def test_the_digest_names_the_weeks_new_ideas_the_most_supported_and_each_initiative(
    settings: Settings,
) -> None:
    engine = await community(settings, MONDAY)
    await say(engine, message("ana", "Hello everyone, the rollout starts next month.", MONDAY))
    [quiet] = await say(engine, command("dan", "digest preview", MONDAY + timedelta(minutes=1)))
    assert "ideas" not in quiet.card.as_text().lower(), "no ideas: no section"  # type: ignore[attr-defined]
    await say(engine, command("ana", "idea Book rooms through a shared calendar", MONDAY + timedelta(minutes=2)))
    await say(engine, command("ben", "idea Monthly show and tell", MONDAY + timedelta(minutes=3)))
    await say(engine, click("cem", "idea_vote", "2", MONDAY + timedelta(minutes=4)))
    await say(engine, command(FRAN, "initiative new Rollout Everyone on the new CRM", MONDAY + timedelta(minutes=5),
                              is_admin=True))
    await say(engine, command(FRAN, "initiative add Rollout idea 2", MONDAY + timedelta(minutes=6), is_admin=True))

    figures = await metrics.figures(engine.db, WS, Period(at("2026-03-02 00:00"), at("2026-03-09 00:00")))
    assert figures.ideas.new_count == 2 and [(i.id, i.votes) for i in figures.ideas.supported] == [(2, 1)]
    later = await metrics.figures(engine.db, WS, Period(at("2026-03-09 00:00"), at("2026-03-16 00:00")))
    assert later.ideas.new_count == 0 and [i.id for i in later.ideas.supported] == [2]
    [preview] = await say(engine, command("dan", "digest preview", MONDAY + timedelta(minutes=7)))
    shown = preview.card.as_text()  # type: ignore[attr-defined]
    assert "2 new ideas this week" in shown and "• #1 Book rooms through a shared calendar" in shown
    assert "Ideas with the most support" in shown and "• #2 Monthly show and tell (one vote)" in shown
    assert "*Initiatives*" in shown and "• *Rollout*: ideas: 1 proposed" in shown
    await engine.db.dispose()


async def test_a_private_channels_ideas_stay_there(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    await say(engine, replace(message("ana", "Just the leads here", MONDAY, channel="leads"), channel_private=True))
    await say(engine, message("ben", "Hello all", MONDAY + timedelta(minutes=1)))
    await say(engine, command("ana", "idea Rotate the on-call duty", MONDAY + timedelta(minutes=2), channel="leads"))
    assert "no open ideas" in texts(await say(engine, command("ben", "ideas", MONDAY + timedelta(minutes=3))))
    [there] = await say(engine, command("ana", "ideas", MONDAY + timedelta(minutes=4), channel="leads"))
    assert "Rotate the on-call duty" in there.card.sections[0]  # type: ignore[attr-defined]
    figures = await metrics.figures(engine.db, WS, Period(at("2026-03-02 00:00"), at("2026-03-09 00:00")))
    assert figures.ideas.empty, "a private channel's idea never reaches a digest"
    await engine.db.dispose()


async def test_ideas_and_their_votes_outlive_a_restart(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    await say(engine, command("ana", "idea Book rooms through a shared calendar", MONDAY))
    await say(engine, click("ben", "idea_vote", "1", MONDAY + timedelta(minutes=1)))
    await delivered(engine, f"idea:{WS}:1", "steward-1")
    await engine.close()

    engine = await build_engine(settings, SimulatedClock(MONDAY + timedelta(hours=2)))
    seen = Recorder(engine)
    again = await say(engine, click("ben", "idea_vote", "1", MONDAY + timedelta(hours=2)))
    assert "already" in texts(again), "the vote was kept"
    await say(engine, ReactionAdded(workspace=WS, at=MONDAY + timedelta(hours=2, minutes=1), message_id="steward-1",
                                    user="cem", emoji="+1"))
    update_ = last_card(seen)
    assert update_.original_key == f"idea:{WS}:1" and "2 votes" in update_.text
    await say(engine, command("ana", "idea status 1 accepted", MONDAY + timedelta(hours=2, minutes=2)))
    assert "accepted" in last_card(seen).text
    [listed] = await say(engine, command("dan", "ideas", MONDAY + timedelta(hours=2, minutes=3)))
    assert "2 votes" in listed.card.sections[0]  # type: ignore[attr-defined]
    await engine.close()


async def test_forget_me_removes_a_members_votes_and_their_name_from_the_ideas_they_proposed(
    settings: Settings,
) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    await say(engine, command("ana", "idea Book rooms through a shared calendar", MONDAY))
    await say(engine, click("ben", "idea_vote", "1", MONDAY + timedelta(minutes=1)))
    await say(engine, click("ana", "idea_vote", "1", MONDAY + timedelta(minutes=2)))
    await say(engine, command("ben", "forget me", MONDAY + timedelta(minutes=3)))
    assert [r["member_id"] for r in await rows(engine, T_IDEA_VOTE)] == ["ana"]
    await say(engine, command("ana", "forget me", MONDAY + timedelta(minutes=4)))
    [idea] = await rows(engine, T_IDEA)
    assert idea["author_id"] is None and idea["text"] == "Book rooms through a shared calendar"
    assert await rows(engine, T_IDEA_VOTE) == []
    await say(engine, click("cem", "idea_vote", "1", MONDAY + timedelta(minutes=5)))
    shown = last_card(seen).card.as_text()  # type: ignore[union-attr]
    assert "a former member" in shown and "<@ana>" not in shown and "one vote" in shown
    await engine.db.dispose()


# --- initiatives -----------------------------------------------------------------------------------------------
async def test_an_initiative_groups_decisions_ideas_and_commitments_and_shows_their_progress(
    settings: Settings,
) -> None:
    engine = await community(settings, MONDAY)
    started = await say(engine, command(FRAN, 'initiative new "Digital workplace" Everyone works on Teams by June',
                                        MONDAY, is_admin=True))
    assert "Started the initiative Digital workplace" in texts(started)
    exists = await say(engine, command(FRAN, 'initiative new "digital  WORKPLACE"', MONDAY + timedelta(minutes=1),
                                       is_admin=True))
    assert "already" in texts(exists)

    # A decision in a thread, two ideas, two commitments (one of them overdue by Friday).
    await say(engine, message("ana", "Teams or Slack for the new team?", MONDAY + timedelta(minutes=2),
                              message_id="root"))
    await say(engine, message("ben", "Teams, it is in our licence.", MONDAY + timedelta(minutes=3), thread="root"))
    await say(engine, command("ana", "decide Teams for the new team", MONDAY + timedelta(minutes=4), thread="root"))
    await say(engine, command("ana", "idea Teams training for newcomers", MONDAY + timedelta(minutes=5)))
    await say(engine, command("ben", "idea A Teams etiquette page", MONDAY + timedelta(minutes=6)))
    await say(engine, command("ben", "idea status 2 done", MONDAY + timedelta(minutes=7)))
    await say(engine, message("cem", "I'll send the Teams guide by Tuesday.", MONDAY + timedelta(minutes=8)))
    await say(engine, message("dan", "I'll set up the Teams channels by Friday.", MONDAY + timedelta(minutes=9)))
    for kind, number in [("decision", 1), ("idea", 1), ("idea", 2), ("commitment", 1), ("commitment", 2)]:
        added = await say(engine, command(FRAN, f'initiative add "Digital workplace" {kind} {number}',
                                          MONDAY + timedelta(minutes=10), is_admin=True))
        assert "Added" in texts(added), texts(added)
    twice = await say(engine, command(FRAN, 'initiative add "digital workplace" idea 1',
                                      MONDAY + timedelta(minutes=11), is_admin=True))
    assert "already" in texts(twice)
    missing = await say(engine, command(FRAN, 'initiative add "Digital workplace" idea 9',
                                        MONDAY + timedelta(minutes=12), is_admin=True))
    assert "There is no idea #9" in texts(missing)
    bad = await say(engine, command(FRAN, 'initiative add "Digital workplace" plan 1', MONDAY + timedelta(minutes=13),
                                    is_admin=True))
    assert "Usage" in texts(bad)

    [card] = await say(engine, command("ana", 'initiative "Digital workplace"', at("2026-03-04 16:00")))
    shown = card.card.as_text()  # type: ignore[attr-defined]
    assert "Everyone works on Teams by June" in shown and "0 of one taken" in shown
    assert "1 proposed and 1 done" in shown and "0 done, 2 open, 1 overdue" in shown, shown
    [listed] = await say(engine, command("ana", "initiatives", at("2026-03-04 16:01")))
    assert listed.card.sections == (  # type: ignore[attr-defined]
        "• *Digital workplace*: 0 of one decision taken · ideas: 1 proposed and 1 done · "
        "commitments: 0 done, 2 open, 1 overdue",)
    closed = await say(engine, command(FRAN, 'initiative close "Digital workplace"', at("2026-03-04 16:02"),
                                       is_admin=True))
    assert "closed" in texts(closed)
    figures = await metrics.figures(engine.db, WS, Period(at("2026-03-02 00:00"), at("2026-03-09 00:00")))
    assert figures.initiatives == (), "a closed initiative leaves the digest"
    [(initiative)] = await rows(engine, T_INITIATIVE)
    assert initiative["status"] == "closed" and len(await rows(engine, T_INITIATIVE_ITEM)) == 5
    unknown = await say(engine, command("ana", "initiative Moonshot", at("2026-03-04 16:03")))
    assert "There is no initiative called Moonshot" in texts(unknown)
    await engine.db.dispose()


async def test_plain_members_may_look_at_initiatives_but_not_start_or_change_them(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    for args in ["initiative new Rollout", "initiative add Rollout idea 1", "initiative close Rollout"]:
        [refused] = await say(engine, command("mallory", args, MONDAY))
        verb = args.split()[1]
        assert isinstance(refused, PostEphemeral) and f"initiative {verb}" in refused.text
    assert await rows(engine, T_INITIATIVE) == []
    assert "no initiatives yet" in texts(await say(engine, command("mallory", "initiatives", MONDAY)))
    await engine.db.dispose()


# --- German, the transcript and the console -------------------------------------------------------------------
async def test_a_german_channel_gets_a_german_card(settings: Settings) -> None:
    engine = await community(settings, MONDAY, language="de")
    seen = Recorder(engine)
    await say(engine, command("ana", "idea Räume über einen gemeinsamen Kalender buchen", MONDAY))
    [card] = seen.of(PostMessage, f"idea:{WS}:1")
    assert "Eine neue Idee von <@ana>" in card.text  # type: ignore[attr-defined]
    assert [b.label for b in card.buttons][:2] == ["👍 Unterstützen", "Unterstützung zurückziehen"]  # type: ignore[attr-defined]
    await say(engine, click("ben", "idea_vote", "1", MONDAY + timedelta(minutes=1)))
    assert "eine Stimme" in last_card(seen).text
    await engine.db.dispose()


async def test_a_transcript_with_command_and_click_lines_replays_an_idea(settings: Settings, tmp_path: Path) -> None:
    from bot.app.replay import replay

    lines = [
        {"kind": "meta", "ts": "2026-03-02T09:00:00+01:00", "workspace": "console:replay", "timezone": "Europe/Berlin"},
        {"kind": "command", "ts": "2026-03-02T09:00:00+01:00", "channel": "general", "user": "ana",
         "text": "/steward idea A glossary of our SAP terms"},
        {"kind": "click", "ts": "2026-03-02T09:05:00+01:00", "channel": "general", "user": "ben",
         "action": "idea_vote", "message": "1"},
        {"kind": "click", "ts": "2026-03-02T09:06:00+01:00", "channel": "general", "user": "cem",
         "action": "idea_vote", "message": "#1"},
        {"kind": "command", "ts": "2026-03-02T09:10:00+01:00", "channel": "general", "user": "ana",
         "text": "idea status 1 accepted"},
    ]
    path = tmp_path / "ideas.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    result = await replay(path, settings)
    [idea] = result.report["ideas"]
    assert (idea["status"], idea["votes"], idea["text"]) == ("accepted", 2, "A glossary of our SAP terms")


async def test_the_console_proposes_an_idea_and_presses_its_buttons(settings: Settings) -> None:
    clock = SimulatedClock(MONDAY)
    engine = await build_engine(settings, clock)
    out: list[str] = []
    session = ConsoleSession(engine, clock, out.append)
    for line in ["/as ana", "/steward idea A glossary of our SAP terms", "/as ben", "/click idea_vote #1",
                 "/as ana", "/click idea_accept #1"]:
        await session.handle_line(line)
    shown = "\n".join(out)
    assert "Idea #1" in shown and "[👍 Support]" in shown
    assert "you support idea #1" in shown and "Idea #1 is now accepted" in shown
    await engine.close()
