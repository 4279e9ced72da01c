"""Rules on their own: a view of the community in memory, one event, and the decision. No database, no engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app.perception import perceive
from bot.changes import AskedIn, Change, NewQuestion, NudgeSent, Set, apply_all
from bot.core.actions import PostEphemeral, PostMessage, SendDirectMessage
from bot.core.events import (
    Answer,
    CommandInvoked,
    Event,
    MessagePosted,
    MessageUnderstood,
    QuestionsFlagged,
    TimePassed,
)
from bot.core.markup import mentions
from bot.rules import Decision, LessonHit, RuleBase, RuleContext
from bot.settings import Settings
from bot.state import CommunityState, QuestionState
from facilitation_rules.confirm import AnswerConfirmation
from facilitation_rules.digest import PublishDigest, WeeklyDigest
from facilitation_rules.etiquette import MuteCommands, nudge_refusal
from facilitation_rules.experts import ExpertRouting
from facilitation_rules.lessons import CaptureLesson, LessonCapture
from facilitation_rules.questions import QuestionLifecycle
from facilitation_rules.stuck import HelpStuckMember, StuckMembers
from facilitation_rules.unanswered import UnansweredQuestions

WS = "console:view"
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


def view() -> CommunityState:
    state = CommunityState()
    workspace = state.workspace(WS)
    workspace.timezone = "Europe/Berlin"
    return state


def context(state: CommunityState, now: datetime) -> RuleContext:
    settings = Settings(_env_file=None, database_url="sqlite://", steward_timezone="Europe/Berlin")  # type: ignore[call-arg]
    return RuleContext(now=now, settings=settings, state=state)


def decide(rule: RuleBase, event: Event, ctx: RuleContext) -> Decision:
    """The rule's decision: a plain call (a rule awaits nothing), after the text models read the message."""
    if isinstance(event, MessagePosted):
        ctx.perception = perceive(event, ctx)
    return rule.handle(event, ctx)


def carried_out(decision: Decision, state: CommunityState) -> list[object]:
    """Apply the decision's changes to the view as the engine does; the rest (actions, facts, errands)."""
    apply_all([item for item in decision if isinstance(item, Change)], state)
    return [item for item in decision if not isinstance(item, Change)]


def posted(user: str, text: str, at: datetime, mid: str, thread: str | None = None) -> MessagePosted:
    return MessagePosted(workspace=WS, at=at, channel="help", message_id=mid, user=user, user_name=user, text=text,
                         thread=thread, mentions=mentions(text))


def asked(state: CommunityState, qid: str = "q", asker: str = "nina", at: datetime = MONDAY) -> QuestionState:
    question = QuestionState(workspace_id=WS, id=qid, channel_id="help", asker_id=asker, asked_at=at,
                             text="How long do SAP access requests take?")
    NewQuestion(question).apply(state)
    return question


def answered(state: CommunityState, question: QuestionState, mid: str, at: datetime, how: str = "thread") -> None:
    Set.question(question, status="answered", first_response_id=mid, first_response_at=at, answered_how=how).apply(
        state
    )


def test_a_question_is_recognised_answered_in_its_thread_and_not_reopened_by_a_redelivery() -> None:
    state, rule = view(), QuestionLifecycle()
    state.channel(WS, "help")
    question_event = posted("nina", "How long do SAP access requests take?", MONDAY, "q")
    decision = decide(rule, question_event, context(state, MONDAY))
    [new, asked_in, understood] = decision
    assert isinstance(new, NewQuestion) and new.question.id == "q" and new.question.asker_id == "nina"
    assert asked_in == AskedIn(WS, "help", "en"), "the channel's language is tallied"
    assert understood == MessageUnderstood(workspace=WS, at=MONDAY, message=question_event, question_id="q")
    assert state.question(WS, "q") is None, "the rule changes nothing itself"
    carried_out(decision, state)
    question = state.question(WS, "q")
    assert question is not None and question.status == "asked"

    later = MONDAY + timedelta(minutes=10)
    reply = posted("marc", "About two days.", later, "a", thread="q")
    decision = decide(rule, reply, context(state, later))
    assert Set.question(question, responders=["marc"], first_response_id="a", first_responder_id="marc",
                        first_response_at=later, answered_how="thread", status="answered") in decision
    [understood] = carried_out(decision, state)
    assert understood.answer == Answer("q", "marc", "a", later, "thread", first=True)  # type: ignore[attr-defined]
    assert question.status == "answered" and question.first_responder_id == "marc"

    carried_out(decide(rule, question_event, context(state, later)), state)
    assert state.question(WS, "q") is question and question.status == "answered"


