"""Scenarios for answer inference: which earlier question a chat line responds to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facilitation_rules.text.answers import ChatLine, ConversationTracker, Response

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


class Chat:
    """Feeds lines to a tracker with a running clock and remembers what each line responded to."""

    def __init__(self, channel: str = "help", tracker: ConversationTracker | None = None) -> None:
        self.tracker = tracker or ConversationTracker()
        self.channel = channel
        self.clock = START
        self.count = 0
        self.responses: dict[str, Response | None] = {}

    def say(
        self,
        user: str,
        text: str,
        *,
        after: float = 20.0,
        question: bool | None = None,
        thread: str | None = None,
        reply_to: str | None = None,
        mentions: tuple[str, ...] = (),
        bot: bool = False,
    ) -> str:
        """Post a line `after` seconds after the previous one; returns its id."""
        self.clock += timedelta(seconds=after)
        self.count += 1
        line_id = f"m{self.count}"
        line = ChatLine(
            id=line_id, channel=self.channel, user=user, text=text, at=self.clock, thread=thread,
            reply_to=reply_to, bot=bot, mentions=mentions,
        )
        is_question = "?" in text if question is None else question
        self.responses[line_id] = self.tracker.observe(line, is_question=is_question)
        return line_id

    def answered(self, line_id: str) -> str | None:
        """The question id the line was linked to, if any."""
        response = self.responses[line_id]
        return response.question_id if response else None


def test_flat_channel_with_two_interleaved_conversations() -> None:
    chat = Chat()
    q1 = chat.say("alice", "How do I export the kanban board as a PDF?")
    q2 = chat.say("bob", "Does anyone know why my calendar invites arrive twice?")
    a1 = chat.say("carol", "alice: use the print view, then save as PDF")
    a2 = chat.say("dave", "bob: you probably have the calendar connected twice, check the integrations page")
    follow = chat.say("alice", "carol: thanks, found it")
    more = chat.say("carol", "the print view also has a landscape option")
    assert chat.answered(a1) == q1
    assert chat.answered(a2) == q2
    assert chat.answered(follow) is None  # the asker's own line is never a response
    assert chat.answered(more) == q1  # carol keeps talking in her conversation with alice


def test_name_addressing_with_registered_display_name() -> None:
    chat = Chat()
    chat.tracker.register_name("U1", "Anna Schmidt")
    question = chat.say("U1", "Where do we keep the onboarding checklist?")
    chat.say("U2", "Anna, it is pinned in the team space under resources")
    assert chat.answered("m2") == question


def test_explicit_mention_links_to_the_mentioned_askers_question() -> None:
    chat = Chat()
    question = chat.say("U1", "Who owns the rollout plan for the new wiki?")
    chat.say("U7", "morning everyone", after=30)
    reply = chat.say("U2", "I think that is the platform team", mentions=("U1",), after=120)
    assert chat.answered(reply) == question


def test_at_nick_addressing() -> None:
    chat = Chat()
    question = chat.say("mira", "can someone review my migration checklist?")
    chat.say("olaf", "lunch anyone", question=False)
    reply = chat.say("jonas", "@mira sure, send me the link")
    assert chat.answered(reply) == question


def test_line_addressed_to_someone_else_belongs_to_that_conversation() -> None:
    chat = Chat()
    chat.say("alice", "Is there a template for retro notes?")
    chat.say("erik", "frank: did the import finish yesterday?", question=False)
    side = chat.say("frank", "erik: yes, all done")
    assert chat.answered(side) is None


def test_turn_taking_between_asker_and_responder() -> None:
    chat = Chat()
    question = chat.say("alice", "why does the sync job fail every night?")
    first = chat.say("bob", "alice: which version are you on?")
    chat.say("alice", "bob: 2.3, installed last week")
    second = chat.say("bob", "then try the patch release, it fixes the timeout")
    assert chat.answered(first) == question
    assert chat.answered(second) == question


def test_question_nobody_answers_stays_open() -> None:
    chat = Chat()
    chat.say("a1", "erik: are you coming to the workshop?")
    chat.say("erik", "a1: yes, after lunch")
    question = chat.say("zoe", "How can I change the default language of the survey tool?")
    replies = [
        chat.say("a1", "erik: great, see you there"),
        chat.say("erik", "a1: bring the slides"),
        chat.say("a1", "erik: will do"),
    ]
    assert question not in {chat.answered(r) for r in replies}


def test_askers_follow_ups_are_recorded_but_never_returned() -> None:
    chat = Chat()
    question = chat.say("alice", "How do I add a guest to the workspace?")
    nudge = chat.say("alice", "anyone?", after=120)
    extra = chat.say("alice", "they only need read access", question=False)
    answer = chat.say("bob", "alice: invite them as a single-channel guest")
    assert chat.answered(nudge) is None
    assert chat.answered(extra) is None
    assert chat.answered(answer) == question
    assert chat.tracker.repeats(nudge) == question


def test_thread_replies_respond_to_the_root() -> None:
    chat = Chat()
    root = chat.say("alice", "What is the naming scheme for project channels?")
    by_other = chat.say("bob", "prj- followed by the project code", thread=root)
    by_asker = chat.say("alice", "perfect, thanks", thread=root)
    assert chat.responses[by_other] == Response(root, "thread", 1.0)
    assert chat.answered(by_asker) is None


def test_explicit_reply_to_a_non_question_inside_a_conversation() -> None:
    chat = Chat()
    question = chat.say("alice", "How do I reset my dashboard layout?")
    answer = chat.say("bob", "alice: settings, then layout, then reset")
    objection = chat.say("alice", "that option is greyed out for me", reply_to=answer)
    chained = chat.say("carol", "it needs admin rights, ask your space owner", reply_to=objection)
    assert chat.answered(objection) is None
    assert chat.answered(chained) == question
    assert chat.responses[chained] == Response(question, "reply", 1.0)


def test_reply_to_a_message_outside_any_question_is_not_a_response() -> None:
    chat = Chat()
    chat.say("alice", "Can we move the demo to Friday?")
    remark = chat.say("erik", "the coffee machine is fixed", question=False, after=3600 * 13)
    reply = chat.say("frank", "finally", reply_to=remark)
    assert chat.answered(reply) is None


def test_german_conversation() -> None:
    chat = Chat(channel="hilfe")
    question = chat.say("jana", "Wie kann ich im Wiki eine Vorlage für Protokolle anlegen?")
    chat.say("timo", "paul: hast du die Folien schon verschickt?", question=False)
    chat.say("paul", "timo: ja, gestern")
    answer = chat.say("lena", "du kannst unter Einstellungen eine neue Vorlage anlegen, probier das mal")
    assert chat.answered(answer) == question


def test_late_answer_in_a_quiet_channel() -> None:
    chat = Chat(channel="quiet")
    for i in range(5):
        chat.say(f"u{i}", "good morning", question=False, after=3 * 3600)
    question = chat.say("alice", "Does the change board meet this month?", after=3600)
    late = chat.say("bob", "yes, on the 20th, the invite is in the calendar", after=3 * 3600)
    assert chat.answered(late) == question


def test_bots_never_respond() -> None:
    chat = Chat()
    chat.say("alice", "How do I join the pilot group?")
    bot_line = chat.say("helper-bot", "alice: see the pilot page", bot=True)
    assert chat.answered(bot_line) is None


def test_forgotten_question_gets_no_more_responses() -> None:
    chat = Chat()
    question = chat.say("alice", "where is the style guide?")
    chat.tracker.forget_question(question)
    answer = chat.say("bob", "alice: in the design space")
    assert chat.answered(answer) is None


def test_memory_stays_bounded() -> None:
    tracker = ConversationTracker(window=timedelta(minutes=30), max_lines_per_channel=50)
    chat = Chat(tracker=tracker)
    for i in range(3000):
        chat.say(f"u{i % 40}", f"is item {i} ready?", after=5)
    assert all(len(space.lines) <= 50 for space in tracker._spaces.values())
    assert len(tracker._lines) <= 50
    assert all(len(space.questions) <= 50 for space in tracker._spaces.values())


def busy_chat() -> Chat:
    """A channel where most lines name whom they speak to, so unaddressed lines count for little."""
    chat = Chat()
    for i in range(40):
        chat.say(f"p{i % 4}", f"p{(i + 1) % 4}: status {i} looks fine", question=False, after=10)
    return chat


def test_asker_addressing_an_earlier_unaddressed_answer_reveals_it() -> None:
    chat = busy_chat()
    question = chat.say("alice", "how do I make the backup job run every night?")
    early = chat.say("bob", "cron, see the scheduling page")
    later = chat.say("carol", "alice: use the scheduler plugin")
    turn = chat.say("alice", "bob: is that for me?")
    assert chat.answered(early) is None  # unaddressed in a channel of addressed lines: not linked yet
    assert chat.answered(later) == question
    late = chat.responses[turn]
    assert late is not None and late.question_id == question
    assert (late.line_id, late.user) == (early, "bob")
    assert late.at == chat.clock - timedelta(seconds=40)


def test_responder_addressing_the_asker_reveals_their_own_earlier_line() -> None:
    chat = busy_chat()
    question = chat.say("alice", "will the new release break the old importer?")
    early = chat.say("bob", "it should not unless the format changed")
    chat.say("p1", "p2: coffee?", question=False)
    follow = chat.say("bob", "alice: the format is the same, so it keeps working")
    response = chat.responses[follow]
    assert response is not None and response.question_id == question
    assert response.line_id == early


def test_asker_picking_up_the_words_of_the_line_before_reveals_it() -> None:
    chat = busy_chat()
    question = chat.say("alice", "how can the laptop share its wifi connection with my phone?")
    early = chat.say("bob", "through your router")
    turn = chat.say("alice", "I have no access to the router")
    response = chat.responses[turn]
    assert response is not None and (response.question_id, response.line_id) == (question, early)


def test_no_late_link_to_a_line_that_spoke_to_someone_else() -> None:
    chat = busy_chat()
    question = chat.say("alice", "how do I rotate the logs of the web server?")
    chat.say("bob", "p2: done with the migration")
    turn = chat.say("alice", "bob: any idea about the logs?")
    response = chat.responses[turn]
    assert response is None or response.question_id != question or response.line_id is None


def test_no_late_link_to_a_question_of_its_own() -> None:
    chat = busy_chat()
    chat.say("alice", "is the build server down again?")
    own = chat.say("bob", "does anyone know where the release notes live?")
    turn = chat.say("alice", "bob: in the wiki under releases")
    response = chat.responses[turn]
    assert response is None or response.line_id != own


def test_no_late_link_long_after_the_question() -> None:
    chat = busy_chat()
    chat.say("alice", "how do I clear the cache of the docs site?")
    for i in range(12):
        chat.say(f"p{i % 4}", f"p{(i + 1) % 4}: still busy {i}", question=False)
    chat.say("bob", "weather is nice today", question=False)
    turn = chat.say("alice", "bob: hi")
    assert chat.responses[turn] is None


def test_plain_responses_carry_no_late_link() -> None:
    chat = Chat()
    question = chat.say("alice", "How do I export the kanban board as a PDF?")
    answer = chat.say("carol", "alice: use the print view, then save as PDF")
    response = chat.responses[answer]
    assert response == Response(question, "inferred", 0.9)
    assert response is not None and response.line_id is None and response.user is None


def test_in_a_channel_that_answers_in_threads_a_new_question_is_a_new_topic() -> None:
    chat = Chat(channel="forum")
    q1 = chat.say("alice", "How do I rename a SharePoint site?")
    chat.say("bob", "Site settings, then title and description.", thread=q1)
    q2 = chat.say("carol", "Which SharePoint template should we use for a project site?", after=600)
    chat.say("dave", "The project template, it has the task list built in.", thread=q2)
    q3 = chat.say("erik", "Can a SharePoint site have two owners?", after=600)
    assert chat.answered(q2) is None and chat.answered(q3) is None


def test_an_answer_to_a_repeated_question_answers_the_repeat_too() -> None:
    chat = Chat()
    first = chat.say("alice", "How do I add a guest to the workspace?")
    chat.say("erik", "frank: is the demo at three?", question=False)
    again = chat.say("alice", "does anyone know how to add a guest to the workspace?", after=180)
    answer = chat.say("bob", "alice: invite them as a single-channel guest")
    response = chat.responses[answer]
    assert chat.tracker.repeats(again) == first
    assert response is not None and response.question_id == first
    assert again in response.also  # the asker asked once, in two lines: one answer answers both


def test_an_answer_to_a_repeated_german_question_answers_the_repeat_too() -> None:
    chat = Chat(channel="hilfe")
    first = chat.say("jana", "Wie lege ich im Wiki eine Vorlage für Protokolle an?")
    again = chat.say("jana", "Weiß jemand, wie man im Wiki eine Vorlage für Protokolle anlegt?", after=240)
    answer = chat.say("timo", "jana: unter Einstellungen, dann Vorlagen, dann Neu")
    response = chat.responses[answer]
    assert chat.tracker.repeats(again) == first
    assert response is not None and response.question_id == first and again in response.also


def test_a_new_question_of_the_same_asker_is_not_a_repeat() -> None:
    chat = Chat()
    chat.say("alice", "How do I add a guest to the workspace?")
    other = chat.say("alice", "and where do I change the retention policy for old channels?", after=180)
    answer = chat.say("bob", "alice: the retention policy is under admin settings")
    response = chat.responses[answer]
    assert chat.tracker.repeats(other) is None
    assert response is not None and response.question_id == other


def test_a_display_name_of_several_words_before_the_colon_addresses_that_member() -> None:
    chat = Chat()
    chat.tracker.register_name("U1", "Anna Schmidt")
    chat.tracker.register_name("U5", "Anna Weber")  # two Annas: the first name alone names the later one
    question = chat.say("U1", "Where do we keep the onboarding checklist?")
    other = chat.say("U5", "Who books the room for the retrospective?")
    answer = chat.say("U2", "Anna Schmidt: pinned in the team space under resources", after=400)
    assert chat.answered(answer) == question
    assert chat.answered(chat.say("U2", "Anna Weber: the team assistant does")) == other


def test_a_name_glued_to_its_comma_or_misspelt_by_one_letter_still_addresses() -> None:
    chat = Chat()
    question = chat.say("marianne", "Who can give me access to the change portal?")
    chat.say("tomas", "kira: the workshop moved to Friday", question=False)
    chat.say("kira", "tomas: thanks", question=False)
    glued = chat.say("jonas", "marianne,ask the service desk for the portal role", after=400)
    assert chat.answered(glued) == question
    other = chat.say("lena", "Where are the slides of the kickoff?")
    chat.say("tomas", "kira: see you then", question=False)
    misspelt = chat.say("jonas", "lana: in the shared drive, folder kickoff", after=400)
    assert chat.answered(misspelt) is None, "too short a name to guess at"
    typo = chat.say("jonas", "mariane: and say it is for the pilot", after=30)
    assert chat.answered(typo) == question
    assert other


def test_the_one_a_question_is_put_to_answers_it_not_their_earlier_exchange() -> None:
    chat = Chat()
    chat.say("tom", "nina: did the pilot survey go out?", question=True)
    chat.say("nina", "tom: yes, on Monday")
    chat.say("tom", "nina: great", question=False)
    question = chat.say("tom", "nina: where do I find the survey results?", after=120)
    answer = chat.say("nina", "tom: in the reporting folder, file results.xlsx")
    assert chat.answered(answer) == question
