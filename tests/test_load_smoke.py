"""`make load`, briefly: concurrent clients against the live local stack lose no token."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from openindex_ops import load

pytestmark = pytest.mark.e2e


def test_a_short_load_run_has_no_errors_and_loses_no_token(tmp_path: Path) -> None:
    output = tmp_path / "load.json"
    assert load.main(["--clients", "4", "--seconds", "3", "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    assert report["errors"] == 0 and report["tokensMissing"] == []
    assert report["requests"] > 20 and report["tokensKept"] > 0
