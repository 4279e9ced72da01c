"""A lesson contradicted by a newer decision, as a pure decision: which made-up lessons a standing decision clearly
bears on (English and German), which it does not (one tool in common, an older decision, a private channel, a
decision still open), and an offer made once per author, lesson and decision. No database, no engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.changes import NudgeSent, apply_all
from bot.core.actions import SendDirectMessage
from bot.core.cocreation import AGREED, PROPOSED, DecisionRecord
from bot.core.paths import LessonText, contradiction_subject
from bot.rules import RuleContext
from bot.settings import Settings
from bot.state import CommunityState
from facilitation_rules.lesson_contradictions import MIN_SHARE, MIN_SHARED_WORDS, bears_on, offers, overlap

WS = "console:view"
CAPTURED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RECORDED = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)
STOOD = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # a Monday, 16:00 in Berlin: working hours


def decision(
    title: str,
    outcome: str,
    *,
    number: int = 2,
    status: str = AGREED,
    private: bool = False,
    recorded_at: datetime = RECORDED,
    language: str = "en",
) -> DecisionRecord:
    return DecisionRecord(
        id=number,
        workspace_id=WS,
        channel_id="general",
        thread_id="m1",
        title=title,
        question="",
        options=(),
        outcome=outcome,
        reasons=(),
        participants=("ana", "ben"),
        permalink=f"https://x/decisions/{number}",
        language=language,
        private=private,
        recorded_by="ana",
        recorded_at=recorded_at,
        status=status,
        round=0,
        consent_until=STOOD,
        card_key="card",
        agreed_at=STOOD if status == AGREED else None,
    )


def lesson(
    number: int,
    title: str,
    body: str,
    *,
    authors: tuple[str, ...] = ("kim", "sam"),
    checked_at: datetime = CAPTURED,
    private: bool = False,
) -> LessonText:
    return LessonText(
        lesson_id=number,
        title=title,
        body=body,
        link=f"https://x/lessons/{number}",
        contributors=authors,
        checked_at=checked_at,
        private=private,
    )


def context(now: datetime = STOOD) -> RuleContext:
    state = CommunityState()
    state.workspace(WS).timezone = "Europe/Berlin"
    settings = Settings(_env_file=None, database_url="sqlite://", steward_timezone="Europe/Berlin")  # type: ignore[call-arg]
    return RuleContext(now=now, settings=settings, state=state)


# English: where session recordings live
RECORDINGS = decision(
    "The Files tab in Teams, one folder per session, and links from the wiki",
    "So let's go with the Files tab in Teams, one folder per session, and links from the wiki, because that way "
    "search finds everything.",
)
IN_THE_WIKI = lesson(
    1,
    "Where do I find the slides and the recording of a training session?",
    "All slides and recordings of our training sessions are in the wiki, one page per session, with a link to the "
    "recording. Don't put them in the Files tab of the team: nobody finds them there.",
)
EXCEL_LINKS = lesson(
    2,
    "Excel links broken after the SharePoint migration",
    "Workbooks that link to other workbooks show #REF! errors. Data, Edit Links, Change Source and pick the file "
    "from the SharePoint library in Teams.",
)

# German: where the shift leaders' checklists live
CHECKLISTEN = decision(
    "Lager-Checklisten kommen in eine SharePoint-Liste",
    "Wir haben uns geeinigt: Die Checklisten für das Lager kommen in eine SharePoint-Liste, jede Schicht hakt dort ab.",
    number=3,
    language="de",
)
AUF_PAPIER = lesson(
    3,
    "Wo liegen die Checklisten für die Schichten im Lager?",
    "Die Checklisten für das Lager liegen als Ausdruck im Schichtbüro; jede Schicht hakt sie auf Papier ab und "
    "legt sie in den Ordner. Eine SharePoint-Liste gibt es dafür nicht.",
)
RAUMBUCHUNG = lesson(
    4,
    "Raumbuchung im Lager über Outlook",
    "Besprechungsräume im Lager bucht man in Outlook über den Raumfinder; das SharePoint-Formular gibt es nicht mehr.",
)


def test_a_standing_decision_bears_on_the_lesson_it_contradicts_in_english_and_german() -> None:
    assert bears_on(RECORDINGS, IN_THE_WIKI)
    assert bears_on(CHECKLISTEN, AUF_PAPIER)
    shared, share = overlap(RECORDINGS, IN_THE_WIKI)
    assert shared >= MIN_SHARED_WORDS and share >= MIN_SHARE, (shared, share)


def test_a_tool_in_common_is_not_a_topic_in_common() -> None:
    shared, _ = overlap(RECORDINGS, EXCEL_LINKS)
    assert not bears_on(RECORDINGS, EXCEL_LINKS), f"{shared} shared words (Files, Teams) are not enough"
    assert not bears_on(CHECKLISTEN, RAUMBUCHUNG), "Lager and SharePoint alone say nothing about checklists"
    assert not bears_on(RECORDINGS, AUF_PAPIER) and not bears_on(CHECKLISTEN, IN_THE_WIKI)


def test_only_a_standing_public_decision_newer_than_the_lessons_last_check_counts() -> None:
    verified_after = lesson(1, IN_THE_WIKI.title, IN_THE_WIKI.body, checked_at=RECORDED + timedelta(hours=1))
    assert not bears_on(RECORDINGS, verified_after), "its author confirmed it after the decision was taken"
    older = decision(RECORDINGS.title, RECORDINGS.outcome, recorded_at=CAPTURED - timedelta(days=1))
    assert not bears_on(older, IN_THE_WIKI), "the lesson is the newer of the two"
    assert not bears_on(decision(RECORDINGS.title, RECORDINGS.outcome, status=PROPOSED), IN_THE_WIKI), (
        "a proposal may still be objected to"
    )
    assert not bears_on(decision(RECORDINGS.title, RECORDINGS.outcome, private=True), IN_THE_WIKI), (
        "a private channel's decision is never named outside it"
    )
    hidden = lesson(1, IN_THE_WIKI.title, IN_THE_WIKI.body, private=True)
    assert not bears_on(RECORDINGS, hidden)


def test_each_author_is_offered_the_lesson_once_naming_the_decision() -> None:
    ctx = context()
    ctx.state.member(WS, "kim").language = "de"
    first = offers(RECORDINGS, [IN_THE_WIKI, EXCEL_LINKS], set(), ctx)
    sent = [a for a in first if isinstance(a, SendDirectMessage)]
    assert [(m.user, m.buttons[0].value) for m in sent] == [("kim", "1"), ("sam", "1")], "the Excel lesson is not"
    german, english = sent
    assert "Entscheidung #2 „The Files tab in Teams" in german.text and "Lektion #1" in german.text
    assert 'Decision #2 "The Files tab in Teams' in english.text and 'lesson #1 "Where do I find' in english.text
    assert "https://x/decisions/2" in english.text and "https://x/lessons/1" in english.text
    assert [b.action for b in english.buttons] == ["review_still_right", "review_needs_update", "review_retire"]
    nudges = [c for c in first if isinstance(c, NudgeSent)]
    assert {n.question_id for n in nudges} == {contradiction_subject(1, 2)}, "the durable 'offered' fact"
    apply_all(nudges, ctx.state)
    asked = {(m.user, contradiction_subject(1, 2)) for m in sent}
    assert offers(RECORDINGS, [IN_THE_WIKI], asked, ctx) == [], "never twice for the same lesson and decision"
    later = decision(RECORDINGS.title, RECORDINGS.outcome, number=5, recorded_at=STOOD)
    again = [a.user for a in offers(later, [IN_THE_WIKI], asked, ctx) if isinstance(a, SendDirectMessage)]
    assert again == ["kim", "sam"], "another decision on the same thing is news again"


def test_one_offer_per_author_at_a_time_and_within_the_etiquette() -> None:
    ctx = context()
    second = lesson(6, "Slides and recordings of training sessions", IN_THE_WIKI.body, authors=("sam",))
    sent = [
        a
        for a in offers(RECORDINGS, [IN_THE_WIKI, second], set(), ctx, busy={"kim"})
        if isinstance(a, SendDirectMessage)
    ]
    assert [(m.user, m.buttons[0].value) for m in sent] == [("sam", "1")], "kim had one; sam's second waits"
    ctx.state.member(WS, "sam").muted_until = STOOD + timedelta(days=1)
    assert [a.user for a in offers(RECORDINGS, [IN_THE_WIKI], set(), ctx) if isinstance(a, SendDirectMessage)] == [
        "kim"
    ], "a muted author is asked at a later look"
    quiet = context(datetime(2026, 3, 9, 21, 0, tzinfo=UTC))  # 22:00 in Berlin
    assert offers(RECORDINGS, [IN_THE_WIKI], set(), quiet) == [], "nobody in their quiet hours"
