"""Every text in its reader's language: the sample community's German channel gets German flags and a German
digest, its English channels English ones, in a workspace whose language is English."""

from __future__ import annotations

import asyncio

from bot.app.replay import replay
from bot.core.actions import Action, PostMessage
from bot.runner import SAMPLE
from bot.settings import Settings


def posts(settings: Settings) -> list[PostMessage]:
    actions: list[Action] = []
    asyncio.run(replay(SAMPLE, settings, on_actions=lambda _event, acts, _ctx: actions.extend(acts)))
    return [a for a in actions if isinstance(a, PostMessage)]


def test_flags_and_digests_speak_the_channels_language(settings: Settings) -> None:
    posted = posts(settings)
    german_flags = [p for p in posted if p.key.startswith("flag:") and p.channel == "wandel-de"]
    english_flags = [p for p in posted if p.key.startswith("flag:") and p.channel == "help"]
    assert german_flags and english_flags
    assert all(p.text.startswith("Diese Frage") for p in german_flags), [p.text for p in german_flags]
    assert all(p.text.startswith("This question") for p in english_flags)
    assert all(b.label != "Solved" for p in german_flags for b in p.buttons), "buttons in German too"

    digests = {p.channel: p for p in posted if p.key.startswith("digest:")}
    german, english = digests["wandel-de"].card, digests["help"].card
    assert german is not None and german.title.startswith("Wochenrückblick")
    assert english is not None and english.title.startswith("Weekly digest")
