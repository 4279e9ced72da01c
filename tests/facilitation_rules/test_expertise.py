"""Expert routing scenarios: a community's answer history in, ranked candidates out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from bot.app.engine import Engine
from bot.app.replay import run_due_work
from bot.core.actions import SendDirectMessage
from bot.core.events import Event
from bot.core.text.tokens import terms, words
from bot.settings import Settings
from facilitation_rules.text.expertise import ExpertiseIndex, ExpertSuggestion
from tests.support import WS, at, message
from tests.support import community as start_community

START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
_ids = count(1)


def answer(index: ExpertiseIndex, who: str, question: str, reply: str, at: datetime, **flags: bool) -> None:
    """Record one answer to a fresh question."""
    index.record_answer(
        question_id=f"q{next(_ids)}", question_text=question, answer_text=reply, answerer=who, at=at, **flags
    )


def users(suggestions: list[ExpertSuggestion]) -> list[str]:
    return [s.user for s in suggestions]


@pytest.fixture
def community() -> ExpertiseIndex:
    """A change community a few weeks into an SAP and Teams rollout, with German and English threads."""
    index = ExpertiseIndex()
    at = START
    history = [
        (
            "dana",
            "How do I request SAP access for a new team member?",
            "Open a ticket with the SAP role name.",
        ),
        (
            "dana",
            "Our SAP access request is stuck in approval, who can help?",
            "Ping the role owner in SAP GRC.",
        ),
        ("dana", "Which SAP role gives access to purchase orders?", "The buyer role covers purchase orders."),
        ("emil", "When does the Teams rollout reach the sales floor?", "Sales gets Teams in wave three."),
        (
            "emil",
            "Can we keep our old channels after the Teams rollout?",
            "Channels migrate with the rollout.",
        ),
        ("emil", "Teams meeting recordings: where are they stored?", "Recordings land in OneDrive."),
        (
            "frida",
            "Wer genehmigt Berechtigungen für das neue Ticketsystem?",
            "Die Berechtigung gibt der Teamlead.",
        ),
        ("frida", "Welche Schulungen gibt es zur neuen Berechtigung?", "Die Schulung läuft jeden Dienstag."),
        ("frida", "Wie beantrage ich eine Schulung für mein Team?", "Schulungen bucht man im Lernportal."),
    ]
    for who, question, reply in history:
        at += timedelta(hours=5)
        answer(index, who, question, reply, at, first=True)
    return index


def test_sap_question_goes_to_the_sap_helper(community: ExpertiseIndex) -> None:
    ranked = community.suggest("I still have no SAP access, what role do I need?", at=START + timedelta(days=3))
    assert ranked[0].user == "dana"
    assert {"sap", "access"} <= set(ranked[0].matched_terms)
    assert ranked[0].answers >= 2


def test_teams_question_goes_to_the_teams_helper(community: ExpertiseIndex) -> None:
    ranked = community.suggest("Is the Teams rollout delayed for our site?", at=START + timedelta(days=3))
    assert ranked[0].user == "emil"


def test_german_question_matches_other_inflections(community: ExpertiseIndex) -> None:
    ranked = community.suggest(
        "Wo finde ich die Termine der Schulungen zu Berechtigungen?", at=START + timedelta(days=3)
    )
    assert ranked[0].user == "frida"
    assert ranked[0].answers >= 2


def test_asker_is_never_suggested(community: ExpertiseIndex) -> None:
    ranked = community.suggest("Who can grant SAP access?", at=START + timedelta(days=3), exclude=["dana"])
    assert "dana" not in users(ranked)
    assert ranked, "someone else is still suggested"


def test_rotation_never_returns_excluded_people(community: ExpertiseIndex) -> None:
    question = "SAP access for the Teams rollout trainers, wer kümmert sich um Berechtigungen?"
    asked_at = START + timedelta(days=3)
    nudged: list[str] = []
    for _ in range(3):
        ranked = community.suggest(question, at=asked_at, exclude=nudged, limit=1)
        assert ranked and ranked[0].user not in nudged
        nudged.append(ranked[0].user)
    assert sorted(nudged) == ["dana", "emil", "frida"]
    assert community.suggest(question, at=asked_at, exclude=nudged) == []


def test_recent_helper_beats_one_who_moved_on() -> None:
    index = ExpertiseIndex(half_life=timedelta(days=30))
    for day in range(3):
        answer(
            index,
            "gustav",
            "How do I add a status to our Jira workflow?",
            "Edit the workflow scheme.",
            START + timedelta(days=day),
        )
    for day in range(3):
        answer(
            index,
            "hanna",
            "Jira workflow transition is missing for my board",
            "Add it in the workflow editor.",
            START + timedelta(days=200 + day),
        )
    ranked = index.suggest("Can someone review my Jira workflow change?", at=START + timedelta(days=204))
    assert users(ranked)[:2] == ["hanna", "gustav"]


def test_first_and_accepted_answers_count_more() -> None:
    index = ExpertiseIndex()
    at = START
    for who, flags in (("ines", {"first": True, "accepted": True}), ("jonas", {})):
        for _ in range(2):
            at += timedelta(hours=1)
            answer(
                index,
                who,
                "Jira board filters show old tickets",
                "Change the board filter query.",
                at,
                **flags,
            )
    at += timedelta(hours=1)
    answer(index, "ines", "Where is the expense form?", "On the intranet.", at)
    answer(index, "jonas", "Where is the travel policy?", "On the intranet.", at)
    ranked = index.suggest("Jira board filter shows wrong tickets", at=at + timedelta(hours=1))
    assert users(ranked)[:2] == ["ines", "jonas"]


def test_registered_topics_boost_a_quiet_expert(community: ExpertiseIndex) -> None:
    community.set_registered_topics("kai", ["Jira", "Workflows"])
    ranked = community.suggest("Our Jira workflows need a review step", at=START + timedelta(days=3))
    assert ranked[0].user == "kai"
    assert set(ranked[0].matched_terms) == {"jira", "workflows"}
    assert ranked[0].answers == 0


def test_registered_topics_can_be_replaced_and_removed(community: ExpertiseIndex) -> None:
    question = "Our Jira workflows need a review step"
    community.set_registered_topics("kai", ["Jira"])
    community.set_registered_topics("kai", ["Power BI"])
    assert "kai" not in users(community.suggest(question, at=START + timedelta(days=3)))
    community.set_registered_topics("kai", [])
    assert "kai" not in users(community.suggest("Power BI licence", at=START + timedelta(days=3)))


def test_unmatched_question_falls_back_to_recent_helpers(community: ExpertiseIndex) -> None:
    ranked = community.suggest("Is the canteen closed during the holidays?", at=START + timedelta(days=3))
    assert users(ranked) == ["frida", "emil", "dana"]
    assert all(s.matched_terms == () and s.answers == 0 for s in ranked)


def test_recent_activity_of_any_kind_counts_as_presence(community: ExpertiseIndex) -> None:
    community.record_activity("dana", START + timedelta(days=2), "Morning all, back from vacation")
    ranked = community.suggest("Is the canteen closed during the holidays?", at=START + timedelta(days=3))
    assert users(ranked) == ["dana", "frida", "emil"]


def test_asking_about_a_topic_is_topical_evidence(community: ExpertiseIndex) -> None:
    community.record_activity("emil", START + timedelta(days=2), "How do we share Power BI dashboards with suppliers?")
    ranked = community.suggest("Power BI dashboard refresh fails", at=START + timedelta(days=3))
    assert ranked[0].user == "emil"
    assert ranked[0].matched_terms == (), "only answered topics are named as the reason"


def test_members_who_never_answered_rank_below_helpers(community: ExpertiseIndex) -> None:
    community.record_activity("otto", START + timedelta(days=2), "Hello everyone, new here")
    ranked = community.suggest("Is the canteen closed during the holidays?", at=START + timedelta(days=3), limit=4)
    assert users(ranked)[-1] == "otto"


def test_a_long_vocabulary_keeps_its_strongest_terms() -> None:
    index = ExpertiseIndex()
    answer(index, "paul", "Where is the expense form?", "On the intranet.", START)
    for day in range(5):
        index.record_activity("rosa", START + timedelta(days=day), "Power BI licence, Power BI gateway")
    filler = " ".join(f"word{n}x" for n in range(3000))
    index.record_activity("rosa", START + timedelta(days=5), filler)
    asked_at = START + timedelta(days=7)
    assert users(index.suggest("Who knows the Power BI gateway?", at=asked_at, limit=2)) == ["rosa", "paul"]
    assert users(index.suggest("Where is the canteen?", at=asked_at, limit=2)) == ["paul", "rosa"]


def test_empty_index_and_limits() -> None:
    index = ExpertiseIndex()
    assert index.suggest("How do I get SAP access?", at=START) == []
    answer(index, "lena", "SAP access?", "Ask the role owner.", START)
    assert index.suggest("How do I get SAP access?", at=START, limit=0) == []
    assert users(index.suggest("How do I get SAP access?", at=START, limit=5)) == ["lena"]


def test_follow_up_answers_do_not_recount_the_question() -> None:
    index = ExpertiseIndex()
    question = "Teams rollout Teams rollout Teams rollout"
    for minute in range(3):
        index.record_answer(
            question_id="q1",
            question_text=question,
            answer_text="ok",
            answerer="mia",
            at=START + timedelta(minutes=minute),
        )
    answer(index, "noah", question, "ok", START + timedelta(minutes=3))
    ranked = index.suggest("Teams rollout", at=START + timedelta(minutes=4))
    assert {s.user: s.answers for s in ranked} == {"mia": 1, "noah": 1}


def test_common_terms_only_reorder_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    index = ExpertiseIndex()
    for n in range(100):  # far more people used "access" than are kept as topical candidates, but not everyone
        answer(index, f"user{n}", "Who grants access to the wiki?" if n % 4 else "Lunch?", "Ask the admins.", START)
    answer(index, "vera", "VPN access keeps dropping", "Renew the VPN access certificate.", START)
    answer(index, "walt", "VPN client crashes on login", "Reinstall the VPN client.", START)
    index.record_activity("xena", START + timedelta(hours=1), "Where do I find access logs?")
    question, asked_at = "My VPN access stopped working", START + timedelta(hours=2)
    ranked = index.suggest(question, at=asked_at, limit=3)
    monkeypatch.setattr("facilitation_rules.text.expertise._TOPICAL_CANDIDATES", 10_000)
    assert ranked == index.suggest(question, at=asked_at, limit=3), "same as scoring everyone who said 'access'"
    assert set(users(ranked)) == {"vera", "walt", "xena"}
    assert {s.user: s.matched_terms for s in ranked}["vera"] == ("vpn", "access")


async def _say(engine: Engine, event: Event) -> None:
    await run_due_work(engine, until=event.at)
    engine.clock.set(event.at)  # type: ignore[attr-defined]
    await engine.handle(event)


async def test_follow_up_questions_get_suggestions_but_no_nudges(settings: Settings) -> None:
    engine = await start_community(settings, at("2026-03-02 07:00"))
    nudged: list[str] = []
    engine.observers.append(
        lambda _e, actions, _c: nudged.extend(
            a.user for a in actions if isinstance(a, SendDirectMessage) and a.key.startswith("nudge:")
        )
    )
    await _say(
        engine, message("ida", "How do I get SAP access for the test system?", at("2026-03-02 08:00"), message_id="h")
    )
    await _say(engine, message("marc", "Request the SAP role in the portal.", at("2026-03-02 08:10"), thread="h"))
    await _say(
        engine, message("nina", "How do I get access to the test system?", at("2026-03-04 08:30"), message_id="q")
    )
    clarifying = "Do you mean SAP access for the test system or the Jira one?"
    await _say(engine, message("otto", clarifying, at("2026-03-04 08:31"), message_id="f"))
    await run_due_work(engine, until=at("2026-03-05 16:00"))
    followup = engine.state.question(WS, "f")
    assert followup is not None and followup.followup
    assert "marc" in followup.suggested_experts, "who could answer is known for every question"
    assert followup.flagged_at is None and nudged == [], "but only flagged questions reach anyone"
    await engine.db.dispose()


def test_half_life_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ExpertiseIndex(half_life=timedelta(0))


def test_tokens_strip_markup_and_stop_words() -> None:
    text = "Hi <@U123>, see https://example.org/x :tada: ```sap = 1``` the *SAP* Rollout"
    assert words(text) == ["hi", "see", "the", "sap", "rollout"]
    assert terms(text) == ["sap", "rollout"]
    assert terms("<https://wiki.example.org|Berechtigungen beantragen> bitte") == ["berecht", "beantrag"]


def test_language_is_chosen_per_text() -> None:
    assert terms("Wie bekomme ich die Schulungen für das neue System?") == ["bekomm", "schulung", "system"]
    assert terms("How do I get the trainings for the new system?") == ["train", "system"]
    assert terms("Schulungen", language="de") == ["schulung"]
