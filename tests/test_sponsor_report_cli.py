"""`steward report`: the sponsor report written from the stored history; bad input is one line and status 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.test_cli_bad_input import UNREACHABLE, steward
from tests.web.community import build


@pytest.fixture(scope="module")
def community_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("sponsor-cli"))


@pytest.fixture
def database(community_db: Path, tmp_path: Path) -> dict[str, str]:
    copy = tmp_path / "steward.db"
    shutil.copy(community_db, copy)
    return {"DATABASE_URL": f"sqlite:///{copy}"}


def test_the_report_is_written_as_html_and_as_german_markdown(database: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "reports" / "report.html"
    done = steward("report", "--month", "2026-03", "--out", str(out), env=database, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"sponsor report for 2026-03 written to {out}"
    html = out.read_text(encoding="utf-8")
    assert "<h1>Sponsor report: Acme Wandel, March 2026</h1>" in html and html.count("<svg") == 3

    md = tmp_path / "report.md"
    done = steward("report", "--month", "2026-03", "--out", str(md), "--format", "markdown", "--language", "de",
                   env=database, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Bericht für die Sponsor*innen: Acme Wandel, März 2026")
    assert "| Gestellte Fragen | 43 |" in text


CASES = [
    ("a month that is no month", ["--month", "2026-13"], "not a month: '2026-13' (expected YYYY-MM"),
    ("a month written in words", ["--month", "March"], "expected YYYY-MM"),
    ("a month not begun yet", ["--month", "2999-01"], "2999-01 has not begun yet"),
    ("an impossible path", ["--month", "2026-03", "--out", "/proc/nowhere/report.html"], "cannot write"),
    ("a directory as the file", ["--month", "2026-03", "--out", "{root}"], "is a directory"),
    ("an unknown format", ["--month", "2026-03", "--format", "pdf"], "--format must be html or markdown"),
    ("an unknown language", ["--month", "2026-03", "--language", "fr"], "--language must be one of en, de"),
    ("an unknown community", ["--month", "2026-03", "--workspace", "slack:T404"], "no community 'slack:T404'"),
    ("no month at all", [], "Missing option '--month'"),
]


@pytest.mark.parametrize(("args", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_status_2(
    database: dict[str, str], tmp_path: Path, args: list[str], expected: str
) -> None:
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "r.html")]
    result = steward("report", *(a.format(root=tmp_path) for a in args), env=database, cwd=tmp_path)
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    [error] = [line for line in errors if line.startswith("error:")]
    assert expected in error, error
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(("database_url", "expected"), [
    (UNREACHABLE, "could not connect"),
    ("sqlite:///{root}/empty.db", "the database holds no community yet"),
])
def test_a_database_without_the_community_is_one_line(tmp_path: Path, database_url: str, expected: str) -> None:
    env = {"DATABASE_URL": database_url.format(root=tmp_path)}
    result = steward("report", "--month", "2026-03", "--out", str(tmp_path / "r.html"), env=env, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert expected in error, error
