"""Scenarios: a conversation in, what Steward decides out, on a simulated clock (Berlin time zone)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.app.engine import Engine
from bot.app.replay import run_due_work
from bot.core.actions import Action, PostMessage, SendDirectMessage
from bot.core.events import Event, InteractionClicked
from bot.settings import Settings
from tests.support import WS, at, command, community, message, reaction


class Recorder:
    def __init__(self, engine: Engine) -> None:
        self.actions: list[tuple[datetime, Action]] = []
        engine.observers.append(lambda event, actions, ctx: self.actions.extend((event.at, a) for a in actions))

    def of(self, kind: type) -> list[Action]:
        return [a for _, a in self.actions if isinstance(a, kind)]

    def when(self, predicate) -> list[datetime]:  # type: ignore[no-untyped-def]
        return [t for t, a in self.actions if predicate(a)]


async def say(engine: Engine, event: Event) -> Sequence[Action]:
    await run_due_work(engine, until=event.at)
    engine.clock.set(event.at)  # type: ignore[attr-defined]
    return await engine.handle(event)


async def wait_until(engine: Engine, moment: datetime) -> None:
    await run_due_work(engine, until=moment)
    engine.clock.set(moment)  # type: ignore[attr-defined]
    await engine.flush()


async def expert_history(engine: Engine, expert: str, topic_question: str, answer: str, day: str) -> None:
    """The expert answered a similar question before, so routing learns about them."""
    qid, aid = f"old-{expert}-{day}", f"ans-{expert}-{day}"
    await say(engine, message("someone", topic_question, at(f"{day} 08:00"), message_id=qid))
    await say(engine, message(expert, answer, at(f"{day} 08:10"), thread=qid, message_id=aid))


async def test_no_flag_over_the_weekend(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-06 14:00"))
    seen = Recorder(engine)
    # Friday 16:00 Berlin (15:00 UTC): one working hour left on Friday, three more on Monday from 09:00.
    await say(engine, message("tom", "How do I export a Jira board to Excel?", at("2026-03-06 15:00"), message_id="q"))
    await wait_until(engine, at("2026-03-09 10:59"))
    assert seen.of(PostMessage) == []
    await wait_until(engine, at("2026-03-09 11:01"))
    flags = [a for a in seen.of(PostMessage) if getattr(a, "thread", None) == "q"]
    assert len(flags) == 1
    assert seen.when(lambda a: getattr(a, "thread", None) == "q") == [at("2026-03-09 11:00")]
    assert [b.action for b in flags[0].buttons] == ["claim", "solved", "not_a_question"]  # type: ignore[attr-defined]
    await engine.db.dispose()


async def test_a_thread_reply_answers_however_late_it_comes(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-06 14:00"))
    seen = Recorder(engine)
    await say(engine, message("tom", "How do I export a Jira board to Excel?", at("2026-03-06 15:00"), message_id="q"))
    # The next morning, after the channel has moved on, someone answers in the thread.
    await say(engine, message("anna", "Good morning, all", at("2026-03-07 09:00")))
    await say(engine, message("ben", "Board menu, then Export to CSV", at("2026-03-07 10:00"), thread="q"))
    await wait_until(engine, at("2026-03-09 16:00"))
    question = engine.state.question(WS, "q")
    assert question is not None and question.status == "answered" and question.first_responder_id == "ben"
    assert seen.of(PostMessage) == []  # neither flagged on Monday nor escalated
    await engine.db.dispose()


async def test_a_thread_reply_that_arrives_before_its_question_answers_it(settings: Settings) -> None:
    """Events can arrive out of order (a platform's retry, an event handed over between processes): the replies
    already in a question's thread answer it when the question itself comes in, the earliest one first."""
    engine = await community(settings, at("2026-03-06 14:00"))
    seen = Recorder(engine)
    await say(engine, message("ben", "Board menu, then Export to CSV", at("2026-03-06 15:01"), thread="q",
                              message_id="r2"))
    await say(engine, message("tom", "Thanks, and the filter too?", at("2026-03-06 15:02"), thread="q"))
    await say(engine, message("eva", "Or Export in the board's menu", at("2026-03-06 15:00:30"), thread="q",
                              message_id="r1"))
    engine.clock.set(at("2026-03-06 15:03"))  # type: ignore[attr-defined]
    await engine.handle(message("tom", "How do I export a Jira board to Excel?", at("2026-03-06 15:00"),
                                message_id="q"))
    await wait_until(engine, at("2026-03-09 16:00"))
    question = engine.state.question(WS, "q")
    assert question is not None and question.status == "answered"
    assert (question.first_response_id, question.first_responder_id) == ("r1", "eva")
    assert question.responders == ["eva", "ben"]  # the asker's own line answers nothing
    assert engine.state.expertise_index(WS).answered("eva") and engine.state.expertise_index(WS).answered("ben")
    assert seen.of(PostMessage) == []
    assert seen.of(SendDirectMessage) == []  # nor is the asker offered help while waiting
    await engine.db.dispose()


async def test_a_question_with_only_its_askers_lines_before_it_is_still_waiting(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-06 14:00"))
    seen = Recorder(engine)
    await say(engine, message("tom", "It is the board for Q2", at("2026-03-06 15:01"), thread="q"))
    await engine.handle(message("tom", "How do I export a Jira board to Excel?", at("2026-03-06 15:00"),
                                message_id="q"))
    await wait_until(engine, at("2026-03-09 16:00"))
    question = engine.state.question(WS, "q")
    assert question is not None and question.first_response_id is None
    assert [a for a in seen.of(PostMessage) if getattr(a, "thread", None) == "q"], "flagged: nobody answered"
    await engine.db.dispose()


async def test_experts_are_nudged_once_with_a_reason_but_not_when_muted(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 07:00"))
    seen = Recorder(engine)
    await expert_history(
        engine,
        "marc",
        "How do I get SAP access for the test system?",
        "Request the SAP role through the access portal.",
        "2026-03-02",
    )
    await expert_history(
        engine,
        "lukas",
        "Who approves SAP access requests?",
        "Your manager approves SAP access in the portal.",
        "2026-03-03",
    )
    await say(engine, command("lukas", "mute 3", at("2026-03-04 08:00")))
    await say(
        engine,
        message("nina", "Anyone know how long SAP access requests take?", at("2026-03-04 08:30"), message_id="q"),
    )
    await wait_until(engine, at("2026-03-04 16:00"))
    dms = [d for d in seen.of(SendDirectMessage) if d.key.startswith("nudge:")]  # type: ignore[attr-defined]
    assert [d.user for d in dms] == ["marc"]  # type: ignore[attr-defined]
    assert "because you answered" in dms[0].text and "sap" in dms[0].text.lower()  # type: ignore[attr-defined]
    question = engine.state.question(WS, "q")
    assert question is not None and question.nudged_experts == ["marc"]
    assert "marc" in question.suggested_experts
    await wait_until(engine, at("2026-03-05 16:00"))
    to_marc = [d for d in seen.of(SendDirectMessage) if d.user == "marc"]  # type: ignore[attr-defined]
    assert len(to_marc) == 1, "the same nudge is never sent twice"
    to_nina = [d for d in seen.of(SendDirectMessage) if d.user == "nina"]  # type: ignore[attr-defined]
    assert len(to_nina) == 1 and "waiting" in to_nina[0].text, "the asker, still waiting, is offered help once"  # type: ignore[attr-defined]
    await engine.db.dispose()


async def test_a_spent_nudge_budget_and_quiet_hours_in_the_experts_time_zone_are_respected(
    settings: Settings,
) -> None:
    engine = await community(settings.model_copy(update={"nudges_per_day": 1}), at("2026-03-02 07:00"))
    seen = Recorder(engine)
    await expert_history(
        engine,
        "marc",
        "How do I get SAP access for the test system?",
        "Request the SAP role through the access portal.",
        "2026-03-02",
    )
    await expert_history(
        engine, "ines", "Where is the SAP access form?", "The SAP access form is in the portal.", "2026-03-02"
    )
    engine.state.member(WS, "ines").timezone = "America/New_York"  # 08:30 UTC is 03:30 for her
    await say(
        engine, message("nina", "How do I get SAP access for an intern?", at("2026-03-03 08:00"), message_id="q1")
    )
    await say(
        engine,
        message(
            "tom",
            "Can I reuse my SAP access request from last year?",
            at("2026-03-03 08:05"),
            channel="finance",
            message_id="q2",
        ),
    )
    await wait_until(engine, at("2026-03-03 13:30"))
    dms = [d for d in seen.of(SendDirectMessage) if d.user in {"marc", "ines"}]  # type: ignore[attr-defined]
    assert [d.user for d in dms] == ["marc"], "ines sleeps, and marc's daily budget is spent after one"  # type: ignore[attr-defined]
    await engine.db.dispose()


async def test_a_stuck_member_is_helped_once(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 08:00"))
    seen = Recorder(engine)
    await say(engine, message("katrin", "I'm stuck on the Jira board setup for HR.", at("2026-03-02 09:00")))
    await say(engine, message("katrin", "Still stuck with the board, blocked on permissions.", at("2026-03-02 10:00")))
    dms = [d for d in seen.of(SendDirectMessage) if d.user == "katrin"]  # type: ignore[attr-defined]
    assert len(dms) == 1
    assert "stuck" in dms[0].text and [b.action for b in dms[0].buttons] == ["call_facilitator"]  # type: ignore[attr-defined]
    await engine.db.dispose()


async def test_not_a_question_is_stored_and_never_flagged(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 08:00"))
    seen = Recorder(engine)
    await say(
        engine,
        message("tom", "Who else thinks Mondays should be meeting-free?", at("2026-03-02 09:00"), message_id="q"),
    )
    await say(
        engine,
        InteractionClicked(
            workspace=WS, at=at("2026-03-02 09:05"), channel="help", user="anna", action="not_a_question", value="q",
            is_admin=True,  # a facilitator (or the asker): nobody else may dismiss a colleague's question
        ),
    )
    await wait_until(engine, at("2026-03-03 16:00"))
    question = engine.state.question(WS, "q")
    assert question is not None and question.status == "not_a_question" and question.not_a_question_by == "anna"
    assert seen.of(PostMessage) == []
    await engine.db.dispose()


async def test_a_german_thread_is_answered_and_resolved_by_thanks(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 08:00"), language="de")
    await say(
        engine,
        message(
            "lea",
            "Weiß jemand, wie ich in Teams einen Gastzugang beantrage?",
            at("2026-03-02 09:00"),
            channel="wandel",
            message_id="q",
        ),
    )
    await say(
        engine,
        message(
            "sabine",
            "Über das Self-Service-Portal, Kategorie Zusammenarbeit.",
            at("2026-03-02 09:12"),
            channel="wandel",
            thread="q",
        ),
    )
    await say(engine, message("lea", "Danke, hat geklappt!", at("2026-03-02 09:40"), channel="wandel", thread="q"))
    question = engine.state.question(WS, "q")
    assert question is not None and question.language == "de"
    assert question.first_response_at == at("2026-03-02 09:12") and question.answered_how == "thread"
    assert question.resolved_how == "thanks"
    await engine.db.dispose()


async def test_a_flat_channel_with_two_interleaved_conversations(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 08:00"))
    t = at("2026-03-02 09:00")
    steps = [
        message("nina", "How do I share a Teams channel with an external supplier?", t, message_id="q1"),
        message("tom", "Where can I find the SAP training slides?", t + timedelta(minutes=1), message_id="q2"),
        message(
            "priya",
            "@tom the SAP slides are on the training page under materials",
            t + timedelta(minutes=2),
            message_id="a2",
        ),
        message(
            "lukas",
            "nina: create a shared channel and invite the supplier as a guest",
            t + timedelta(minutes=3),
            message_id="a1",
        ),
        message("tom", "thanks priya, found them", t + timedelta(minutes=4), message_id="t2"),
    ]
    for step in steps:
        await say(engine, step)
    q1, q2 = engine.state.question(WS, "q1"), engine.state.question(WS, "q2")
    assert q1 is not None and q1.first_response_id == "a1"
    assert q2 is not None and q2.first_response_id == "a2" and q2.resolved_how == "thanks"
    await engine.db.dispose()


async def test_asker_resolves_with_a_reaction_and_commands_answer_privately(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 08:00"))
    await say(
        engine, message("nina", "How do I book a room for the change workshop?", at("2026-03-02 09:00"), message_id="q")
    )
    await say(
        engine, message("anna", "Use the room finder in Outlook.", at("2026-03-02 09:03"), thread="q", message_id="a")
    )
    await say(engine, reaction("nina", "a", "white_check_mark", at("2026-03-02 09:10")))
    question = engine.state.question(WS, "q")
    assert question is not None and question.resolved_how == "reaction"
    replies = await say(engine, command("nina", "frobnicate", at("2026-03-02 09:20")))
    assert "frobnicate" in replies[0].text and all(r.type == "post_ephemeral" for r in replies)  # type: ignore[attr-defined]
    replies = await say(engine, command("nina", "expert add SAP access, Jira", at("2026-03-02 09:21")))
    assert "jira, sap access" in replies[0].text.lower()  # type: ignore[attr-defined]
    await engine.db.dispose()


async def test_only_facilitators_change_settings_and_they_take_effect(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 08:00"))
    [refused] = await say(engine, command("tom", "settings answer_time 8", at("2026-03-02 08:01")))
    assert "facilitators only" in refused.text  # type: ignore[attr-defined]
    [saved] = await say(engine, command("anna", "settings answer_time 8", at("2026-03-02 08:02"), is_admin=True))
    assert "answer_time = 8" in saved.text  # type: ignore[attr-defined]
    [bad] = await say(engine, command("anna", "settings answer_time soon", at("2026-03-02 08:03"), is_admin=True))
    assert "Usage" in bad.text  # type: ignore[attr-defined]
    [german] = await say(engine, command("anna", "settings language de", at("2026-03-02 08:03"), is_admin=True))
    assert "language = de" in german.text  # type: ignore[attr-defined]
    [shown] = await say(engine, command("anna", "settings", at("2026-03-02 08:03"), is_admin=True))
    assert "language: de" in shown.text  # type: ignore[attr-defined]
    [wrong] = await say(engine, command("anna", "settings language klingon", at("2026-03-02 08:03"), is_admin=True))
    assert "Usage" in wrong.text  # type: ignore[attr-defined]
    await say(engine, command("anna", "settings language en", at("2026-03-02 08:03"), is_admin=True))
    await say(engine, command("anna", "facilitator add <@jonas>", at("2026-03-02 08:04"), is_admin=True))
    [unwatched] = await say(engine, command("jonas", "unwatch", at("2026-03-02 08:05"), channel="random"))
    assert "stopped" in unwatched.text  # type: ignore[attr-defined]

    seen = Recorder(engine)
    await say(engine, message("nina", "How do I find the Jira onboarding guide?", at("2026-03-02 08:10"),
                              message_id="q"))
    await say(engine, message("nina", "How do I find the random channel rules?", at("2026-03-02 08:10"),
                              channel="random", message_id="r"))
    assert engine.state.question(WS, "r") is None, "unwatched channels are not facilitated"
    await wait_until(engine, at("2026-03-02 13:00"))  # 4 working hours passed, 8 have not
    assert [a for a in seen.of(PostMessage) if getattr(a, "thread", None) == "q"] == []
    await wait_until(engine, at("2026-03-03 09:30"))
    assert len([a for a in seen.of(PostMessage) if getattr(a, "thread", None) == "q"]) == 1
    await engine.db.dispose()


async def test_an_answer_never_confirmed_gets_one_question_to_the_asker(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 07:00"))
    seen = Recorder(engine)
    await say(engine, message("tom", "How do I share a Planner board?", at("2026-03-02 08:00"), message_id="q"))
    await say(engine, message("ben", "Use the Share button, top right", at("2026-03-02 08:30"), thread="q"))
    # Eight working hours after the first answer (Berlin, 09:00-17:00): Tuesday 09:30 local, 08:30 UTC.
    await wait_until(engine, at("2026-03-03 08:29"))
    assert seen.of(SendDirectMessage) == []
    await wait_until(engine, at("2026-03-03 08:31"))
    [ask] = seen.of(SendDirectMessage)
    assert ask.user == "tom" and "got an answer" in ask.text and "Did it help?" in ask.text  # type: ignore[attr-defined]
    assert [(b.action, b.value) for b in ask.buttons] == [("solved", "q"), ("call_facilitator", "q")]  # type: ignore[attr-defined]
    await say(
        engine,
        InteractionClicked(workspace=WS, at=at("2026-03-03 09:00"), channel="", user="tom", action="solved", value="q"),
    )
    question = engine.state.question(WS, "q")
    assert question is not None and question.status == "resolved" and question.resolved_how == "button"
    await wait_until(engine, at("2026-03-06 16:00"))
    assert len(seen.of(SendDirectMessage)) == 1, "asked once"
    await engine.db.dispose()


async def test_a_thanked_or_sleeping_asker_is_not_asked_now(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 07:00"))
    seen = Recorder(engine)
    await say(engine, message("tom", "How do I share a Planner board?", at("2026-03-02 08:00"), message_id="q1"))
    await say(engine, message("ben", "Use the Share button, top right", at("2026-03-02 08:30"), thread="q1"))
    await say(engine, message("tom", "Thanks, that worked!", at("2026-03-02 08:40"), thread="q1"))
    engine.state.member(WS, "ida").timezone = "America/Los_Angeles"  # Tuesday 09:00 UTC is 01:00 for her
    await say(engine, message("ida", "Where do I find the travel policy?", at("2026-03-02 08:45"), message_id="q2"))
    await say(engine, message("ben", "On the HR wiki, under Policies", at("2026-03-02 09:00"), thread="q2"))
    await wait_until(engine, at("2026-03-04 16:00"))
    asks = seen.of(SendDirectMessage)
    assert [a.user for a in asks] == ["ida"], "tom said thanks: his question is resolved"  # type: ignore[attr-defined]
    sent_at = seen.when(lambda a: isinstance(a, SendDirectMessage))[0]
    assert 8 <= sent_at.astimezone(ZoneInfo("America/Los_Angeles")).hour < 20, "asked outside her quiet hours"
    await engine.db.dispose()


async def test_an_asker_is_asked_at_most_once_a_week_and_never_about_inferred_answers(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 07:00"))
    seen = Recorder(engine)
    await say(engine, message("tom", "How do I share a Planner board?", at("2026-03-02 08:00"), message_id="q1"))
    await say(engine, message("ben", "Use the Share button, top right", at("2026-03-02 08:30"), thread="q1"))
    await say(engine, message("tom", "Where is the travel policy?", at("2026-03-02 09:00"), message_id="q2"))
    await say(engine, message("ben", "On the HR wiki, under Policies", at("2026-03-02 09:10"), thread="q2"))
    # In a flat channel the answer is only inferred: no question about it.
    await say(
        engine, message("ida", "Which room is the retro?", at("2026-03-02 10:00"), channel="general", message_id="q3")
    )
    await say(engine, message("ben", "ida: room 4.12, same as last time", at("2026-03-02 10:01"), channel="general"))
    await wait_until(engine, at("2026-03-06 16:00"))
    asks = seen.of(SendDirectMessage)
    assert [(a.user, a.key) for a in asks] == [("tom", "confirm:q1")]  # type: ignore[attr-defined]
    question = engine.state.question(WS, "q2")
    assert question is not None and question.status == "answered", "q2 stays open, just not asked about"
    inferred = engine.state.question(WS, "q3")
    assert inferred is not None and inferred.answered_how == "inferred"
    await engine.db.dispose()


def test_a_reply_kept_for_its_question_goes_when_its_author_asks_to_be_forgotten() -> None:
    from bot.changes import MemberForgotten
    from bot.state import CommunityState, MessageInfo

    state = CommunityState()
    for message_id, user in (("r1", "eva"), ("r2", "ben")):
        state.remember_message(WS, message_id, MessageInfo("help", user, "q", at("2026-03-02 08:01")), "Export it")
    assert [early.text for early in state.replies_before_root(WS, "q")] == ["Export it", "Export it"]
    MemberForgotten(WS, "eva").apply(state)
    assert [early.message_id for early in state.replies_before_root(WS, "q")] == ["r2"]
    MemberForgotten(WS, "ben").apply(state)
    assert state.replies_before_root(WS, "q") == []
