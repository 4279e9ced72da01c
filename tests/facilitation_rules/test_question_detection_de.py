"""German question syntax without "?": each rule in `questions_de` with hand-written positives and negatives.

Transcribed speech and hurried chat drop the question mark, so these pin down the word-order cues the
German rules rely on, and the look-alike statements (topic drop, imperatives, self-reports) they must skip.
"""

from __future__ import annotations

import pytest

from facilitation_rules.text.questions import classify_question, is_question


def _de(text: str) -> bool:
    return is_question(text, "de")


@pytest.mark.parametrize(
    "text",
    [
        "der Go-live ist erst im April, ne",
        "der Newsletter ging gestern raus ne",
        "du bist beim Townhall auch dabei gell",
        "das neue Intranet startet am Montag gelle",
    ],
)
def test_tag_particles_after_a_clause_ask_for_confirmation(text: str) -> None:
    verdict = classify_question(text, "de")
    assert verdict.is_question and verdict.reason == "tag-question"


@pytest.mark.parametrize(
    "text",
    [
        "ich schick dir das Protokoll nachher, ne",  # the speaker announces their own action
        "dann melde ich mich morgen noch mal ne",
        "Danke euch, bis morgen gell",  # farewell, no finite verb
        "tagsüber am liebsten ne",  # fragment without a verb
        "ne",
    ],
)
def test_tag_particles_after_self_reports_or_fragments_are_not_questions(text: str) -> None:
    assert not _de(text)


@pytest.mark.parametrize(
    "text",
    [
        "Um wie viel Uhr startet das Change-Training",
        "mit wem kläre ich die Budgetfreigabe",
        "an welchen Tagen ist die Sprechstunde",
        "bei wem muss ich mich für den Pilot melden",
        "für wie lange ist der Workshopraum gebucht",
        "am wievielten ist das Führungskräfte-Offsite",  # contracted preposition, ordinal w-word
        "den wievielten haben wir heute",
    ],
)
def test_w_phrases_after_a_preposition_are_questions(text: str) -> None:
    assert _de(text)


@pytest.mark.parametrize(
    "text",
    [
        "mit wem ich das klären muss, weiß ich noch nicht",  # subordinate: pronoun right after the w-word
        "wie wir im Call besprochen haben, startet der Pilot im Mai",
        "nach wie vor gilt die alte Reiserichtlinie",  # idiom "nach wie vor" = "still"
    ],
)
def test_subordinate_or_verbless_w_phrases_are_not_questions(text: str) -> None:
    assert not _de(text)


@pytest.mark.parametrize(
    "text",
    [
        "und dann wann treffen wir uns mit dem Betriebsrat",
        "gut und wo sammeln wir die Rückmeldungen",
    ],
)
def test_w_word_before_a_plural_verb_and_its_subject_mid_utterance(text: str) -> None:
    assert _de(text)


@pytest.mark.parametrize(
    "text",
    [
        "Okay, das passt so. Und haben Sie schon eine Rückmeldung vom Betriebsrat",
        "das ja also haben Sie da schon einen Vorschlag für die Agenda",
        "passt soweit und hast du die Teilnehmerliste schon verschickt",
    ],
)
def test_verb_first_restart_addressed_to_the_listener(text: str) -> None:
    assert _de(text)


@pytest.mark.parametrize(
    "text",
    [
        "er hat die Mail gelesen und hat sie an das Team weitergeleitet",  # 3rd person singular, no agreement
        "wir haben die Flyer gedruckt und haben sie im Foyer verteilt",  # lower-case "sie" = "they"
        "das stimmt und kann ich so bestätigen",  # first person: topic drop
    ],
)
def test_coordinated_clauses_with_topic_drop_are_not_restarts(text: str) -> None:
    assert not _de(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("haben wir sonst noch Themen für die Retro", True),
        ("müssen wir irgendwas für das Audit vorbereiten", True),
        ("sollen wir das am Freitag machen", False),  # proposal without "?"
        ("müssen wir noch etwas warten, bis die Lizenzen da sind", False),  # "etwas" = "a bit"
        ("haben wir mit dem Rollout gut hingekriegt", False),  # topic drop: "(das) haben wir ..."
    ],
)
def test_wir_verb_first_needs_an_open_indefinite_to_ask(text: str, expected: bool) -> None:
    assert _de(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "Schauen Sie mal ins Wiki, da steht alles",
        "Nehmen Sie bitte an der Umfrage teil",
        "kommt ihr doch einfach nach dem Call vorbei",
        "lassen Sie uns das im Jour fixe besprechen",
        "Lasst uns die Retro auf Donnerstag legen",
    ],
)
def test_imperatives_are_not_questions(text: str) -> None:
    assert not _de(text)


@pytest.mark.parametrize(
    "text",
    [
        "kommen Sie auch zum Townhall",  # same shape as an imperative, but no softener
        "haben Sie mal kurz Zeit für eine Abstimmung",  # "mal" after a modal/auxiliary is still a question
        "können Sie bitte kurz auf die Folien schauen",
        "wär das für dich ok, wenn wir den Call verschieben",  # colloquial "wär" is still a finite verb
    ],
)
def test_verb_first_questions_with_sie_stay_questions(text: str) -> None:
    assert _de(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("machen Sie mal einen Vorschlag für den Workshop-Termin", True),
        ("macht gerne Vorschläge für den Namen des Champion-Netzwerks", True),
        ("Schlagen Sie doch einen Termin für das Review vor", True),
        ("mach ich gleich morgen früh", False),  # topic drop, not an imperative
        ("ich mache Ihnen einen Vorschlag: wir starten im Mai", False),
        ("machen Sie es gut", False),
    ],
)
def test_asking_someone_for_a_proposal(text: str, expected: bool) -> None:
    assert _de(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("die Präsentation könnte ich dann von dir bekommen", True),
        ("die Teilnehmerliste kann ich von Ihnen haben", True),
        ("die Folien kann ich dir gern schicken", False),  # an offer
        ("die Unterlagen habe ich von ihr bekommen", False),
    ],
)
def test_fronted_object_request_to_get_something_from_the_listener(text: str, expected: bool) -> None:
    assert _de(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "hab ich schon gemacht",
        "geht leider nicht, bin im Urlaub",
        "weiß ich nicht mehr genau",
        "wär schön, wenn das klappt",
        "Sie haben recht, das Formular ist veraltet",
        "wie wäre es mit Dienstag",  # suggestion: a request for action
        "Wie wäre es, wenn wir die Schulung aufzeichnen?",
    ],
)
def test_statements_and_suggestions_stay_negative(text: str) -> None:
    assert not _de(text)


def test_german_chat_the_rules_never_saw_is_read_well_without_question_marks() -> None:
    """A hand-labelled set of community chat lines (tests/data/questions_de_chat.jsonl), mostly lower-case and
    without "?", written after the rules: yes/no and w-questions against requests, imperatives and statements."""
    import json
    from pathlib import Path

    rows = [json.loads(line) for line in
            (Path(__file__).parents[1] / "data" / "questions_de_chat.jsonl").read_text(encoding="utf-8").splitlines()]
    predicted = [classify_question(row["text"], "de").is_question for row in rows]
    tp = sum(p and row["question"] for p, row in zip(predicted, rows, strict=True))
    precision, recall = tp / sum(predicted), tp / sum(row["question"] for row in rows)
    assert 2 * precision * recall / (precision + recall) >= 0.85