def test_a_question_unanswered_past_the_answer_time_is_flagged_once() -> None:
    state, rule = view(), UnansweredQuestions()
    question = asked(state)
    early = context(state, MONDAY + timedelta(hours=3))
    carried_out(rule.seed(early), state)
    assert rule.next_due(early) == MONDAY + timedelta(hours=4)
    assert decide(rule, TimePassed(workspace="", at=early.now), early) == []

    due = context(state, MONDAY + timedelta(hours=4))
    [flag, told] = carried_out(decide(rule, TimePassed(workspace="", at=due.now), due), state)
    assert isinstance(flag, PostMessage) and flag.key == "flag:q" and flag.thread == "q"
    assert "hasn't had an answer for 4 working hours" in flag.text
    assert told == QuestionsFlagged(workspace=WS, at=due.now, question_ids=("q",)), "the other rules hear of it"
    assert question.status == "flagged" and question.flagged_at == due.now
    escalation = due.now + timedelta(hours=due.settings.escalation_hours)  # within Monday's working hours
    assert rule.next_due(due) == escalation, "the next step: escalation"
    assert decide(rule, TimePassed(workspace="", at=due.now), due) == []


def test_a_flag_and_an_escalation_say_how_long_in_german() -> None:
    state, rule = view(), UnansweredQuestions()
    state.workspace(WS).language = "de"
    state.channel(WS, "help").settings = {"answer_time_hours": 1}
    question = asked(state)  # Monday 09:00 in Berlin
    question.language = "de"
    carried_out(rule.seed(context(state, MONDAY)), state)
    due = context(state, MONDAY + timedelta(hours=1))
    [flag, _] = carried_out(decide(rule, TimePassed(workspace="", at=due.now), due), state)
    assert isinstance(flag, PostMessage) and "hat seit 1 Arbeitsstunde keine Antwort" in flag.text
    later = context(state, rule.next_due(due) or MONDAY)
    [escalation] = carried_out(decide(rule, TimePassed(workspace="", at=later.now), later), state)
    assert isinstance(escalation, PostMessage) and question.status == "escalated"
    assert "in <#help> wartet schon 5 Stunden auf eine Antwort" in escalation.text


def test_a_mute_says_until_when_in_the_members_time_and_language() -> None:
    state, rule = view(), MuteCommands()
    member = state.member(WS, "ines")
    member.language, member.timezone = "de", "America/New_York"
    command = CommandInvoked(workspace=WS, at=MONDAY, channel="help", user="ines", args="mute 2")
    [_, reply] = rule.mute(command, ["2"], context(state, MONDAY))
    assert isinstance(reply, PostEphemeral) and "Bis 4. März 2026, 03:00 schicke ich dir keine" in reply.text
    state.member(WS, "ben")  # no time zone of his own: the community's (Berlin)
    command = CommandInvoked(workspace=WS, at=MONDAY, channel="help", user="ben", args="mute 12h")
    [_, reply] = rule.mute(command, ["12h"], context(state, MONDAY))
    assert isinstance(reply, PostEphemeral) and "I won't nudge you until Mar 2, 2026, 21:00." in reply.text


def test_an_answered_question_is_never_flagged() -> None:
    state, rule = view(), UnansweredQuestions()
    question = asked(state)
    answered(state, question, "a", MONDAY + timedelta(minutes=5))
    ctx = context(state, MONDAY + timedelta(days=2))
    carried_out(rule.seed(ctx), state)
    assert carried_out(decide(rule, TimePassed(workspace="", at=ctx.now), ctx), state) == []
    assert question.status == "answered"


def test_an_expert_is_nudged_with_a_reason_unless_muted() -> None:
    state, rule = view(), ExpertRouting()
    question = asked(state)
    index = state.expertise_index(WS)
    index.record_answer(question_id="old", question_text="How do I get SAP access?", answer_text="Request the SAP role",
                        answerer="marc", at=MONDAY - timedelta(days=1), first=True)
    state.member(WS, "marc")
    ctx = context(state, MONDAY + timedelta(hours=4))
    decision = decide(rule, QuestionsFlagged(workspace=WS, at=ctx.now, question_ids=("q",)), ctx)
    sent = [c for c in decision if isinstance(c, NudgeSent)]
    assert [(n.member, n.kind, n.question_id) for n in sent] == [("marc", "expert", "q")], "counted and stored"
    [nudge] = carried_out(decision, state)
    assert isinstance(nudge, SendDirectMessage) and nudge.user == "marc" and nudge.key == "nudge:q:marc"
    assert "sap" in nudge.text.lower() and question.nudged_experts == ["marc"]
    assert state.member(WS, "marc").nudges_sent == [ctx.now]

    other = asked(state, "q2", asker="ida")
    Set.member(WS, "marc", muted_until=ctx.now + timedelta(days=3)).apply(state)
    assert rule.nudge_experts(other, ctx) == []


