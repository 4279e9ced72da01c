"""Fit the answer-doubt model from answered gold: `make train`.

Each shard is replayed through the product's own conversation tracker (the default, rule-based one) exactly as
Steward reads a channel live. For every gold question the tracker left unanswered, the evidence it gathered
(`facilitation_rules.text.doubt.Evidence`) becomes one example, labelled by the gold: really unanswered, or
answered by a line the tracker did not link. A logistic regression with an L2 penalty turns the evidence into
the probability that the question is unanswered.

Validation trains on five shards and predicts the sixth, for every shard; it prints the reliability of the
held-out probabilities and, per threshold, how many of the questions Steward would nudge experts about are
really unanswered (precision) and how many of the really unanswered ones it still nudges about (recall).

    python training/train_answer_doubt.py [--data DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np
from shards import DEFAULT_DATA, shards

from bot.core.events import MemberJoined, MessagePosted
from bot.core.transcript import Problems, read_events
from facilitation_rules.questions import chat_line
from facilitation_rules.text.answers import ConversationTracker
from facilitation_rules.text.doubt import MODEL_PATH
from facilitation_rules.text.questions import classify_question

L2 = 1.0
EDGES = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
CORPUS = (
    "IRC disentanglement corpus, train split (Kummerfeld et al., ACL 2019), CC BY 4.0; "
    "weights learned from its answered gold"
)

Examples = tuple[list[str], np.ndarray, np.ndarray]  # feature names, features (rows), labels (1: unanswered)


def gold_of(transcript: Path) -> dict[str, bool]:
    """Question id -> answered, from the shard's gold file."""
    path = transcript.with_name(transcript.name.replace(".transcript.", ".gold."))
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return {row["id"]: bool(row["answered"]) for row in map(json.loads, handle)}


def collect(transcript: Path) -> Examples:
    """Replay a shard through the tracker; one example per gold question it left unanswered."""
    gold = gold_of(transcript)
    tracker = ConversationTracker()
    for _, event in read_events(transcript, "train", Problems()):
        if isinstance(event, MemberJoined):
            tracker.observe_join(event.channel, event.user, event.at)
        elif isinstance(event, MessagePosted):
            asks = not event.bot and not event.thread and (
                event.message_id in gold or classify_question(event.text).is_question
            )
            tracker.read(chat_line(event), is_question=asks)
    names: list[str] = []
    rows: list[list[float]] = []
    labels: list[float] = []
    for question_id, answered in gold.items():
        evidence = tracker.doubts.evidence(question_id)
        if evidence is None or evidence.answered:
            continue  # answered in Steward's eyes: no flag, nothing to doubt
        features = evidence.features()
        names = list(features)
        rows.append(list(features.values()))
        labels.append(0.0 if answered else 1.0)
    return names, np.array(rows), np.array(labels)


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Logistic regression by Newton's method; the bias (first column) is not penalised."""
    weights = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], L2)
    penalty[0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-x @ weights))
        gradient = x.T @ (p - y) + penalty * weights
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights


def predict(weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x @ weights))


def reliability(p: np.ndarray, y: np.ndarray) -> str:
    bands = np.searchsorted(EDGES, p, side="right")
    bounds = (0.0, *EDGES, 1.0)
    rows = ["| P(unanswered) | questions | mean probability | share unanswered |", "|---|---|---|---|"]
    for band in sorted(set(bands.tolist())):
        mask = bands == band
        rows.append(f"| {bounds[band]:.2f}–{bounds[band + 1]:.2f} | {int(mask.sum())} | {p[mask].mean():.3f} "
                    f"| {y[mask].mean():.3f} |")
    return "\n".join(rows)


def thresholds(p: np.ndarray, y: np.ndarray) -> str:
    rows = ["| nudge experts when P ≥ | questions nudged about | precision | recall |", "|---|---|---|---|",
            f"| (no model: all) | {len(y)} | {y.mean():.3f} | 1.000 |"]
    for threshold in THRESHOLDS:
        chosen = p >= threshold
        precision = y[chosen].mean() if chosen.any() else float("nan")
        recall = (y * chosen).sum() / y.sum()
        rows.append(f"| {threshold:.2f} | {int(chosen.sum())} | {precision:.3f} | {recall:.3f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the annotated shards")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where the model is written")
    args = parser.parse_args(argv)
    paths = shards(args.data)
    per_shard = [collect(path) for path in paths]
    names = next(n for n, _, _ in per_shard if n)
    held_p, held_y = [], []
    for held_out, path in enumerate(paths):
        x = np.vstack([s[1] for i, s in enumerate(per_shard) if i != held_out and len(s[1])])
        y = np.concatenate([s[2] for i, s in enumerate(per_shard) if i != held_out])
        _, hx, hy = per_shard[held_out]
        p = predict(fit(x, y), hx)
        held_p.append(p)
        held_y.append(hy)
        name = path.name.replace(".transcript.jsonl.gz", "")
        chosen = p >= 0.7
        print(f"{name}: {len(hy)} questions left unanswered, {hy.mean():.3f} really unanswered; "
              f"nudged at P ≥ 0.7: {int(chosen.sum())}, precision {hy[chosen].mean():.3f}")
    p, y = np.concatenate(held_p), np.concatenate(held_y)
    print("\nheld out, all shards:\n" + reliability(p, y) + "\n\n" + thresholds(p, y))
    weights = fit(np.vstack([s[1] for s in per_shard]), np.concatenate([s[2] for s in per_shard]))
    body = {"format": 1, "trained_on": CORPUS, "weights": {n: round(float(w), 4) for n, w in zip(names, weights,
                                                                                                strict=True)}}
    args.out.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    print(f"\nmodel written to {args.out}: " + ", ".join(f"{n} {w:+.2f}" for n, w in body["weights"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
