"""`/steward lesson retag ID …`: words are tags, unless commas separate tags of several words."""

from __future__ import annotations

import pytest

from bot.app.errands.lessons import tag_list


@pytest.mark.parametrize(
    ("words", "tags"),
    [
        (["vpn", "laptop"], ["vpn", "laptop"]),
        (["VPN", "client,", "home", "office"], ["VPN client", "home office"]),
        (["Teams-Kanal,", "Betriebsrat"], ["Teams-Kanal", "Betriebsrat"]),
    ],
)
def test_tags_from_the_command_words(words: list[str], tags: list[str]) -> None:
    assert tag_list(words) == tags
