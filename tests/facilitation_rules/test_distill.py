"""Offline distillation of threads into lessons, and masking of private data before any LLM call."""

from __future__ import annotations

from bot.core.lessons import ThreadMessage
from facilitation_rules.text.distill import distill, mask_private, sentences


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


def test_the_problem_is_the_askers_and_the_steps_keep_their_own_section() -> None:
    lesson = distill(VPN)
    assert lesson.summary == "Since the laptop swap the VPN client refuses to connect from home. Does anyone know why?"
    assert lesson.steps == ("Step 1: uninstall the old VPN client, the new laptops need version 5.",
                            "Then install it from https://portal.example.org/vpn and sign in again.")
    assert "uninstall" not in lesson.solution and "lunch" not in lesson.solution + " ".join(lesson.tips)
    assert lesson.title == "Since the laptop swap the VPN client refuses to connect from home"


def test_steps_links_tags_and_contributors() -> None:
    lesson = distill(VPN)
    assert lesson.steps[0].startswith("Step 1: uninstall")
    assert lesson.links == ("https://portal.example.org/vpn",)
    assert lesson.tags[:2] == ("VPN client", "laptop")  # the question's topics, as people name them
    assert lesson.contributors[0] == "ben" and "dana" in lesson.contributors and "erik" not in lesson.contributors


def test_german_thread_and_a_given_title() -> None:
    lesson = distill(GERMAN, title="SAP-Zugang fürs Testsystem")
    assert lesson.title == "SAP-Zugang fürs Testsystem"
    assert lesson.summary == "Wie beantrage ich SAP-Berechtigungen für das Testsystem?"
    assert "Ticket" in lesson.solution and lesson.steps == ()  # one instruction is what worked, not a list
    assert lesson.contributors == ("jan", "mia") and "SAP-Berechtigungen" in lesson.tags


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


# --- the card's sections: problem, what worked, steps in order, tips apart -------------------------------------
WORKS_COUNCIL_FILES = thread(
    ("lena", "Good morning! Since the move to Teams our works council channel shows no Files tab, and the minutes "
             "from the old SharePoint site are missing. How do we get them back?", 0),
    ("omar", "Step 2: open the channel, click + in the tab bar and add the SharePoint document library as a tab.", 1),
    ("omar", "Step 1: ask IT to grant the council members read access to the old site.", 0),
    ("pia", "Tip: pin the minutes folder in the channel so new members find it right away.", 2),
    ("omar", "Step 3: check the tab with one member who is not an owner.", 0),
    ("lena", "Thanks Omar, that worked, everyone sees the minutes again!", 0),
)

BETRIEBSRAT = thread(
    ("jana", "Moin zusammen! Der Betriebsrat möchte seine Protokolle in einem eigenen Teams-Kanal ablegen, aber "
             "niemand sonst soll sie sehen. Wie richten wir das ein?", 0),
    ("kai", "Schritt 2: Im neuen Kanal auf „Dateien“ gehen und den Ordner Protokolle anlegen.", 1),
    ("kai", "Schritt 1: Einen privaten Kanal erstellen und nur die Mitglieder des Betriebsrats hinzufügen.", 2),
    ("lea", "Hinweis: Private Kanäle bekommen eine eigene SharePoint-Website, Links aus dem Hauptkanal gehen dort "
            "nicht.", 1),
    ("kai", "Schritt 3: Die Berechtigungen mit einem Mitglied prüfen, das kein Besitzer ist.", 0),
    ("mats", "Übrigens: achte darauf, dass die Aufbewahrungsrichtlinie auch für private Kanäle gilt.", 0),
    ("jana", "Hat geklappt, danke euch!", 0),
)


def test_the_problem_holds_no_answer_and_no_step_text() -> None:
    for lesson, step_word in ((distill(WORKS_COUNCIL_FILES), "Step"), (distill(BETRIEBSRAT), "Schritt")):
        assert step_word not in lesson.summary
        assert not any(step in lesson.summary for step in lesson.steps)
        assert lesson.solution not in lesson.summary or not lesson.solution
    assert distill(WORKS_COUNCIL_FILES).summary.startswith("Since the move to Teams our works council channel")
    assert distill(BETRIEBSRAT).summary.startswith("Der Betriebsrat möchte seine Protokolle")