def test_a_spent_budget_refuses_a_nudge() -> None:
    state = view()
    member = state.member(WS, "marc")
    ctx = context(state, MONDAY + timedelta(hours=2))
    assert nudge_refusal(member, ctx) is None
    member.nudges_sent = [MONDAY + timedelta(hours=1)] * ctx.settings.nudges_per_day
    assert nudge_refusal(member, ctx) == "daily budget spent"


def test_an_asker_asked_already_is_not_asked_again() -> None:
    state, rule = view(), AnswerConfirmation()
    question = asked(state, asker="tom")
    answered(state, question, "a", MONDAY + timedelta(minutes=30))
    ctx = context(state, MONDAY + timedelta(days=1))
    decision = rule.ask(question, ctx)
    assert Set.question(question, confirm_asked_at=ctx.now) in decision
    [ask] = carried_out(decision, state)
    assert isinstance(ask, SendDirectMessage) and ask.user == "tom" and question.confirm_asked_at == ctx.now
    assert rule.ask(question, ctx) == [], "the question says it was asked"

    second = asked(state, "q2", asker="tom")
    answered(state, second, "b", MONDAY + timedelta(hours=2))
    assert rule.ask(second, context(state, MONDAY + timedelta(days=2))) == [], "at most once a week"


def test_a_due_digest_is_an_errand_for_the_shell_with_its_period() -> None:
    state, rule = view(), WeeklyDigest(enabled=True)
    state.channel(WS, "help").last_activity_at = MONDAY - timedelta(days=1)
    week = timedelta(days=7)
    # Seen first on Sunday: the occurrence it waits for is the latest one (posted late, once: the shell claims it).
    sunday = context(state, MONDAY - timedelta(days=1))
    [late] = carried_out(decide(rule, TimePassed(workspace="", at=sunday.now), sunday), state)
    assert isinstance(late, PublishDigest) and late.period.end == MONDAY - week
    assert rule.next_due(sunday) == MONDAY, "then the schedule: Monday 09:00 in Berlin"
    assert decide(rule, TimePassed(workspace="", at=sunday.now), sunday) == []
    due = context(state, MONDAY)
    [errand] = carried_out(decide(rule, TimePassed(workspace="", at=due.now), due), state)
    assert isinstance(errand, PublishDigest) and errand.channel == "help" and errand.workspace == WS
    assert (errand.period.start, errand.period.end) == (MONDAY - week, MONDAY)
    assert decide(rule, TimePassed(workspace="", at=due.now), due) == [], "one period, one errand"


def test_a_lesson_command_in_a_thread_leaves_the_capture_to_the_shell() -> None:
    state, rule = view(), LessonCapture(enabled=True)
    asked(state)
    run = CommandInvoked(workspace=WS, at=MONDAY, channel="help", user="tom", args="lesson SAP access", thread="q")
    [errand] = rule.lesson_command(run, ["SAP", "access"], context(state, MONDAY))
    assert errand == CaptureLesson(workspace=WS, channel="help", root="q", title="SAP access", command=run)
    [refused] = rule.lesson_command(run, ["delete", "3"], context(state, MONDAY))
    assert isinstance(refused, PostEphemeral) and "facilitator" in refused.text.lower()


def test_the_stuck_dm_is_complete_without_the_knowledge_store() -> None:
    state, rule = view(), StuckMembers()
    question = asked(state)
    state.member(WS, "nina")
    ctx = context(state, MONDAY + timedelta(hours=1))
    [sent, errand] = rule.help_member(WS, "nina", ctx, question, "said", cause="m")
    assert isinstance(sent, NudgeSent) and sent.kind == "stuck" and sent.member == "nina"
    assert isinstance(errand, HelpStuckMember) and errand.topic == question.text
    [dm] = errand.unserved(ctx)
    assert isinstance(dm, SendDirectMessage) and dm.user == "nina" and dm.buttons[0].action == "call_facilitator"
    hit = LessonHit(id="7", title="SAP access in three steps", link="https://wiki/7")
    assert "SAP access in three steps" in errand.message([hit]).text
