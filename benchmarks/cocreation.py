"""Co-creation quality on small hand-labelled sets: decision offers and commitment detection, precision first.

Each set is English and German: threads labelled with whether they reached a decision, and lines labelled with
whether they commit their author to something and when it is due. The development set
(tests/data/cocreation_threads.jsonl, cocreation_commitments.jsonl) is the one the rules were written against;
the held-out set (tests/data/cocreation_heldout_*.jsonl) was written afterwards and never tuned on. Both go
through the real engine (`steward replay`'s code path): the threads into a #decisions channel, the lines into
#promises, each line by its own member. The replay report's `decision_offers` and `commitments` are compared
with the labels. A commitment counts as found when its line is
in the report; its due time is right when it is the labelled moment to the minute.

    .venv/bin/python benchmarks/cocreation.py [--verbose]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"
SETS = {
    "development": (DATA / "cocreation_threads.jsonl", DATA / "cocreation_commitments.jsonl"),
    "held-out": (DATA / "cocreation_heldout_threads.jsonl", DATA / "cocreation_heldout_commitments.jsonl"),
}
TIMEZONE = "Europe/Berlin"


@dataclass(frozen=True)
class Score:
    """Precision and recall of one detector on one language (or all)."""

    name: str
    true_positives: int
    false_positives: int
    false_negatives: int
    due_right: int | None = None  # commitments: found ones whose due time is the labelled one

    @property
    def precision(self) -> float | None:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else None

    @property
    def recall(self) -> float | None:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else None


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def transcript(threads: list[dict[str, Any]], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The labelled data as one replay transcript, in time order."""
    events: list[dict[str, Any]] = []
    for thread in threads:
        start = datetime.fromisoformat(thread["start"])
        for n, said in enumerate(thread["messages"]):
            event = {"kind": "message", "ts": (start + timedelta(minutes=5 * n)).isoformat(),
                     "id": f"{thread['id']}-{n}", "channel": "decisions", "user": said["user"],
                     "user_name": said["user"], "text": said["text"]}
            if n:
                event["thread"] = f"{thread['id']}-0"
            events.append(event)
    for line in lines:
        events.append({"kind": "message", "ts": line["said_at"], "id": line["id"], "channel": "promises",
                       "user": f"member-{line['id']}", "user_name": f"member-{line['id']}", "text": line["text"]})
    events.sort(key=lambda e: (datetime.fromisoformat(e["ts"]), e["id"]))
    meta = {"kind": "meta", "ts": events[0]["ts"], "platform": "console", "workspace": "cocreation-benchmark",
            "timezone": TIMEZONE, "language": "en"}
    return [meta, *events]


async def replay_report(events: list[dict[str, Any]]) -> dict[str, Any]:
    from bot.app.replay import replay
    from bot.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cocreation.jsonl"
        path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in events) + "\n", encoding="utf-8")
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=f"sqlite:///{folder}/benchmark.db", steward_timezone=TIMEZONE,
        )
        result = await replay(path, settings)
        return result.report


def score_offers(threads: list[dict[str, Any]], report: dict[str, Any], language: str | None) -> Score:
    offered = {o["thread"].removesuffix("-0") for o in report.get("decision_offers", [])}
    chosen = [t for t in threads if language in (None, t["language"])]
    return Score(
        name=f"decision offers ({language or 'all'})",
        true_positives=sum(1 for t in chosen if t["decision"] and t["id"] in offered),
        false_positives=sum(1 for t in chosen if not t["decision"] and t["id"] in offered),
        false_negatives=sum(1 for t in chosen if t["decision"] and t["id"] not in offered),
    )


def score_commitments(lines: list[dict[str, Any]], report: dict[str, Any], language: str | None) -> Score:
    found = {c["message"]: c for c in report.get("commitments", []) if c.get("message")}
    chosen = [line for line in lines if language in (None, line["language"])]
    hits = [line for line in chosen if line["commitment"] and line["id"] in found]
    return Score(
        name=f"commitments ({language or 'all'})",
        true_positives=len(hits),
        false_positives=sum(1 for line in chosen if not line["commitment"] and line["id"] in found),
        false_negatives=sum(1 for line in chosen if line["commitment"] and line["id"] not in found),
        due_right=sum(1 for line in hits if _same_minute(found[line["id"]]["due_at"], line["due"])),
    )


def _same_minute(found: str, wanted: str) -> bool:
    return abs((datetime.fromisoformat(found) - datetime.fromisoformat(wanted)).total_seconds()) < 60


def measure(
    which: str = "development",
) -> tuple[list[Score], dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    threads_path, lines_path = SETS[which]
    threads, lines = load(threads_path), load(lines_path)
    report = asyncio.run(replay_report(transcript(threads, lines)))
    scores = [score_offers(threads, report, lang) for lang in ("en", "de", None)]
    scores += [score_commitments(lines, report, lang) for lang in ("en", "de", None)]
    return scores, report, threads, lines


def table(scores: Iterable[Score]) -> str:
    def share(value: float | None) -> str:
        return "   –  " if value is None else f"{value:6.2f}"

    rows = [f"{'':28} {'TP':>3} {'FP':>3} {'FN':>3} {'precision':>9} {'recall':>7} {'due right':>10}"]
    for s in scores:
        due = "" if s.due_right is None else f"{s.due_right}/{s.true_positives}"
        rows.append(f"{s.name:28} {s.true_positives:3} {s.false_positives:3} {s.false_negatives:3} "
                    f"{share(s.precision):>9} {share(s.recall):>7} {due:>10}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list every miss and false alarm")
    args = parser.parse_args()
    for which in SETS:
        scores, report, threads, lines = measure(which)
        print(f"{which} set: {len(threads)} threads ({sum(t['decision'] for t in threads)} decided), {len(lines)} "
              f"lines ({sum(line['commitment'] for line in lines)} commitments), English and German")
        print(table(scores))
        if args.verbose:
            misses(report, threads, lines)
        print()


def misses(report: dict[str, Any], threads: list[dict[str, Any]], lines: list[dict[str, Any]]) -> None:
    """Every miss and false alarm, and every due time that is not the labelled one."""
    offered = {o["thread"].removesuffix("-0") for o in report.get("decision_offers", [])}
    for t in threads:
        if t["decision"] != (t["id"] in offered):
            print(f"  thread {t['id']}: labelled {t['decision']}, offered {t['id'] in offered}")
    found = {c["message"]: c for c in report.get("commitments", []) if c.get("message")}
    for line in lines:
        hit = found.get(line["id"])
        if line["commitment"] != (hit is not None):
            print(f"  line {line['id']}: labelled {line['commitment']}, found {hit is not None}: {line['text']}")
        elif hit is not None and not _same_minute(hit["due_at"], line["due"]):
            print(f"  line {line['id']}: due {hit['due_at']}, labelled {line['due']}: {line['text']}")


if __name__ == "__main__":
    main()
