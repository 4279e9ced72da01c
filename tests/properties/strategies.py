"""Hypothesis strategies for fuzzing Steward's input handling, shared by the property tests and benchmarks/fuzz.py.

Payloads are built the way the platforms document them (Slack's Events API, interactivity and slash commands;
discord.py's objects and the gateway's raw dicts), then broken the ways real input breaks: keys missing, values
of the wrong type, huge strings, and text full of what trips renderers up (markup that pings a channel, links
that show one address and open another, right-to-left and zero-width marks, astral characters, NUL).

Each fuzzed target is a `Target`: a strategy and a check. A check raises AssertionError when a property is
violated and returns the reasons Steward gave for the input it rejected (logged warnings or a reader's
problems), so the benchmark can count them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ_PROFILE = "steward-fuzz"
settings.register_profile(
    FUZZ_PROFILE,
    max_examples=int(os.environ.get("STEWARD_FUZZ_EXAMPLES", "200")),
    deadline=None,
    derandomize=True,  # the suite tries the same cases every run; benchmarks/fuzz.py explores anew each time
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
FUZZ = settings(settings.get_profile(FUZZ_PROFILE))


@dataclass(frozen=True)
class Target:
    """One fuzzed input path: what to generate and what must hold for every generated input."""

    name: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], list[str]]


# --- logging -------------------------------------------------------------------------------------------------


class _Collector(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def logged() -> Iterator[list[logging.LogRecord]]:
    """The warnings and errors Steward logs inside the block."""
    records: list[logging.LogRecord] = []
    collector = _Collector(records)
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield records
    finally:
        root.removeHandler(collector)


def reasons(records: list[logging.LogRecord]) -> list[str]:
    """Every logged warning as its one-line reason; no traceback and no second line anywhere."""
    found = []
    for record in records:
        if record.levelno < logging.WARNING:
            continue
        message = record.getMessage()
        assert record.exc_info is None, f"a traceback was logged: {message}"
        assert len(message.splitlines()) <= 1, f"a reason spans lines: {message!r}"
        assert len(message) <= 400, f"a reason is {len(message)} characters long"
        found.append(message)
    return found


def one_line(problems: list[str]) -> list[str]:
    """A reader's problems, each one line and of readable length."""
    for problem in problems:
        assert len(problem.splitlines()) == 1 and "\r" not in problem, f"a problem spans lines: {problem!r}"
        assert len(problem) <= 400, f"a problem is {len(problem)} characters long"
    return list(problems)


# --- text ----------------------------------------------------------------------------------------------------

# What chat text holds that renderers must not pass on: special mentions, disguised links, markup, and characters
# that change how text is shown or cut.
SPECIAL = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0123ABC|@devs>",
    "<!date^1392734382^{date}|Feb 18>",
    "@everyone",
    "@here",
    "@channel",
    "<@U0123ABCD>",
    "<@U0123ABCD|anna>",
    "<#C0123ABCD|general>",
    "<#C0123ABCD>",
    "<@&123456789012345678>",
    "<https://good.example|https://good.example>",
    "<https://evil.example|https://good.example>",
    "<https://ok.example/path?a=1&b=2>",
    "<mailto:a@example.com|a@example.com>",
    "[https://good.example](https://evil.example)",
    "[click](<https://evil.example>)",
    "https://plain.example",
    "&lt;!channel&gt;",
    "&amp;",
    "&lt;",
    "&#x3C;",
    "&",
    "<",
    ">",
    "<<",
    ">>",
    "`",
    "```",
    "*",
    "_",
    "~",
    "|",
    "](",
    "\\",
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",
    "\u2028",
    "\u0301",
    "\x00",
    "\r\n",
    "\n",
    "\t",
    " ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "🧑🏽‍💻",
    "👍🏻",
    "🏳️‍🌈",
    "Grüße, Straße",
    "שלום",
    "مرحبا",
    "ﷺ",
    "/steward help",
)
fragments = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=12))
short_text = st.lists(fragments, max_size=8).map("".join)
huge_text = st.builds(
    lambda piece, times: piece * times,
    st.lists(fragments, min_size=1, max_size=3).map("".join).filter(bool),
    st.integers(min_value=50, max_value=1500),
)
chat_text = st.one_of(short_text, short_text, short_text, huge_text)
# Text in a part of a card (a field, one of many sections): mostly short, sometimes huge.
part_text = st.one_of(*[short_text] * 7, huge_text)
# Slack delivers `&`, `<` and `>` escaped; text as Slack sends it never holds them bare outside its markup.
slack_escaped_text = st.lists(
    st.one_of(st.sampled_from(["&amp;", "&lt;", "&gt;", "<@U0123ABCD>", "<#C0123ABCD>", " ", "\n"]),
              st.text(max_size=12).map(lambda t: t.replace("&", "").replace("<", "").replace(">", ""))),
    max_size=10,
).map("".join)