def test_numbered_steps_come_out_in_their_order_though_posted_out_of_order() -> None:
    assert [step[:6] for step in distill(WORKS_COUNCIL_FILES).steps] == ["Step 1", "Step 2", "Step 3"]
    assert [step[:10] for step in distill(BETRIEBSRAT).steps] == ["Schritt 1:", "Schritt 2:", "Schritt 3:"]


def test_list_numbers_order_and_an_unnumbered_line_stays_with_its_step() -> None:
    lesson = distill(thread(
        ("ana", "How do we move the change champions list from Excel to a SharePoint list?", 0),
        ("ben", "2. Open the new list and choose Import from Excel.\nThen map the columns Name and Team.", 0),
        ("ben", "1. Create an empty list in the champions site.", 0),
        ("ana", "Worked, thanks!", 0),
    ))
    assert lesson.steps == ("1. Create an empty list in the champions site.",
                            "2. Open the new list and choose Import from Excel.", "Then map the columns Name and Team.")


def test_tips_are_kept_apart_from_the_steps() -> None:
    english, german = distill(WORKS_COUNCIL_FILES), distill(BETRIEBSRAT)
    assert english.tips == ("Tip: pin the minutes folder in the channel so new members find it right away.",)
    assert german.tips == (
        "Hinweis: Private Kanäle bekommen eine eigene SharePoint-Website, Links aus dem Hauptkanal gehen dort nicht.",
        "Übrigens: achte darauf, dass die Aufbewahrungsrichtlinie auch für private Kanäle gilt.",
    )
    for lesson in (english, german):
        assert not set(lesson.tips) & set(lesson.steps) and len(lesson.steps) == 3
    assert {"pia"} <= set(english.contributors) and {"lea", "mats"} <= set(german.contributors)


def test_what_worked_prefers_the_answer_the_asker_confirmed() -> None:
    english = distill(thread(
        ("lena", "Our works council wants to share its minutes with external guests in Teams, but guests cannot "
                 "open the SharePoint folder. What do we need to change?", 0),
        ("rafael", "Guests can never open SharePoint folders in Teams, the works council needs a separate extranet "
                   "site for its minutes.", 5),
        ("lena", "An extranet site is too much for us though.", 0),
        ("sara", "Sharing with existing guests was switched off for that SharePoint site, and once the site owner "
                 "allowed it the folder opened for guests.", 0),
        ("lena", "That was it, the guests can open the minutes now. Thanks!", 0),
    ))
    assert english.solution.startswith("Sharing with existing guests was switched off")
    assert "extranet" not in english.solution and english.steps == () and english.tips == ()
    german = distill(thread(
        ("jana", "Unsere Change Agents sehen im Intranet die neue Teams-Schulung nicht. Woran liegt das?", 0),
        ("kai", "Die Schulung ist im Intranet nur für die Pilotgruppe freigeschaltet, das ist so gewollt.", 4),
        ("jana", "Die Change Agents sind aber in der Pilotgruppe.", 0),
        ("lea", "Die Gruppe wird nur nachts mit dem Intranet abgeglichen, seit heute Morgen sehen sie die "
                "Schulung.", 0),
        ("jana", "Stimmt, jetzt ist sie da, danke!", 0),
    ))
    assert german.solution.startswith("Die Gruppe wird nur nachts") and "Pilotgruppe" not in german.solution


def test_a_thread_without_steps_gives_no_steps() -> None:
    lesson = distill(thread(
        ("ben", "Is the works council allowed to see the Teams usage reports for our department?", 0),
        ("carla", "Only aggregated reports without names, that is what the works agreement on Microsoft 365 says.", 2),
        ("ben", "Thanks, that settles it.", 0),
    ))
    assert lesson.steps == () and lesson.tips == ()
    assert lesson.solution.startswith("Only aggregated reports without names")


def test_sentences_keep_abbreviations_list_numbers_and_german_ordinals_together() -> None:
    text = ("Rename the folders (e.g. \"2024-MA\"). Die Umstellung kommt am 2. März, z. B. für Teams.\n"
            "1. Open the site.\nWe need version 5. Then it works.")
    assert sentences(text) == ["Rename the folders (e.g. \"2024-MA\").",
                               "Die Umstellung kommt am 2. März, z. B. für Teams.",
                               "1. Open the site.", "We need version 5.", "Then it works."]
