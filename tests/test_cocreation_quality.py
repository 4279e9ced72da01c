"""Decision offers and commitments on the hand-labelled English and German set (benchmarks/cocreation.py): a floor,
precision first. An offer or a follow-up Steward should not have made costs more than one it missed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cocreation_benchmark", ROOT / "benchmarks" / "cocreation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while the module loads
    spec.loader.exec_module(module)
    return module


def test_offers_and_commitments_on_the_labelled_set_stay_above_their_floor() -> None:
    scores, report, threads, lines = benchmark().measure()
    by_name = {s.name: s for s in scores}
    assert len(threads) >= 20 and len(lines) >= 40 and {t["language"] for t in threads} == {"en", "de"}
    for language in ("en", "de"):
        offers = by_name[f"decision offers ({language})"]
        commitments = by_name[f"commitments ({language})"]
        assert offers.false_positives == 0 and commitments.false_positives == 0, (offers, commitments)
        assert offers.recall >= 0.75 and commitments.recall >= 0.8, (offers, commitments)
    every = by_name["commitments (all)"]
    assert every.due_right == every.true_positives, "a commitment found is due when it was said to be"
    assert all(o["thread"].endswith("-0") for o in report["decision_offers"]), "offers go to the thread's root"
