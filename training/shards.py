"""The annotated IRC shards both training scripts learn from (CC BY 4.0; see `../shared/eval/train/README.md`)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "train"


def shards(data: Path) -> list[Path]:
    """The shards' transcripts in a fixed order, or a one-line exit when the folder holds none."""
    found = sorted(data.glob("*.transcript.jsonl.gz"))
    if not found:
        raise SystemExit(f"error: no *.transcript.jsonl.gz files in {data}")
    return found
