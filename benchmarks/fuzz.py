"""Fuzzing Steward's input handling: every target of the property tests (tests/properties/test_fuzz_*.py), with
10,000 generated inputs each instead of the tests' 200.

    .venv/bin/python benchmarks/fuzz.py [--examples N] [--only TEXT] [--seed N]

Prints, per target: the inputs run, crashes (an exception out of Steward's code: must be 0), property violations
(an input handled wrongly: must be 0), how many inputs Steward rejected, and the reasons it logged or reported for
them, most frequent first (numbers and file names folded, so alike reasons count together). Exits with 1 when
anything crashed or violated a property.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import Phase, given, settings
from hypothesis import seed as with_seed

from tests.properties import (
    test_fuzz_commands,
    test_fuzz_discord,
    test_fuzz_readers,
    test_fuzz_slack,
)
from tests.properties.strategies import FUZZ, Target

TARGETS: list[Target] = [
    *test_fuzz_slack.TARGETS,
    *test_fuzz_discord.TARGETS,
    *test_fuzz_commands.TARGETS,
    *test_fuzz_readers.TARGETS,
]
REASONS_SHOWN = 8
FAILURES_SHOWN = 3


@dataclass
class Outcome:
    cases: int = 0
    rejected: int = 0  # inputs for which Steward gave at least one reason
    reasons: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    violations: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def fold(reason: str) -> str:
    """A reason with what varies from input to input (numbers, file names, long quoted values) folded."""
    reason = re.sub(r"'[^']{13,}'|\"[^\"]{13,}\"", "'…'", reason)
    reason = re.sub(r"[^\s:()']*\.json(?:l\.gz|l)?", "FILE", reason)
    return re.sub(r"\d+", "N", reason)


def _where(exc: BaseException) -> str:
    """Where it went wrong: the innermost line of Steward's code for a crash, the failed check for a violation."""
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, AssertionError):
        last = frames[-1]
        return f"{Path(last.filename).name}:{last.lineno}: {(last.line or '').strip()[:100]}"
    own = [f for f in frames if "/tests/" not in f.filename and "/benchmarks/" not in f.filename]
    last = own[-1] if own else frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


def run(target: Target, examples: int, seed: int | None) -> Outcome:
    outcome = Outcome()

    @settings(FUZZ, max_examples=examples, database=None, phases=[Phase.generate], deadline=None, derandomize=False)
    @given(target.strategy)
    def fuzz(value: Any) -> None:
        outcome.cases += 1
        try:
            found = target.check(value)
        except AssertionError as exc:
            key = f"{str(exc).splitlines()[0][:160] if str(exc) else 'assertion failed'} ({_where(exc)})"
            outcome.violations[key] += 1
            outcome.examples.setdefault(key, repr(value)[:400])
        except Exception as exc:  # a crash is what this counts
            key = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''} ({_where(exc)})"
            outcome.crashes[key] += 1
            outcome.examples.setdefault(key, repr(value)[:400])
        else:
            if found:
                outcome.rejected += 1
                outcome.reasons.update(fold(reason) for reason in found)

    if seed is not None:
        fuzz = with_seed(seed)(fuzz)
    started = time.perf_counter()
    fuzz()
    outcome.seconds = time.perf_counter() - started
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="inputs per target (default 10,000)")
    parser.add_argument("--only", default="", help="run only the targets whose name contains this")
    parser.add_argument("--seed", type=int, default=None, help="repeat a run exactly")
    args = parser.parse_args()
    logging.getLogger().addHandler(logging.NullHandler())  # reasons are counted here, not printed one by one

    rows = []
    for target in TARGETS:
        if args.only and args.only not in target.name:
            continue
        print(f"fuzzing {target.name} ...", file=sys.stderr, flush=True)
        outcome = run(target, args.examples, args.seed)
        rows.append((target, outcome))

    print(f"{'target':<62} {'cases':>7} {'crashes':>8} {'violations':>10} {'rejected':>9} {'seconds':>8}")
    for target, outcome in rows:
        print(
            f"{target.name:<62} {outcome.cases:>7} {sum(outcome.crashes.values()):>8} "
            f"{sum(outcome.violations.values()):>10} {outcome.rejected:>9} {outcome.seconds:>8.1f}"
        )
    failed = False
    for target, outcome in rows:
        print(f"\n{target.name}: {outcome.rejected} of {outcome.cases} inputs rejected, "
              f"{sum(outcome.reasons.values())} reasons given")
        for reason, count in outcome.reasons.most_common(REASONS_SHOWN):
            print(f"  {count:>6}  {reason}")
        if len(outcome.reasons) > REASONS_SHOWN:
            print(f"          ... and {len(outcome.reasons) - REASONS_SHOWN} more kinds of reason")
        for label, found in (("CRASH", outcome.crashes), ("VIOLATION", outcome.violations)):
            for key, count in found.most_common(FAILURES_SHOWN):
                failed = True
                print(f"  {label} x{count}: {key}\n    e.g. {outcome.examples[key]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
