"""Offline distillation of threads into lessons, and masking of private data before any LLM call."""

from __future__ import annotations

from bot.core.lessons import ThreadMessage
from facilitation_rules.text.distill import distill, mask_private


def thread(*messages: tuple[str, str, int]) -> list[ThreadMessage]:
    return [ThreadMessage(id=f"m{i}", author=a, text=t, position=i, reactions=r)
            for i, (a, t, r) in enumerate(messages)]


VPN = thread(
    ("ben", "Hi all! Since the laptop swap the VPN client refuses to connect from home. Does anyone know why?", 0),
    ("carla", "Which client version do you have?", 0),
    ("ben", "The old one from the image, I think.", 0),
    ("dana", "Step 1: uninstall the old VPN client, the new laptops need version 5. "
             "Then install it from https://portal.example.org/vpn and sign in again.", 3),
    ("erik", "Nice weather today by the way, anyone up for lunch later today?", 0),
    ("ben", "That worked, the VPN connects again. Thanks Dana!", 1),
)

GERMAN = thread(
    ("jan", "Moin! Wie beantrage ich SAP-Berechtigungen für das Testsystem?", 0),
    ("mia", "Zuerst ein Ticket mit der Vorlage SAP-Zugang anlegen, dann genehmigt die Führungskraft den Antrag.", 2),
    ("jan", "Hat geklappt, danke!", 0),
)


def test_problem_and_what_worked_make_the_summary() -> None:
    lesson = distill(VPN)
    assert lesson.summary.startswith("Since the laptop swap the VPN client refuses to connect from home")
    assert "uninstall the old VPN client" in lesson.summary
    assert "lunch" not in lesson.summary and "Which client version" not in lesson.summary
    assert lesson.title == "Since the laptop swap the VPN client refuses to connect from home"


def test_steps_links_tags_and_contributors() -> None:
    lesson = distill(VPN)
    assert any(step.startswith("Step 1: uninstall") for step in lesson.steps)
    assert lesson.links == ("https://portal.example.org/vpn",)
    assert "vpn" in lesson.tags and "client" in lesson.tags
    assert lesson.contributors[0] == "ben" and "dana" in lesson.contributors and "erik" not in lesson.contributors


def test_german_thread_and_a_given_title() -> None:
    lesson = distill(GERMAN, title="SAP-Zugang fürs Testsystem")
    assert lesson.title == "SAP-Zugang fürs Testsystem"
    assert "Ticket" in lesson.summary and lesson.summary.startswith("Wie beantrage ich SAP-Berechtigungen")
    assert lesson.contributors == ("jan", "mia") and "sap" in lesson.tags


def test_purged_texts_and_empty_threads() -> None:
    purged = [ThreadMessage(id="m0", author="a", text=None, position=0)]
    assert distill(purged).summary == "" and distill([]).title == ""
    only_question = thread(("ben", "How do I book a meeting room for twelve people?", 0))
    assert distill(only_question).summary == "How do I book a meeting room for twelve people?"


def test_long_titles_are_cut_at_a_word() -> None:
    long = thread(("ben", "The " + "very " * 30 + "long problem?", 0))
    title = distill(long).title
    assert len(title) <= 80 and title.endswith("…") and " ver…" not in title


def test_masking_contact_data_and_secrets() -> None:
    text = ("Mail anna.becker@example.org or call +49 30 1234 5678 / 0171-2345678. "
            "Bot token xoxb-1111-2222-abcdefABCDEF, key sk-proj-abcdefghijklmnopqrstuvwx, "
            "link https://example.org/x?token=abc123def, hash a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8")
    masked = mask_private(text)
    for secret in ("anna.becker", "1234 5678", "2345678", "xoxb-", "sk-proj", "abc123def", "a1b2c3d4e5f6"):
        assert secret not in masked
    assert masked.count("[email]") == 1 and masked.count("[phone]") >= 1 and "[token]" in masked


def test_masking_keeps_dates_versions_and_plain_words() -> None:
    text = "Version 5.2.1 ships on 2026-03-04 at 10:30 for 120 users; see ticket 4711 and SharePoint."
    assert mask_private(text) == text