# Values of the wrong type for any field.
wrong_value: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**19, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    st.just(""),
    chat_text,
)


# --- mutation ------------------------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """`value` with some keys dropped, some values replaced by others of the wrong type, and some list items
    lost, at any depth."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            fate = draw(st.sampled_from(("keep", "keep", "keep", "keep", "drop", "wrong", "deeper")))
            if fate == "drop":
                continue
            if fate == "wrong":
                out[key] = draw(wrong_value)
            elif fate == "deeper" and depth < 4:
                out[key] = draw(mutated(item, depth + 1))
            else:
                out[key] = item
        if draw(st.integers(0, 9)) == 0:
            out[draw(st.text(max_size=8))] = draw(wrong_value)
        return out
    if isinstance(value, list):
        kept = [item for item in value if draw(st.integers(0, 5)) != 0]
        return [draw(mutated(item, depth + 1)) if draw(st.booleans()) else item for item in kept]
    return value


def cases(base: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[tuple[dict[str, Any], bool]]:
    """(payload, pristine): the documented shape half the time, a broken one otherwise."""
    return base.flatmap(
        lambda payload: st.one_of(
            st.just((payload, True)),
            mutated(payload).map(lambda broken: (broken, broken == payload)),
        )
    )


# --- Slack ---------------------------------------------------------------------------------------------------

slack_users = st.from_regex(r"U[A-Z0-9]{8,10}", fullmatch=True)
slack_channels = st.from_regex(r"[CG][A-Z0-9]{8,10}", fullmatch=True)
slack_teams = st.from_regex(r"T[A-Z0-9]{8,10}", fullmatch=True)
slack_bots = st.from_regex(r"B[A-Z0-9]{8,10}", fullmatch=True)
slack_ts = st.builds(
    lambda seconds, micros: f"{seconds}.{micros:06d}",
    st.integers(min_value=1_000_000_000, max_value=2_000_000_000),
    st.integers(min_value=0, max_value=999_999),
)
emoji_names = st.one_of(
    st.sampled_from(["white_check_mark", "+1", "eyes", "bulb", "heavy_check_mark", "tada"]),
    st.from_regex(r"[a-z0-9_+\-]{1,20}", fullmatch=True),
).flatmap(lambda name: st.sampled_from([name, f"{name}::skin-tone-2", f"{name}::skin-tone-6"]))
SPOKEN_SUBTYPES = ("thread_broadcast", "file_share", "me_message")
HOUSEKEEPING_SUBTYPES = ("channel_join", "channel_leave", "channel_topic", "channel_purpose", "pinned_item",
                         "bot_message", "channel_name", "reminder_add", "huddle_thread")


def _message(channel: str, user: str, text: str, ts: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
        "client_msg_id": "3b1f6d5e-0000-4000-8000-000000000000",
        "blocks": [{"type": "rich_text", "block_id": "b1", "elements": []}],
        **extra,
    }


slack_message_event = st.builds(
    _message,
    slack_channels,
    slack_users,
    chat_text,
    slack_ts,
    st.fixed_dictionaries(
        {},
        optional={
            "subtype": st.sampled_from(SPOKEN_SUBTYPES + HOUSEKEEPING_SUBTYPES),
            "thread_ts": slack_ts,
            "bot_id": slack_bots,
            "team": slack_teams,
            "edited": st.fixed_dictionaries({"user": slack_users, "ts": slack_ts}),
            "files": st.lists(st.fixed_dictionaries({"id": st.just("F0123"), "name": short_text}), max_size=2),
        },
    ),
)


def _changed(channel: str, user: str, old: str, new: str, ts: str, at: str, bot: bool) -> dict[str, Any]:
    message = {"type": "message", "user": user, "text": new, "ts": ts, "edited": {"user": user, "ts": at}}
    if bot:
        message["bot_id"] = "B0123ABCD"
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": channel,
        "ts": at,
        "event_ts": at,
        "message": message,
        "previous_message": {"type": "message", "user": user, "text": old, "ts": ts},
    }


slack_spoken_message_event = st.builds(
    _message,
    slack_channels,
    slack_users,
    chat_text,
    slack_ts,
    st.fixed_dictionaries(
        {}, optional={"subtype": st.sampled_from(SPOKEN_SUBTYPES), "thread_ts": slack_ts, "team": slack_teams}
    ),
)


