"""Train the reply-link model from annotated reply links: `make train`.

Every transcript is replayed through the product's own conversation tracker, so the features are exactly
those the tracker computes live. Where a line has an annotated parent, the tracker is told that parent
(teacher forcing) and the line's options (each candidate, and "starts a conversation") become one training
group; other lines are linked by the model of the previous round. The model is a conditional logit over each
group's options (a softmax over one line's candidates), fitted with L-BFGS and an L2 penalty.

Cross-validation trains on all shards but one and measures on the one left out, for every shard; the fold
models are written beside the final one so that `benchmarks/quality.py --folds` can measure each shard
end to end with a model that never saw it.

    python training/train_reply_links.py [--data DIR] [--out FILE] [--folds DIR] [--rounds N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import optimize, sparse
from shards import DEFAULT_DATA, shards

from bot.core.events import MemberJoined, MessagePosted
from bot.core.transcript import Problems, read_events
from facilitation_rules.questions import chat_line
from facilitation_rules.text.linked_tracker import LinkedConversationTracker
from facilitation_rules.text.questions import classify_question
from facilitation_rules.text.reply_links import MODEL_PATH, Link, ReplyLinkModel, Said

logger = logging.getLogger(__name__)

L2 = 2.0  # the penalty on the squared weights: keeps rare features from taking extreme weights
CORPUS = (
    "IRC disentanglement corpus, train split (Kummerfeld et al., ACL 2019), CC BY 4.0; "
    "weights learned from its annotated reply links"
)


@dataclass
class Groups:
    """Training groups: one per annotated line, its options' features and which option is the annotation."""

    options: list[list[str]] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # index of each group's first option
    gold: list[int] = field(default_factory=list)  # index of each group's annotated option

    def add(self, own: list[str], candidates: list[tuple[Said, list[str]]], chosen: int) -> None:
        self.starts.append(len(self.options))
        self.gold.append(len(self.options) + chosen)
        self.options.append(own)
        self.options.extend(found for _, found in candidates)

    def extend(self, other: Groups) -> None:
        offset = len(self.options)
        self.starts.extend(start + offset for start in other.starts)
        self.gold.extend(gold + offset for gold in other.gold)
        self.options.extend(other.options)


class TeachingLinker:
    """Links annotated lines to their annotated parent and records their options; the model links the rest."""

    def __init__(self, parents: dict[str, str], model: ReplyLinkModel | None, groups: Groups) -> None:
        self.parents = parents
        self.model = model
        self.groups = groups

    def choose(self, line: Said, own: list[str], candidates: list[tuple[Said, list[str]]]) -> Link:
        parent = self.parents.get(line.id)
        if parent is None:
            if self.model is not None:
                return self.model.choose(line, own, candidates)
            return Link(None, line.id, 1.0)
        if parent == line.id:
            self.groups.add(own, candidates, 0)
            return Link(None, line.id, 1.0)
        for index, (said, _) in enumerate(candidates, start=1):
            if said.id == parent:
                self.groups.add(own, candidates, index)
                return Link(said, said.conv, 1.0)
        return Link(None, line.id, 1.0)  # the parent is further back than the candidates reach


def read_links(transcript: Path) -> dict[str, str]:
    path = transcript.with_name(transcript.name.replace(".transcript.", ".links."))
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return {row["id"]: row["parent"] for row in map(json.loads, handle)}


def collect(transcript: Path, model: ReplyLinkModel | None) -> Groups:
    """Replay one transcript through the tracker and gather the annotated lines' training groups."""
    groups = Groups()
    tracker = LinkedConversationTracker(linker=TeachingLinker(read_links(transcript), model, groups))
    for _, event in read_events(transcript, "train", Problems()):
        if isinstance(event, MemberJoined):
            tracker.observe_join(event.channel, event.user, event.at)
        elif isinstance(event, MessagePosted):
            asks = not event.bot and not event.thread and classify_question(event.text).is_question
            tracker.observe(chat_line(event), is_question=asks)
    return groups


@dataclass
class Design:
    """Groups as a sparse 0/1 matrix over a fixed vocabulary of feature names."""

    matrix: sparse.csr_matrix
    starts: np.ndarray
    gold: np.ndarray

    @classmethod
    def of(cls, groups: Groups, vocabulary: dict[str, int]) -> Design:
        rows, cols = [], []
        for row, found in enumerate(groups.options):
            for name in found:
                column = vocabulary.get(name)
                if column is not None:
                    rows.append(row)
                    cols.append(column)
        data = np.ones(len(rows), dtype=np.float64)
        shape = (len(groups.options), len(vocabulary))
        matrix = sparse.csr_matrix((data, (rows, cols)), shape=shape)
        return cls(matrix, np.asarray(groups.starts), np.asarray(groups.gold))

    def probabilities(self, weights: np.ndarray) -> np.ndarray:
        scores = self.matrix @ weights
        top = np.maximum.reduceat(scores, self.starts)
        sizes = np.diff(np.append(self.starts, len(scores)))
        exp = np.exp(scores - np.repeat(top, sizes))
        return exp / np.repeat(np.add.reduceat(exp, self.starts), sizes)


