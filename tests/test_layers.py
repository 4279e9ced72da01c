"""The layering contract (import-linter, in pyproject.toml) holds, and it fails when a layer imports one above."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "adapters", "facilitation_rules", "storage")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_of_the_project(tmp_path: Path) -> Path:
    tree = tmp_path / "steward"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def test_the_layers_are_kept_and_a_rule_that_imports_storage_breaks_the_contract(tmp_path: Path) -> None:
    tree = copy_of_the_project(tmp_path)
    kept = lint_imports(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    rule = tree / "facilitation_rules" / "questions.py"
    rule.write_text(rule.read_text(encoding="utf-8") + "\nfrom storage import repository  # noqa\n", encoding="utf-8")
    broken = lint_imports(tree)
    assert broken.returncode != 0
    assert "facilitation_rules.questions -> storage.repository" in broken.stdout
    assert "BROKEN" in broken.stdout
