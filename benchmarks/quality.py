"""Judgement on public chat data, in one table: every train shard and development set beside its baseline.

Each set is replayed with `steward replay` and scored with the evaluation scorer (`score.py`, next to the
sets). With `--folds DIR` each train shard is replayed with the reply-link model trained without it
(`make train` writes them), so its figures say how Steward does on logs it never learned from; the
development sets always use the shipped model. For the shards it also prints expert hit@3 (does Steward's
top three hold someone who responded?) beside the three most active members of the day before.

    .venv/bin/python benchmarks/quality.py [--links rules|model] [--folds build/reply-links] [--only NAME]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EVAL = ROOT.parent / "shared" / "eval"
ANSWERED = ("unanswered_f1", "first_response_exact")


@dataclass(frozen=True)
class Scored:
    name: str
    task: str
    ours: dict[str, float | None]
    baseline: str
    base: dict[str, float | None]
    flags: tuple[int, float | None, int, float | None] | None = None  # flagged, precision; without the doubt


def _plain(path: Path, folder: Path) -> Path:
    """The scorer reads plain JSONL: unpack a compressed file into the scratch folder."""
    if path.suffix != ".gz":
        return path
    target = folder / path.name.removesuffix(".gz")
    with gzip.open(path, "rb") as source, target.open("wb") as out:
        shutil.copyfileobj(source, out)
    return target


def score(
    name: str, transcript: Path, gold: Path, scorer: Path, folder: Path, links: str, model: Path | None
) -> Scored:
    transcript, gold = _plain(transcript, folder), _plain(gold, folder)
    report = folder / f"{name}.report.json"
    env = dict(os.environ, REPLY_LINKS=links)
    if model is not None:
        env["STEWARD_REPLY_MODEL"] = str(model)
    steward = [sys.executable, "-m", "bot.cli", "replay", str(transcript), "--report", str(report), "-q"]
    subprocess.run(steward, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    scored = subprocess.run(
        [sys.executable, str(scorer), str(report), str(gold), "--transcript", str(transcript)],
        check=True, capture_output=True, text=True,
    )
    result = json.loads(scored.stdout.rsplit("\n", 2)[0])
    figures = _figures(name, result)
    if figures.task == "answered" and "-train-" in name:
        figures.ours["experts_hit@3"], figures.base["experts_hit@3"] = _routing(report, transcript, gold)
    if figures.task == "answered":
        figures = replace(figures, flags=_flags(report, gold))
    return figures


def _flags(report: Path, gold: Path) -> tuple[int, float | None, int, float | None]:
    """How many gold questions Steward flagged (and asked experts about), and the share really unanswered; then
    the same had it flagged every question it thought unanswered (those it checked with the asker instead)."""
    rows = map(json.loads, gold.read_text(encoding="utf-8").splitlines())
    unanswered = {row["id"]: not row["answered"] for row in rows}
    questions = [q for q in json.loads(report.read_text())["questions"] if q["id"] in unanswered]
    flagged = [q["id"] for q in questions if q.get("flagged_at")]
    before = flagged + [q["id"] for q in questions if q.get("checked_with_asker_at") and not q.get("flagged_at")]

    def precision(ids: list[str]) -> float | None:
        return sum(unanswered[i] for i in ids) / len(ids) if ids else None

    return len(flagged), precision(flagged), len(before), precision(before)


def _routing(report: Path, transcript: Path, gold: Path) -> tuple[float | None, float | None]:
    """Expert hit@3 on answered questions: does Steward's top three hold someone who did respond?

    The baseline ranks the three members who posted most in the channel during the day before the question.
    """
    responders = {}
    for row in map(json.loads, gold.read_text(encoding="utf-8").splitlines()):
        if row.get("answered") and row.get("responders"):
            responders[row["id"]] = set(row["responders"])
    suggested = {q["id"]: q.get("suggested_experts") or [] for q in json.loads(report.read_text())["questions"]}
    recent: dict[str, deque[tuple[datetime, str]]] = {}
    popular: dict[str, list[str]] = {}
    for row in map(json.loads, transcript.read_text(encoding="utf-8").splitlines()):
        if row.get("kind") != "message" or row.get("bot"):
            continue
        at, lines = datetime.fromisoformat(row["ts"]), recent.setdefault(row["channel"], deque())
        while lines and at - lines[0][0] > timedelta(days=1):
            lines.popleft()
        if row["id"] in responders:
            counts = Counter(user for _, user in lines if user != row["user"])
            popular[row["id"]] = [user for user, _ in counts.most_common(3)]
        lines.append((at, row["user"]))

    def hit(ranking: dict[str, list[str]]) -> float | None:
        seen = [qid for qid in responders if ranking.get(qid)]
        return sum(bool(set(ranking[q][:3]) & responders[q]) for q in seen) / len(seen) if seen else None

    return hit(suggested), hit(popular)


def _figures(name: str, result: dict) -> Scored:
    baselines: dict = result.get("baselines", {})
    if "unanswered_f1" in result:
        base = "addressed_30min"
        return Scored(name, "answered", {k: result.get(k) for k in ANSWERED}, base,
                      {k: baselines.get(base, {}).get(k) for k in ANSWERED})
    if "hit@3" in result or "hit_at_3" in result:
        key = "hit@3" if "hit@3" in result else "hit_at_3"
        base_row = baselines.get("popularity", {})
        return Scored(name, "experts", {key: result.get(key)}, "popularity", {key: base_row.get(key)})
    best = max(baselines, key=lambda b: baselines[b].get("f1") or 0.0) if baselines else ""
    return Scored(name, "questions", {"f1": result.get("f1")}, best,
                  {"f1": baselines.get(best, {}).get("f1") if best else None})


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="folder with the sets and score.py")
    parser.add_argument("--folds", type=Path, default=None, help="leave-one-shard-out models, one per shard")
    parser.add_argument("--only", action="append", default=[], help="measure only sets whose name holds this")
    parser.add_argument("--links", choices=("rules", "model"), default="rules",
                        help="how flat-channel answers are found (REPLY_LINKS)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    scorer = args.eval / "score.py"
    if not scorer.is_file():
        print(f"error: no score.py in {args.eval}", file=sys.stderr)
        return 2
    shards = sorted((args.eval / "train").glob("*.transcript.jsonl.gz"))
    sets = [(p.name.removesuffix(".transcript.jsonl.gz"), p) for p in shards]
    sets += [(p.name.removesuffix(".transcript.jsonl"), p) for p in sorted(args.eval.glob("*.transcript.jsonl"))]
    sets = [(n, p) for n, p in sets if not args.only or any(o in n for o in args.only)]
    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(args.jobs) as pool:
        jobs = []
        for name, transcript in sets:
            gold = transcript.with_name(transcript.name.replace(".transcript.", ".gold."))
            if not gold.exists() or name.startswith("dialogsum"):
                continue  # summaries are not scored
            fold = args.folds / f"{name}.json" if args.folds is not None else None
            model = fold if fold is not None and fold.exists() and args.links == "model" else None
            jobs.append(pool.submit(score, name, transcript, gold, scorer, Path(scratch), args.links, model))
        results = [job.result() for job in jobs]
    print(f"{'set':32} {'task':10} {'Steward':>22} {'baseline':>22}  baseline rule (shards: + experts hit@3)")
    for r in results:
        ours = " / ".join(_cell(v) for v in r.ours.values())
        base = " / ".join(_cell(v) for v in r.base.values())
        print(f"{r.name:32} {r.task:10} {ours:>22} {base:>22}  {r.baseline}")
    print("\nflags (experts asked): questions flagged and the share really unanswered; checking with the asker when"
          " unsure / flagging every question thought unanswered")
    for r in results:
        if r.flags is not None:
            now_n, now_p, before_n, before_p = r.flags
            print(f"{r.name:32} {now_n:5d} flagged, precision {_cell(now_p)}   / {before_n:5d}, {_cell(before_p)}")
    shards = [r for r in results if "-train-" in r.name]
    if shards:
        for key in (*ANSWERED, "experts_hit@3"):
            values = [r.ours[key] or 0.0 for r in shards]
            bases = [r.base[key] or 0.0 for r in shards]
            print(f"shards {key}: mean {statistics.mean(values):.3f}, worst {min(values):.3f} "
                  f"(baseline mean {statistics.mean(bases):.3f}, worst {min(bases):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
