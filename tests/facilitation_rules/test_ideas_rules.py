"""The idea and initiative rules on their own: a view of the community in memory, one event or command, and the
decision (errands for the shell, private replies); the cards and lines they render. No database, no engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.actions import PostEphemeral
from bot.core.events import CommandInvoked, InteractionClicked, MessagePosted, ReactionAdded, ReactionRemoved
from bot.core.ideas import (
    ACCEPTED,
    DECLINED,
    DONE,
    IN_PROGRESS,
    PROPOSED,
    IdeaRecord,
    InitiativeProgress,
    InitiativeRecord,
    next_statuses,
)
from bot.rules import RuleContext
from bot.settings import Settings
from bot.state import CommunityState, MessageInfo
from facilitation_rules.ideas import (
    CountIdeaComments,
    Ideas,
    ListIdeas,
    MoveIdea,
    ProposeIdea,
    SupportIdea,
    card_update,
    idea_buttons,
    posted,
)
from facilitation_rules.initiatives import (
    AddToInitiative,
    CreateInitiative,
    Initiatives,
    ListInitiatives,
    ShowInitiative,
    progress_line,
)

WS = "console:view"
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def context(state: CommunityState | None = None) -> RuleContext:
    settings = Settings(_env_file=None, database_url="sqlite://", steward_timezone="Europe/Berlin",  # type: ignore[call-arg]
                        facilitators="fran")
    state = state or CommunityState()
    state.workspace(WS).timezone = "Europe/Berlin"
    return RuleContext(now=MONDAY, settings=settings, state=state)


def run(rule: Ideas | Initiatives, user: str, args: str, ctx: RuleContext) -> list[object]:
    event = CommandInvoked(workspace=WS, at=MONDAY, channel="help", user=user, args=args)
    name, *rest = args.split(" ")
    return list(rule.commands()[name].handler(event, [w for w in rest if w], ctx))


def an_idea(**changes: object) -> IdeaRecord:
    values: dict[str, object] = dict(
        id=7, workspace_id=WS, channel_id="help", text="Book rooms through a <!channel> shared calendar",
        author_id="ana", created_at=MONDAY, status=PROPOSED, card_key=f"idea:{WS}:7", revision=3,
        voters=("ben", "cem"), comments=1,
    )
    values.update(changes)
    return IdeaRecord(**values)  # type: ignore[arg-type]


def test_an_idea_moves_only_forward_and_may_be_declined_while_it_is_open() -> None:
    assert next_statuses(PROPOSED) == (ACCEPTED, IN_PROGRESS, DONE, DECLINED)
    assert next_statuses(ACCEPTED) == (IN_PROGRESS, DONE, DECLINED)
    assert next_statuses(IN_PROGRESS) == (DONE, DECLINED)
    assert next_statuses(DONE) == () and next_statuses(DECLINED) == ()


def test_idea_commands_become_errands_and_bad_input_gets_its_usage_line() -> None:
    rule, ctx = Ideas(enabled=True), context()
    [propose] = run(rule, "ana", "idea Book rooms   through a shared calendar", ctx)
    assert isinstance(propose, ProposeIdea) and propose.text == "Book rooms through a shared calendar"
    [move] = run(rule, "ana", "idea status #7 in-progress", ctx)
    assert isinstance(move, MoveIdea) and (move.idea, move.status, move.reason) == ("7", IN_PROGRESS, "")
    [decline] = run(rule, "ana", "idea status 7 abgelehnt zu teuer", ctx)
    assert isinstance(decline, MoveIdea) and (decline.status, decline.reason) == (DECLINED, "zu teuer")
    [listed] = run(rule, "ben", "ideas rooms calendar", ctx)
    assert isinstance(listed, ListIdeas) and listed.words == ("rooms", "calendar")
    for bad in ["idea", "idea status", "idea status seven accepted", "idea status 7 maybe", "idea ok"]:
        [reply] = run(rule, "ana", bad, ctx)
        assert isinstance(reply, PostEphemeral) and "Usage" in reply.text, bad
    [off] = run(Ideas(), "ana", "idea something", ctx)
    assert isinstance(off, PostEphemeral) and "not available" in off.text


def test_buttons_reactions_and_replies_that_may_concern_an_idea_become_errands() -> None:
    state = CommunityState()
    state.remember_message(WS, "m1", MessageInfo("help", "ana", None, MONDAY))  # a member's message
    rule, ctx = Ideas(enabled=True), context(state)

    def handled(event: object) -> list[object]:
        return list(rule.handle(event, ctx))  # type: ignore[arg-type]

    [vote] = handled(InteractionClicked(workspace=WS, at=MONDAY, channel="help", user="ben", action="idea_vote",
                                        value="7"))
    assert isinstance(vote, SupportIdea) and vote.support and vote.click is not None
    [move] = handled(InteractionClicked(workspace=WS, at=MONDAY, channel="help", user="ana", action="idea_decline",
                                        value="7"))
    assert isinstance(move, MoveIdea) and move.status == DECLINED and move.reason == ""
    [liked] = handled(ReactionAdded(workspace=WS, at=MONDAY, message_id="card-ts", user="cem", emoji="+1"))
    assert isinstance(liked, SupportIdea) and liked.by_reaction and liked.support and liked.idea == "card-ts"
    [unliked] = handled(ReactionRemoved(workspace=WS, at=MONDAY, message_id="card-ts", user="cem", emoji="thumbsup"))
    assert isinstance(unliked, SupportIdea) and not unliked.support
    assert handled(ReactionAdded(workspace=WS, at=MONDAY, message_id="m1", user="cem", emoji="+1")) == []
    assert handled(ReactionAdded(workspace=WS, at=MONDAY, message_id="card-ts", user="cem", emoji="eyes")) == []
    [comment] = handled(MessagePosted(workspace=WS, at=MONDAY, channel="help", message_id="r1", user="ben",
                                      text="Great", thread="card-ts"))
    assert isinstance(comment, CountIdeaComments) and comment.thread == "card-ts"
    assert handled(MessagePosted(workspace=WS, at=MONDAY, channel="help", message_id="r2", user="ben", text="Hi",
                                 thread="m1")) == [], "a reply in a member's thread is no comment on a card"
    assert list(Ideas().handle(ReactionAdded(workspace=WS, at=MONDAY, message_id="card-ts", user="cem",
                                             emoji="+1"), ctx)) == []


def test_the_card_quotes_the_idea_defused_and_offers_the_next_steps_only() -> None:
    ctx = context()
    post = posted(an_idea(), ctx)
    assert post.key == f"idea:{WS}:7" and post.thread is None
    shown = post.card.as_text()  # type: ignore[union-attr]
    assert "<!channel>" not in shown and "channel shared calendar" in shown
    assert "<@ana>" in shown and "2 votes" in shown and "one comment" in shown
    update = card_update(an_idea(status=IN_PROGRESS, revision=4), ctx)
    assert update.key == f"idea-card:{WS}:7:4" and update.original_key == f"idea:{WS}:7"
    assert [b.action for b in update.buttons] == ["idea_vote", "idea_withdraw", "idea_done", "idea_decline"]
    closed = card_update(an_idea(status=DECLINED, reason="No budget this year", author_id=None), ctx)
    assert closed.buttons == ()
    assert "declined: No budget this year" in closed.card.as_text()  # type: ignore[union-attr]
    assert "a former member" in closed.card.as_text()  # type: ignore[union-attr]
    assert [b.action for b in idea_buttons(an_idea(), "de")][:1] == ["idea_vote"]


@pytest.mark.parametrize(("user", "args", "refused"), [
    ("mallory", "initiative new Rollout", True),
    ("mallory", "initiative add Rollout idea 1", True),
    ("mallory", "initiative close Rollout", True),
    ("mallory", "initiative Rollout", False),
    ("mallory", "initiatives", False),
    ("fran", "initiative new Rollout Everyone on the CRM", False),
])
def test_only_facilitators_start_or_change_initiatives_and_everyone_may_look(
    user: str, args: str, refused: bool
) -> None:
    [answer] = run(Initiatives(enabled=True), user, args, context())
    if refused:
        assert isinstance(answer, PostEphemeral) and f"initiative {args.split()[1]}" in answer.text
    else:
        assert isinstance(answer, CreateInitiative | ShowInitiative | ListInitiatives)


def test_initiative_commands_parse_names_kinds_and_numbers() -> None:
    rule, ctx = Initiatives(enabled=True), context()
    event = CommandInvoked(workspace=WS, at=MONDAY, channel="help", user="fran",
                           args='initiative add "Digital workplace" Idee #4')
    [add] = rule.commands()["initiative"].handler(event, ["add", "Digital workplace", "Idee", "#4"], ctx)
    assert isinstance(add, AddToInitiative) and (add.name, add.kind, add.item) == ("Digital workplace", "idea", 4)
    [new] = rule.commands()["initiative"].handler(event, ["new", "Rollout", "Everyone", "on", "the", "CRM"], ctx)
    assert isinstance(new, CreateInitiative) and (new.name, new.goal) == ("Rollout", "Everyone on the CRM")
    for bad in (["add", "Rollout", "plan", "1"], ["add", "Rollout", "idea"], ["new"]):
        [reply] = rule.commands()["initiative"].handler(event, bad, ctx)
        assert isinstance(reply, PostEphemeral) and "Usage" in reply.text, bad


def test_an_initiatives_progress_reads_as_one_line_in_either_language() -> None:
    plan = InitiativeRecord(id=1, workspace_id=WS, name="Rollout", goal="", channel_id="help", created_by="fran",
                            created_at=MONDAY)
    progress = InitiativeProgress(initiative=plan, decisions=3, decisions_taken=2,
                                  ideas=((ACCEPTED, 1), (DONE, 2)), commitments_done=4, commitments_open=2,
                                  commitments_overdue=1)
    assert progress_line(progress, "en") == (
        "• *Rollout*: 2 of 3 decisions taken · ideas: 1 accepted and 2 done · "
        "commitments: 4 done, 2 open, 1 overdue")
    assert progress_line(progress, "de") == (
        "• *Rollout*: 2 von 3 Entscheidungen getroffen · Ideen: 1 angenommen und 2 umgesetzt · "
        "Zusagen: 4 erledigt, 2 offen, 1 überfällig")
    assert progress_line(InitiativeProgress(initiative=plan), "en") == "• *Rollout*: nothing grouped under it yet"
