"""Judgement must hold in communities Steward has never seen: no cue keyed to one data set's artefacts.

A change community's Slack has no export masks, distro commands, transcription fillers or IRC bots; a rule
that leans on them scores well on the corpus it came from and nowhere else.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = re.compile(
    r"<-(?:CODE|LINK|ISSUE)->"  # an export's anonymisation masks
    r"|\bsudo\b|\bapt-get\b|\bapt install\b"  # one distribution's commands
    r"|<(?:uh|um|äh|ähm|hm)>"  # a transcription's fillers
    r"|\bub(?:o|ot)tu\b|\bfloodbot",  # one channel's bots
    re.IGNORECASE,
)


def test_the_rules_carry_no_data_set_artefacts() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "facilitation_rules").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ARTEFACTS.search(line)
    ]
    assert found == []


def test_the_pattern_would_catch_them() -> None:
    assert ARTEFACTS.search('cue = r"\\[<-CODE->\\]"')
    assert ARTEFACTS.search("try sudo apt-get install")
    assert ARTEFACTS.search("<äh> ja")
    assert not ARTEFACTS.search("pseudo code, adapt the settings")
