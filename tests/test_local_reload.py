"""`make run` restarts its worker when the app's source changes, and only then: not when test
runs write their caches (.pytest_cache/, .hypothesis/, .schemathesis/), which reset requests."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from openindex_ops.local_server import SourceWatch, source_mtimes

from .local_server import ROOT, alive, call, free_port, launch, stop, wait_for_line

TOOL_WRITES = (".pytest_cache/v/cache/lastfailed", ".hypothesis/examples/x", ".schemathesis/default/cache/x",
               "chalicelib/__pycache__/errors.cpython-311.pyc", ".local/state.json", "README.md")


def write(root: Path, relative: str, text: str = "x") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_only_the_apps_source_is_watched(tmp_path: Path) -> None:
    write(tmp_path, "app.py")
    write(tmp_path, "chalicelib/errors.py")
    watch = SourceWatch(tmp_path)
    assert set(source_mtimes(tmp_path)) == {"app.py", "chalicelib/errors.py"}
    for relative in TOOL_WRITES:
        write(tmp_path, relative)
    assert watch.changes() == []
    write(tmp_path, "chalicelib/errors.py", "changed")
    write(tmp_path, "chalicelib/new.py")
    (tmp_path / "app.py").unlink()
    assert watch.changes() == ["app.py", "chalicelib/errors.py", "chalicelib/new.py"]
    assert watch.changes() == []


@pytest.mark.e2e
@pytest.mark.xdist_group("chalice_package")  # it copies the project: not while a package is written
def test_a_source_change_restarts_the_worker_and_a_tool_write_does_not(tmp_path: Path) -> None:
    # A copy of the project, so that editing its source restarts no one else's `make run`.
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".schemathesis", ".local", "build"))
    port = free_port()
    stack = launch([sys.executable, "-m", "openindex_ops.local_stack", "--port", str(port),
                    "--state-dir", str(tmp_path / "state")], project, port)
    try:
        (worker,) = stack.pids  # launched without make: the runner is stack.process
        for relative in TOOL_WRITES:
            write(project, relative)
        with (project / "chalicelib" / "api" / "responses.py").open("a") as source:
            source.write("\n# edited\n")
        # One restart, for the source file alone: the tool writes came first and are not named.
        assert wait_for_line(stack, "reloading:") == "reloading: chalicelib/api/responses.py changed"
        # A request sent while the old worker stops could be reset: scripts wait for this line.
        assert wait_for_line(stack, "reloaded:") == "reloaded: serving again"
        assert call(stack, "GET", "/me", stack.token)[0] == 200  # the new worker, the same table
        assert alive([worker]) == []
    finally:
        stop(stack)