slack_changed_event = st.builds(
    _changed, slack_channels, slack_users, chat_text, chat_text, slack_ts, slack_ts, st.booleans()
)
slack_deleted_event = st.builds(
    lambda channel, ts, at, old: {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": channel,
        "ts": at,
        "deleted_ts": ts,
        "event_ts": at,
        "previous_message": {"type": "message", "user": "U0123ABCD", "text": old, "ts": ts},
    },
    slack_channels,
    slack_ts,
    slack_ts,
    chat_text,
)
slack_reaction_event = st.builds(
    lambda kind, user, reaction, item, at: {
        "type": kind,
        "user": user,
        "reaction": reaction,
        "item_user": "U0123ABCD",
        "item": item,
        "event_ts": at,
    },
    st.sampled_from(["reaction_added", "reaction_removed"]),
    slack_users,
    emoji_names,
    st.one_of(
        st.fixed_dictionaries({"type": st.just("message"), "channel": slack_channels, "ts": slack_ts}),
        st.fixed_dictionaries({"type": st.just("file"), "file": st.just("F0123ABCD")}),
    ),
    slack_ts,
)
slack_joined_event = st.builds(
    lambda user, channel, team, at: {
        "type": "member_joined_channel",
        "user": user,
        "channel": channel,
        "channel_type": "C",
        "team": team,
        "inviter": "U0123ABCD",
        "event_ts": at,
    },
    slack_users,
    slack_channels,
    slack_teams,
    slack_ts,
)
slack_other_event = st.builds(
    lambda kind, at: {"type": kind, "event_ts": at, "user": "U0123ABCD"},
    st.sampled_from(["app_mention", "channel_created", "team_join", "app_home_opened", "pin_added"]),
    slack_ts,
)
slack_events = cases(
    st.one_of(
        slack_message_event,
        slack_message_event,
        slack_changed_event,
        slack_deleted_event,
        slack_reaction_event,
        slack_joined_event,
        slack_other_event,
    )
)

steward_actions = st.sampled_from(["claim", "solved", "not_a_question", "mute", "save_lesson"])


def _button(action: str, value: str, label: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action,
        "block_id": "actions",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": value,
        "action_ts": "1712000000.000100",
    }


slack_block_action = st.one_of(
    st.builds(
        _button,
        st.one_of(steward_actions, steward_actions.map(lambda a: f"{a}#2")),
        st.one_of(slack_ts, short_text.filter(bool)),
        short_text,
    ),
    st.builds(
        lambda action: {
            "type": "static_select",
            "action_id": action,
            "block_id": "b",
            "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": "x"},
        },
        steward_actions,
    ),
)


def _interaction_base(team: str, user: str) -> dict[str, Any]:
    return {
        "team": {"id": team, "domain": "acme"},
        "user": {"id": user, "username": "anna", "name": "anna", "team_id": team},
        "api_app_id": "A0123ABCD",
        "token": "verification-token",
        "trigger_id": "123.456.abc",
    }


slack_block_actions = st.builds(
    lambda team, user, channel, ts, actions: {
        "type": "block_actions",
        **_interaction_base(team, user),
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel, "name": "help"},
        "message": {"type": "message", "user": "U0BOT0000", "ts": ts, "text": "flag"},
        "response_url": "https://hooks.slack.com/actions/T/1/x",
        "actions": actions,
    },
    slack_teams,
    slack_users,
    slack_channels,
    slack_ts,
    st.lists(slack_block_action, max_size=4),
)
slack_view_submission = st.builds(
    lambda team, user, text: {
        "type": "view_submission",
        **_interaction_base(team, user),
        "view": {
            "id": "V0123ABCD",
            "team_id": team,
            "type": "modal",
            "callback_id": "lesson_edit",
            "title": {"type": "plain_text", "text": "Lesson"},
            "blocks": [],
            "state": {"values": {"b1": {"a1": {"type": "plain_text_input", "value": text}}}},
            "private_metadata": "",
        },
        "response_urls": [],
    },
    slack_teams,
    slack_users,
    chat_text,
)
slack_shortcut = st.builds(
    lambda team, user, channel, ts, thread: {
        "type": "message_action",
        "callback_id": "save_lesson",
        **_interaction_base(team, user),
        "channel": {"id": channel, "name": "help"},
        "message_ts": ts,
        "response_url": "https://hooks.slack.com/app/T/1/x",
        "message": {"type": "message", "user": user, "ts": ts, "text": "how?",
                    **({"thread_ts": thread} if thread else {})},
    },
    slack_teams,
    slack_users,
    slack_channels,
    slack_ts,
    st.one_of(st.none(), slack_ts),
)
slack_interactions = cases(st.one_of(slack_block_actions, slack_view_submission, slack_shortcut))

