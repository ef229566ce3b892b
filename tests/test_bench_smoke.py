"""`make bench`, briefly: every measurement still runs against today's code (it broke once, silently)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow


def test_a_tiny_bench_run_measures_every_row(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "openindex_ops.bench", "--pairs", "2", "--large", "40", "--skip-package",
         "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    (report_file,) = tmp_path.glob("bench-*.json")
    rows = json.loads(report_file.read_text())["rows"]
    assert {"cold import", "cold import, bytecode shipped (make package)", "warm authorization"} <= set(rows)


def test_a_second_run_the_same_day_keeps_the_first_runs_results(tmp_path: Path) -> None:
    from openindex_ops.bench import unused_path

    assert unused_path(tmp_path, "2026-12-04") == tmp_path / "bench-2026-12-04.json"
    (tmp_path / "bench-2026-12-04.json").write_text("{}")
    (tmp_path / "bench-2026-12-04b.json").write_text("{}")
    assert unused_path(tmp_path, "2026-12-04") == tmp_path / "bench-2026-12-04c.json"
