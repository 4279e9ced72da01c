"""Events handed to another process through the inbox come back exactly as they were; anything else is refused."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.events import (
    EVENT_TYPES,
    CommandInvoked,
    Event,
    MessagePosted,
    ReactionAdded,
    event_from_dict,
    event_to_dict,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "event",
    [
        MessagePosted(workspace="slack:T1", at=AT, channel="C1", message_id="1.2", user="U1", text="Hi <@U2>?",
                      thread="1.0", mentions=("U2",)),
        ReactionAdded(workspace="slack:T1", at=AT, message_id="1.2", user="U1", emoji="white_check_mark"),
        CommandInvoked(workspace="discord:9", at=AT, channel="C", user="U", args="mute 3", is_admin=True),
    ],
)
def test_an_event_survives_the_inbox(event: Event) -> None:
    stored = json.loads(json.dumps(event_to_dict(event)))
    assert event_from_dict(stored) == event
    assert event_from_dict(stored).key == event.key


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["type", "workspace", "at", "channel", "user", "x"]),
                       st.one_of(st.text(), st.integers(), st.none(), st.sampled_from(sorted(EVENT_TYPES)))))
def test_a_broken_inbox_row_is_refused_with_a_value_error(data: dict[str, object]) -> None:
    with contextlib.suppress(ValueError):
        event_from_dict(data)