command_words = st.one_of(
    st.sampled_from(
        ["help", "hilfe", "?", "HELP", "Mute", "mute", "unmute", "stats", "digest", "settings", "lesson", "lessons",
         "expert", "experts", "facilitator", "forget", "solved", "stuck", "unanswered", "watch", "unwatch"]
    ),
    st.text(max_size=10),
)
command_text = st.one_of(
    st.builds(lambda word, rest: f"{word} {rest}", command_words, chat_text),
    st.builds(lambda word, args: " ".join([word, *args]), command_words,
              st.lists(st.sampled_from(["2w", "1h30m", "me", "on", "off", "de", "en", "monday", "09:00", "'", '"',
                                        "<@U0123ABCD>", "<#C0123ABCD>", "-1", "0", "99999999999", "answer_hours",
                                        "language", "timezone", "Europe/Berlin", "Mars/Olympus"]), max_size=4)),
    chat_text,
)
slack_commands = cases(
    st.builds(
        lambda team, channel, user, text: {
            "token": "verification-token",
            "team_id": team,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "help",
            "user_id": user,
            "user_name": "anna",
            "command": "/steward",
            "text": text,
            "api_app_id": "A0123ABCD",
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/T/1/x",
            "trigger_id": "123.456.abc",
        },
        slack_teams,
        slack_channels,
        slack_users,
        command_text,
    )
)

# --- Discord -------------------------------------------------------------------------------------------------

snowflakes = st.integers(min_value=10**16, max_value=2**63 - 1)
aware_times = st.datetimes(
    min_value=datetime(2015, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
naive_or_aware = st.datetimes(min_value=datetime(2015, 1, 2), max_value=datetime(2100, 1, 1),
                              timezones=st.one_of(st.none(), st.just(UTC)))

# --- actions to render ---------------------------------------------------------------------------------------

card_titles = st.one_of(chat_text, st.just(""), st.just("   "))


def cards() -> st.SearchStrategy[Any]:
    """Cards as rules build them, and cards with more sections, fields and text than a platform takes."""
    from bot.core.actions import Card

    many = st.integers(min_value=0, max_value=70)
    return st.builds(
        Card,
        title=card_titles,
        sections=st.one_of(
            st.lists(part_text, max_size=4).map(tuple),
            st.builds(lambda n, text: tuple(f"{text} {i}" for i in range(n)), many, short_text),
        ),
        fields=st.one_of(
            st.lists(st.tuples(part_text, part_text), max_size=4).map(tuple),
            st.builds(lambda n, name, value: tuple((f"{name}{i}", value) for i in range(n)), many, part_text,
                      part_text),
        ),
        footer=st.one_of(st.just(""), part_text),
    )


def buttons() -> st.SearchStrategy[Any]:
    """A few buttons of any kind, or a row of many alike (more than a platform shows)."""
    from bot.core.actions import Button

    button = st.builds(
        Button,
        action=st.one_of(steward_actions, steward_actions, st.text(max_size=300)),
        label=st.one_of(short_text, st.just(""), st.just(" "), huge_text),
        value=st.one_of(
            slack_ts, snowflakes.map(str), st.text(max_size=50), st.text(min_size=2001, max_size=2100)
        ),
        style=st.sampled_from(["default", "primary", "danger", "weird"]),
    )
    return st.one_of(
        st.lists(button, max_size=4).map(tuple),
        st.builds(lambda n, b: (b,) * n, st.integers(min_value=0, max_value=30), button),
    )


def outbound_actions(workspace: str) -> st.SearchStrategy[Any]:
    """Every action that carries text, with chat text everywhere a rule may quote a member."""
    from bot.core.actions import PostEphemeral, PostMessage, SendDirectMessage, UpdateMessage

    text = st.one_of(chat_text, st.just(""))
    card = st.one_of(st.none(), cards())
    return st.one_of(
        st.builds(PostMessage, key=st.just("k"), workspace=st.just(workspace), channel=st.just("123"), text=text,
                  thread=st.one_of(st.none(), st.just("456")), buttons=buttons(), card=card),
        st.builds(PostEphemeral, key=st.just("k"), workspace=st.just(workspace), channel=st.just("123"),
                  user=st.just("789"), text=text, card=card),
        st.builds(SendDirectMessage, key=st.just("k"), workspace=st.just(workspace), user=st.just("789"), text=text,
                  buttons=buttons(), card=card),
        st.builds(UpdateMessage, key=st.just("k"), workspace=st.just(workspace), channel=st.just("123"),
                  original_key=st.just("k0"), text=text, buttons=buttons(), card=card),
    )
