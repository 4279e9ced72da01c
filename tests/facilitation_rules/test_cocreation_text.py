"""Reading decisions and commitments from chat, in English and German: pure functions, no engine."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.lessons import ThreadMessage
from facilitation_rules.text.commitments import due_in, find_commitment
from facilitation_rules.text.decisions import decision_cue, distill_decision
from facilitation_rules.text.due import Calendar, find_due, normalize
from facilitation_rules.working_time import WorkingHours

BERLIN = ZoneInfo("Europe/Berlin")
CALENDAR = Calendar("Europe/Berlin")
WEDNESDAY = datetime(2026, 3, 4, 10, 0, tzinfo=BERLIN)  # 10:00 on Wednesday, 4 March 2026


def local(moment: datetime | None) -> str | None:
    return moment.astimezone(BERLIN).strftime("%a %d %H:%M") if moment is not None else None


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("by Friday", "Fri 06 17:00"),
        ("bis Freitag", "Fri 06 17:00"),
        ("on Wednesday morning", "Wed 04 12:00"),  # today, before the morning is over
        ("tomorrow", "Thu 05 17:00"),
        ("morgen früh", "Thu 05 12:00"),
        ("bis übermorgen", "Fri 06 17:00"),
        ("by next Friday", "Fri 13 17:00"),  # next week's Friday
        ("bis nächsten Freitag", "Fri 13 17:00"),
        ("before Friday", "Fri 06 09:00"),
        ("vor Freitag", "Fri 06 09:00"),
        ("by Friday 3pm", "Fri 06 15:00"),
        ("3pm on Friday", "Fri 06 15:00"),
        ("bis Freitag um 15 Uhr", "Fri 06 15:00"),
        ("bis Freitagmittag", "Fri 06 12:00"),
        ("bis 15 Uhr", "Wed 04 15:00"),
        ("by EOD", "Wed 04 17:00"),
        ("bis Ende der Woche", "Fri 06 17:00"),
        ("by the end of next week", "Fri 13 17:00"),
        ("in zwei Tagen", "Fri 06 17:00"),
        ("by March 14th", "Sat 14 17:00"),
        ("bis zum 14.3.", "Sat 14 17:00"),
        ("bis 12.03.2026", "Thu 12 17:00"),
        ("by 2026-03-20", "Fri 20 17:00"),
        ("by the 14th", "Sat 14 17:00"),
        ("bis zum Wochenende", "Fri 06 17:00"),
        ("heute Abend", "Wed 04 20:00"),
        # No day, no time: no due.
        ("next week", None),
        ("soon", None),
        ("at the weekend", None),
        ("Version 1.5.", None),
        ("Friday's meeting", None),
        ("Guten Morgen", None),
        ("Feierabend, bis morgen!", None),
        ("by 3/4", None),  # March 4th or April 3rd: nobody can tell
    ],
)
def test_due_times_in_english_and_german(text: str, due: str | None) -> None:
    found = find_due(normalize(text), WEDNESDAY, CALENDAR)
    assert local(found.at if found else None) == due


def test_a_weekday_today_after_working_hours_is_next_weeks_and_the_time_zone_is_the_members() -> None:
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=BERLIN)
    assert local(find_due(normalize("by Friday"), friday_evening, CALENDAR).at) == "Fri 13 17:00"  # type: ignore[union-attr]
    new_york = Calendar("America/New_York")
    found = find_due(normalize("by Friday"), WEDNESDAY, new_york)
    assert found is not None and found.at.astimezone(ZoneInfo("America/New_York")).hour == 17
    assert found.at == datetime(2026, 3, 6, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("I'll send the updated rollout plan by Friday.", "Fri 06 17:00"),
        ("Ich kümmere mich bis Freitag um die Raumbuchung.", "Fri 06 17:00"),
        ("Bis Freitag schicke ich euch die Folien.", "Fri 06 17:00"),
        ("Mache ich bis morgen!", "Thu 05 17:00"),
        ("I'll have the draft ready by Thursday noon.", "Thu 05 12:00"),
        ("Die Liste schicke ich dir, sobald ich sie habe, spätestens bis Freitag.", "Fri 06 17:00"),
        ("Tomorrow, I'll send it.", "Thu 05 17:00"),
        ("Ich melde mich bis Montag bei dir.", "Mon 09 17:00"),
    ],
)
def test_clear_first_person_promises_with_a_due_time_are_commitments(text: str, due: str) -> None:
    found = find_commitment(text, WEDNESDAY, CALENDAR)
    assert found is not None and local(found.due) == due


@pytest.mark.parametrize(
    "text",
    [
        "I'll send the slides soon.",  # no due time
        "Could you send me the slides by Friday?",  # a request
        "Kannst du mir bis morgen die Liste schicken?",
        "Anna will send the invites by Tuesday.",  # not the speaker
        "Sabine schickt die Einladung bis Donnerstag.",
        "I'll try to get the numbers by Monday.",  # a hedge
        "Ich schaue mir das vielleicht morgen an.",
        "Ich hoffe, ich schaffe das bis Montag.",
        "I won't manage it by Friday.",  # a negation
        "Ich schaffe das leider nicht bis Mittwoch.",
        "I'll be out of office on Friday.",  # where one will be, not what one will do
        "Ich bin bis Freitag im Urlaub.",
        "I'll join the workshop on Friday.",
        "Ich mache jetzt Feierabend, bis morgen!",
        "Ich brauche die Unterlagen bis Donnerstag.",  # a need, not a promise
        "I sent the report on Friday.",
        "Good idea. I'll ask her after the migration, depends on how tomorrow night goes.",
        "> I'll send it by Friday\nThanks, looking forward to it!",  # someone else's words, quoted
    ],
)
def test_anything_less_than_a_clear_promise_is_no_commitment(text: str) -> None:
    assert find_commitment(text, WEDNESDAY, CALENDAR) is None


def test_a_commands_due_time_may_be_a_bare_day() -> None:
    found = due_in("send the slides Friday", WEDNESDAY, CALENDAR)
    assert found is not None and local(found.at) == "Fri 06 17:00" and found.phrase == "friday"


@pytest.mark.parametrize(
    ("text", "decided"),
    [
        ("OK, let's go with Teams for the kickoff.", True),
        ("We decided to use the wiki template.", True),
        ("So it's settled: we open #sap-keyusers today.", True),
        ("Dann machen wir das so!", True),
        ("Beschlossen: wir starten am Montag.", True),
        ("Wir haben uns auf Variante B geeinigt, weil sie günstiger ist.", True),
        ("Abgemacht!", True),
        ("Have we decided yet?", False),  # a question
        ("We haven't decided anything.", False),  # a negation
        ("Noch nicht entschieden, wir haben nichts beschlossen.", False),
        ("Once we decide, I'll tell you.", False),  # a condition
        ("Wenn wir beschließen, die Schulung zu verschieben, sagt es Sabine.", False),
        ("Die Geschäftsführung hat beschlossen, dass wir umziehen.", False),  # somebody else's decision
        ("Management decided to postpone it.", False),
        ("As we agreed last week, the templates live in the wiki.", False),  # an earlier agreement recalled
        ("Let's go with the flow.", False),
    ],
)
def test_decision_language_in_english_and_german(text: str, decided: bool) -> None:
    assert (decision_cue(text) is not None) is decided


def test_a_thread_is_distilled_into_question_options_outcome_and_reasons_with_their_authors() -> None:
    thread = [
        ThreadMessage("1", "ana", "Where should we hold the kickoff workshop: Teams or the big room?", 0),
        ThreadMessage("2", "ben", "We could do it in the big room, people like meeting in person.", 1),
        ThreadMessage("3", "cem", "Or we go fully on Teams, because half the team is remote.", 2),
        ThreadMessage("4", "bot", "A reminder from Steward.", 3, bot=True),
        ThreadMessage("5", "ana", "Good point. Let's go with Teams then, so everyone can join.", 4),
    ]
    draft = distill_decision(thread)
    assert draft.question == "Where should we hold the kickoff workshop: Teams or the big room?"
    assert draft.options == (
        "We could do it in the big room, people like meeting in person.",
        "Or we go fully on Teams, because half the team is remote.",
    )
    assert draft.outcome == "Let's go with Teams then, so everyone can join."
    assert draft.title == "Let's go with Teams"
    assert draft.reasons == ("So everyone can join",)
    assert draft.participants == ("ana", "ben", "cem")
    assert draft.option_authors == ("ben", "cem") and draft.outcome_author == "ana"
    titled = distill_decision(thread, title="Kickoff on Teams", recorded_by="fran")
    assert titled.title == "Kickoff on Teams" and titled.title_author == "fran"


def test_working_hours_count_backwards_over_nights_and_weekends() -> None:
    hours = WorkingHours("Europe/Berlin")
    monday_ten = datetime(2026, 3, 9, 10, 0, tzinfo=BERLIN)
    assert hours.subtract(monday_ten, 2) == datetime(2026, 3, 6, 16, 0, tzinfo=BERLIN)  # Friday afternoon
    friday_five = datetime(2026, 3, 6, 17, 0, tzinfo=BERLIN)
    assert hours.subtract(friday_five, 2) == datetime(2026, 3, 6, 15, 0, tzinfo=BERLIN)
    assert hours.add(hours.subtract(friday_five, 11), 11) == friday_five
