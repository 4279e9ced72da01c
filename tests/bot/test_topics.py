"""Topics a person would name: noun phrases in both languages, never names, dates, verbs or filler."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.text.topics import matching, phrases, topics

ROOT = Path(__file__).resolve().parents[2]


def _benchmark() -> object:
    spec = importlib.util.spec_from_file_location("topics_benchmark", ROOT / "benchmarks" / "topics.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while the module loads
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_top_three_topics_of_the_hand_labelled_messages_are_mostly_right(language: str) -> None:
    bench = _benchmark()
    items = [i for i in bench.load() if i.language == language]  # type: ignore[attr-defined]
    found = bench.precision(items, bench.steward)  # type: ignore[attr-defined]
    anchor = bench.precision(items, bench.frequent_stems)  # type: ignore[attr-defined]
    assert found.named >= len(items)  # nearly every message gets a topic: precision is not bought by silence
    assert found.value >= 0.8
    assert found.value > anchor.value + 0.25


def test_german_verbs_adjectives_and_filler_are_not_topics() -> None:
    text = "Weiß jemand, was die alten Hasen dazu sagen? Der Betriebsrat findet das Konzept für die Schichtplanung gut."
    shown = [p.text for p in phrases(text)]
    assert "Betriebsrat" in shown and "Schichtplanung" in shown and "Konzept" in shown
    assert not {"sagen", "findet", "alten", "weiß", "jemand"} & {s.lower() for s in shown}


def test_members_names_days_and_months_are_never_topics() -> None:
    texts = [
        "Lunch in Hamburg on Friday? Anna and Ben are coming, bring the budget spreadsheet",
        "Anna, can you send the budget spreadsheet before Monday?",
        "Treffen wir uns im März? Ben bringt die Budgetplanung mit",
    ]
    named = topics(texts, limit=10, names=["Anna Kowalski", "Ben"])
    assert "budget spreadsheet" in named
    lowered = {t.lower() for t in named}
    assert not lowered & {"anna", "ben", "friday", "monday", "märz", "hamburg"}


def test_product_names_and_acronyms_stand_alone_but_first_names_do_not() -> None:
    shown = [p.text for p in phrases("Sarah asked whether OneDrive and SAP are down again")]
    assert "OneDrive" in shown and "SAP" in shown
    assert "Sarah" not in shown


def test_phrases_are_ranked_by_how_many_texts_share_them_then_alphabetically() -> None:
    texts = ["How do I book the meeting room?", "Is the meeting room free?", "Where is the projector?",
             "The canteen menu changed"]
    assert topics(texts, limit=3) == ["meeting room", "canteen menu", "projector"]
    assert topics(texts, limit=3, min_texts=2) == ["meeting room"]


def test_a_match_is_explained_with_the_phrase_that_holds_the_matched_word_in_any_inflection() -> None:
    question = "Wie lege ich Berechtigungen für den Teams-Kanal vom Betriebsrat an?"
    assert matching(question, ["betriebsrat", "berechtigung"]) == ["Betriebsrat", "Berechtigung"]
    assert matching(question, ["urlaub"]) == []


def test_topics_do_not_depend_on_the_process_hash_seed() -> None:
    script = (
        "from bot.core.text.topics import topics\n"
        "texts = ['Vorlage für die Stakeholder-Analyse?', 'Workshop mit der Geschäftsführung', "
        "'the SharePoint site for the change network', 'Stakeholder-Analyse und Workshop', 'SharePoint site access']\n"
        "print(topics(texts, limit=6))\n"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT,
                       env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1 and "Stakeholder-Analyse" in outputs.pop()


def test_english_keeps_a_capital_that_marks_a_name_and_drops_one_that_opens_a_sentence() -> None:
    shown = [p.text for p in phrases("Folders vanish when I archive the Teams channel. Contracts too.")]
    assert shown[:1] == ["Teams channel"]
    assert "folder" in shown and "contract" in shown


def test_a_thread_s_structure_words_and_idioms_are_not_topics() -> None:
    text = "Step 1: open the sync settings. Step 2: pick the finance library. On top of that, check the quota."
    shown = {p.text for p in phrases(text)}
    assert {"sync settings", "finance library", "quota"} <= shown
    assert not shown & {"step", "Step", "top"}
