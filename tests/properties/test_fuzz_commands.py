"""Fuzzing `/steward` command parsing in English and German: any text is answered, never with a crash.

The router splits the text like a shell (forgiving unbalanced quotes), finds the command and runs the rule that
offers it. Whatever the text, the member gets a private answer (an ephemeral reply or a DM) in their language
(a command may also post elsewhere, as `stuck` does to the facilitators); a word that is no command
gets "I don't know the command" with the name quoted on one short line, then the help card. Every answer
renders within Slack's and Discord's limits.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.commands import ECHOED_NAME_CHARS, CommandRouter, split_args
from bot.core.actions import Action, PostEphemeral, SendDirectMessage
from bot.core.events import CommandInvoked
from bot.core.markup import excerpt
from bot.i18n import translate
from bot.rules import RuleContext
from bot.settings import Settings
from bot.state import CommunityState
from facilitation_rules import default_rules
from tests.properties.strategies import FUZZ, Target, command_text, logged, reasons
from tests.properties.test_fuzz_discord import check_discord_render
from tests.properties.test_fuzz_slack import check_slack_render

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HELP_WORDS = {"help", "hilfe", "?"}


@functools.cache
def _router() -> tuple[Settings, CommandRouter]:
    settings = Settings(_env_file=None, database_url="sqlite:///:memory:")  # type: ignore[call-arg]
    return settings, CommandRouter(default_rules(settings))


@functools.cache
def _state(language: str) -> CommunityState:
    """A community that speaks `language` (rules only read it; the router changes nothing)."""
    state = CommunityState()
    for workspace in ("slack:T1", "discord:42"):
        state.workspace(workspace).language = language
    return state


commands = st.tuples(command_text, st.sampled_from(["en", "de"]), st.booleans(),
                     st.sampled_from(["slack:T1", "discord:42"]))


def check_command(case: tuple[str, str, bool, str]) -> list[str]:
    text, language, is_admin, workspace = case
    settings, router = _router()
    ctx = RuleContext(now=NOW, settings=settings, state=_state(language))
    event = CommandInvoked(workspace=workspace, at=NOW, channel="C1", user="U1", args=text.strip(), is_admin=is_admin)
    with logged() as records:
        decision = router.dispatch(event, ctx)
    found = reasons(records)
    assert not any(r.levelname == "ERROR" for r in records), f"a command failed: {found}"
    actions = [item for item in decision if isinstance(item, Action)]
    replies = [a for a in actions if isinstance(a, PostEphemeral | SendDirectMessage) and a.user == "U1"]
    assert replies, "every command is answered privately"
    for action in actions:
        if hasattr(action, "text"):
            check_slack_render(action) if workspace.startswith("slack") else check_discord_render(action)
    for reply in replies:
        assert reply.text or reply.card is not None
    failed_prefix = translate("command.failed", language, name="\0").split("\0")[0]
    assert not any(reply.text.startswith(failed_prefix) for reply in replies), "a command's handler raised"
    words = split_args(event.args)
    name = words[0].lower() if words else ""
    help_title = translate("command.help_title", language)
    if not name.strip() or name in HELP_WORDS:
        assert len(replies) == 1 and replies[0].card is not None and replies[0].card.title == help_title
    elif name not in router.commands:
        shown = excerpt(name, ECHOED_NAME_CHARS).replace("`", "'")
        assert replies[0].text == translate("command.unknown", language, name=shown)
        assert len(replies[0].text.splitlines()) == 1
        assert replies[-1].card is not None and replies[-1].card.title == help_title
    return found


TARGETS = [Target("slash-command parsing (EN, DE)", commands, check_command)]


@FUZZ
@given(commands)
def test_any_command_text_gets_an_answer_in_the_members_language(case: tuple[str, str, bool, str]) -> None:
    check_command(case)


def test_unknown_commands_are_quoted_short_and_help_follows_in_german() -> None:
    case: Any = ("`x`" * 50 + " args", "de", False, "slack:T1")
    check_command(case)
    settings, router = _router()
    ctx = RuleContext(now=NOW, settings=settings, state=_state("de"))
    event = CommandInvoked(workspace="slack:T1", at=NOW, channel="C1", user="U1", args="frobnicate")
    unknown, help_card = router.dispatch(event, ctx)
    assert isinstance(unknown, PostEphemeral) and unknown.text == "Den Befehl `frobnicate` kenne ich nicht."
    assert isinstance(help_card, PostEphemeral) and help_card.card is not None
    assert help_card.card.title == translate("command.help_title", "de")
    blank = router.dispatch(CommandInvoked(workspace="slack:T1", at=NOW, channel="C1", user="U1", args="''"), ctx)
    assert len(blank) == 1 and isinstance(blank[0], PostEphemeral) and blank[0].card is not None
