"""The checkout stays clean: what test runs and `make run` write is ignored and untracked."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WRITTEN_BY_RUNS = (".schemathesis", ".hypothesis", ".local")


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.fixture(autouse=True)
def in_a_git_checkout() -> None:
    if shutil.which("git") is None or git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip("not a git checkout")


@pytest.mark.parametrize("folder", WRITTEN_BY_RUNS)
def test_folders_written_by_runs_are_untracked(folder: str) -> None:
    assert git("ls-files", "--", folder).stdout == ""


@pytest.mark.parametrize("folder", WRITTEN_BY_RUNS)
def test_folders_written_by_runs_are_ignored(folder: str) -> None:
    assert git("check-ignore", "--quiet", f"{folder}/default/cache/crashes/manifest.json").returncode == 0
