"""`make run` points at the web UI: one `open http://127.0.0.1:PORT/` line, after the line
scripts wait for."""
from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from .local_server import drained, free_port, make_run, stop, wait_for_line


@pytest.mark.e2e
def test_make_run_prints_where_to_open_the_web_ui_once(tmp_path: Path) -> None:
    stack = make_run(free_port(), tmp_path / "state")
    try:
        line = wait_for_line(stack, "open ")
        assert line == f"open {stack.base_url}/"
        with urllib.request.urlopen(f"{stack.base_url}/", timeout=10) as response:
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    finally:
        stop(stack)
    printed = "".join(stack.startup) + drained(stack)
    assert f"open {stack.base_url}" not in printed  # once: only the line taken above
    assert "Traceback" not in printed
