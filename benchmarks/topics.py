"""Precision of the top three topics on a small hand-labelled set of community messages (EN and DE).

Each message in `tests/data/topics_labelled.jsonl` lists the topics a person would name, with spelling variants
separated by "|". A topic Steward names counts as right when its words, stemmed, equal one of them. The same
figure is printed for the frequent-word stems Steward used before, as the anchor.

    .venv/bin/python benchmarks/topics.py
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.text.tokens import Language, stem, terms_with_words, words  # noqa: E402
from bot.core.text.topics import phrases  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "topics_labelled.jsonl"
TOP = 3


@dataclass(frozen=True, slots=True)
class Labelled:
    language: Language
    text: str
    topics: tuple[frozenset[str], ...]  # each topic: its accepted spellings, normalised
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Precision:
    named: int
    right: int
    messages: int

    @property
    def value(self) -> float:
        return self.right / self.named if self.named else 1.0


def normalised(phrase: str, language: Language) -> str:
    """Word stems in order: "Berechtigungen" and "Berechtigung", "agents network" and "agent network" agree."""
    return " ".join(stem(word, language) for word in words(phrase.replace("-", " ")))


def load(path: Path = LABELLED) -> list[Labelled]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            lang: Language = "de" if raw["language"] == "de" else "en"
            gold = tuple(frozenset(normalised(v, lang) for v in t.split("|")) for t in raw["topics"])
            items.append(Labelled(lang, raw["text"], gold, tuple(raw.get("names", ()))))
    return items


def steward(item: Labelled) -> list[str]:
    return [p.text for p in phrases(item.text, item.language, names=item.names)][:TOP]


def frequent_stems(item: Labelled) -> list[str]:
    """What Steward showed before: the first distinct content words of the text."""
    return list(dict.fromkeys(word for _, word in terms_with_words(item.text, item.language)))[:TOP]


def precision(items: Sequence[Labelled], name: Callable[[Labelled], list[str]]) -> Precision:
    named = right = 0
    for item in items:
        accepted = set().union(*item.topics) if item.topics else set()
        for topic in name(item):
            named += 1
            right += normalised(topic, item.language) in accepted
    return Precision(named, right, len(items))


def main() -> None:
    items = load()
    print(f"topics: precision of the top {TOP} on {len(items)} hand-labelled messages ({LABELLED.name})")
    for language in ("en", "de"):
        subset = [i for i in items if i.language == language]
        now, before = precision(subset, steward), precision(subset, frequent_stems)
        print(
            f"  {language}: key phrases {now.value:.3f} ({now.right}/{now.named} named)   "
            f"frequent-word stems {before.value:.3f} ({before.right}/{before.named})   "
            f"ratio {now.value / max(before.value, 1e-9):.2f}"
        )


if __name__ == "__main__":
    main()