def fit(design: Design, size: int) -> np.ndarray:
    """Weights that maximise the annotated options' likelihood, less the L2 penalty."""

    def loss(weights: np.ndarray) -> tuple[float, np.ndarray]:
        p = design.probabilities(weights)
        value = -float(np.log(p[design.gold] + 1e-300).sum()) + L2 * float(weights @ weights)
        residual = p.copy()
        residual[design.gold] -= 1.0
        return value, design.matrix.T @ residual + 2 * L2 * weights

    result = optimize.minimize(loss, np.zeros(size), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return np.asarray(result.x)


def vocabulary_of(groups: Groups) -> dict[str, int]:
    names = sorted({name for found in groups.options for name in found})
    return {name: index for index, name in enumerate(names)}


def train(groups: Groups) -> ReplyLinkModel:
    vocabulary = vocabulary_of(groups)
    weights = fit(Design.of(groups, vocabulary), len(vocabulary))
    return ReplyLinkModel({name: round(float(weights[i]), 4) for name, i in vocabulary.items()})


EDGES = (0.5, 0.7, 0.8, 0.9, 0.95)  # bands of the reliability table


def decisions(model: ReplyLinkModel, groups: Groups) -> list[tuple[float, bool]]:
    """For each annotated line: the probability of the model's choice, and whether it is the annotated one."""
    vocabulary = {name: i for i, name in enumerate(model.weights)}
    design = Design.of(groups, vocabulary)
    probabilities = design.probabilities(np.asarray(list(model.weights.values())))
    ends = np.append(design.starts[1:], len(probabilities))
    found = []
    for start, end, gold in zip(design.starts, ends, design.gold, strict=True):
        best = start + int(np.argmax(probabilities[start:end]))
        found.append((float(probabilities[best]), bool(best == gold)))
    return found


def accuracy(model: ReplyLinkModel, groups: Groups) -> float:
    """Share of annotated lines whose most probable option is the annotated one."""
    seen = decisions(model, groups)
    return sum(right for _, right in seen) / max(len(seen), 1)


def reliability(seen: list[tuple[float, bool]]) -> str:
    """A Markdown table: per band of the model's probability, how often its choice was the annotated one."""
    bands: dict[int, list[tuple[float, bool]]] = {}
    for confidence, right in seen:
        bands.setdefault(sum(confidence >= edge for edge in EDGES), []).append((confidence, right))
    bounds = (0.0, *EDGES, 1.0)
    rows = ["| probability | lines | mean probability | share correct |", "|---|---|---|---|"]
    for band in sorted(bands):
        members = bands[band]
        mean = sum(c for c, _ in members) / len(members)
        correct = sum(r for _, r in members) / len(members)
        rows.append(f"| {bounds[band]:.2f}–{bounds[band + 1]:.2f} | {len(members)} | {mean:.3f} | {correct:.3f} |")
    return "\n".join(rows)


def save(model: ReplyLinkModel, path: Path, note: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"format": 1, "trained_on": note, "weights": dict(sorted(model.weights.items()))}
    path.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def rounds(paths: list[Path], count: int) -> Iterator[tuple[ReplyLinkModel, list[Groups]]]:
    """Train, then collect again with the model linking the unannotated lines, `count` times."""
    model: ReplyLinkModel | None = None
    for _ in range(count):
        per_shard = [collect(path, model) for path in paths]
        merged = Groups()
        for groups in per_shard:
            merged.extend(groups)
        model = train(merged)
        yield model, per_shard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the annotated shards")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where the model is written")
    parser.add_argument("--folds", type=Path, default=None, help="also write leave-one-shard-out models here")
    parser.add_argument("--rounds", type=int, default=2, help="training rounds (later ones link context lines)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    paths = shards(args.data)
    started = time.perf_counter()
    model, per_shard = None, []
    for model, per_shard in rounds(paths, args.rounds):
        print(f"round: {sum(len(g.starts) for g in per_shard)} annotated lines, {len(model.weights)} weights")
    assert model is not None
    save(model, args.out, CORPUS)
    print(f"model written to {args.out} ({time.perf_counter() - started:.0f} s)")
    if args.folds is not None:
        seen: list[tuple[float, bool]] = []
        for held_out, path in enumerate(paths):
            train_groups = Groups()
            for index, groups in enumerate(per_shard):
                if index != held_out:
                    train_groups.extend(groups)
            fold = train(train_groups)
            name = path.name.replace(".transcript.jsonl.gz", "")
            save(fold, args.folds / f"{name}.json", f"{CORPUS}; without {name}")
            print(f"{name}: link accuracy {accuracy(fold, per_shard[held_out]):.3f} (held out)")
            seen.extend(decisions(fold, per_shard[held_out]))
        print("reliability of the held-out choices, all shards:")
        print(reliability(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
