"""`make run` keeps users and tokens across restarts in its state folder (FRESH=1 starts over)."""
from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from openindex_ops import local_stack, local_state
from openindex_ops.local_state import StateDir

from .local_server import ROOT, call, free_port, make_run, stop


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.e2e
def test_a_restart_restores_users_and_tokens_and_prints_the_same_admin_token(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = make_run(free_port(), state)
    assert "started fresh: no saved state in" in "".join(first.startup)
    status, created = call(first, "POST", "/me/pats", first.token, {"name": "kept", "scope": "read_write"})
    assert status == 201
    stop(first)
    assert (mode(state), mode(state / "state.json"), mode(state / "admin-token")) == (0o700, 0o600, 0o600)

    second = make_run(free_port(), state)
    try:
        assert f"restored 1 users, 2 tokens, 0 invites from {state / 'state.json'}\n" in second.startup
        assert second.token == first.token
        status, me = call(second, "GET", "/me", created["token"])
        assert status == 200 and me["token"]["name"] == "kept"
    finally:
        stop(second)

    fresh = make_run(free_port(), state, "FRESH=1")
    try:
        assert "started fresh: the saved state was discarded (FRESH=1) in" in "".join(fresh.startup)
        assert fresh.token != first.token
        assert call(fresh, "GET", "/me", created["token"])[0] == 401
        assert call(fresh, "GET", "/me", first.token)[0] == 401
    finally:
        stop(fresh)


@pytest.mark.e2e
def test_a_write_is_saved_within_seconds_so_a_killed_stack_loses_it_not(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = make_run(free_port(), state)
    status, created = call(first, "POST", "/me/pats", first.token, {"name": "crash", "scope": "read_write"})
    assert status == 201
    deadline = time.monotonic() + 10 * local_stack.SAVE_SECONDS
    while created["id"] not in (state / "state.json").read_text():
        assert time.monotonic() < deadline, "the new token was not saved"
        time.sleep(0.1)
    stop(first, signal.SIGKILL)  # no clean shutdown; the worker must still go (no orphan)

    second = make_run(free_port(), state)
    try:
        assert second.token == first.token
        assert call(second, "GET", "/me", created["token"])[0] == 200
    finally:
        stop(second)


@pytest.mark.e2e
def test_a_saved_admin_token_that_no_longer_works_is_replaced_by_a_working_one_keeping_all_state(
    tmp_path: Path
) -> None:
    """Rotated, revoked or demoted away: make run still ends up printing a working admin token
    (for an active admin), says why the old one stopped, and keeps every user and token."""
    state = tmp_path / "state"
    first = make_run(free_port(), state)
    status, me = call(first, "GET", "/me", first.token)
    kept = call(first, "POST", "/me/pats", first.token, {"name": "kept", "scope": "read_write"})[1]
    assert call(first, "POST", "/me/pats/self/rotate", first.token)[0] == 201
    stop(first)  # a clean stop saves the state
    second = make_run(free_port(), state)
    try:
        assert second.token is not None and second.token != first.token
        told = next(line for line in second.startup if "no longer works" in line)
        assert "it was rotated" in told and "Use the new token" not in told
        assert not re.search(r"\d{4}-\d\d-\d\dT", told), told  # no raw timestamp for a person
        status, again = call(second, "GET", "/me", second.token)
        assert (status, again["id"], again["role"]) == (200, me["id"], "admin")
        assert call(second, "GET", "/me", kept["token"])[0] == 200  # everything else is kept
    finally:
        stop(second)


@pytest.mark.e2e
def test_a_saved_admin_token_narrowed_below_admin_is_replaced_by_an_admin_one(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = make_run(free_port(), state)
    me = call(first, "GET", "/me", first.token)[1]
    assert call(first, "PATCH", f"/me/pats/{me['token']['id']}", first.token, {"scope": "read_write"})[0] == 200
    stop(first)
    second = make_run(free_port(), state)
    try:
        told = next(line for line in second.startup if "admin token saved in" in line)
        assert "was narrowed and is no longer an admin token; here is a new admin token for" in told
        assert call(second, "GET", "/me", second.token)[1]["token"]["scope"] == "admin"
    finally:
        stop(second)


def openindex_local(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / ".venv" / "bin" / "openindex-local"), "--port", str(free_port()), *args],
                          capture_output=True, text=True, timeout=60)


def test_an_unreadable_state_file_is_one_line_and_nothing_starts(tmp_path: Path) -> None:
    tmp_path.joinpath("state.json").write_text("{not json")
    result = openindex_local("--state-dir", str(tmp_path))
    assert result.returncode == 1 and result.stdout == "" and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"openindex-local: {tmp_path / 'state.json'} is not a saved state")
    assert "FRESH=1" in result.stderr


@pytest.mark.e2e
def test_a_state_folder_in_use_is_refused(tmp_path: Path) -> None:
    held = os.open(tmp_path, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running stack holds it
        result = openindex_local("--state-dir", str(tmp_path))
    finally:
        os.close(held)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (f"openindex-local: {tmp_path} is in use by another make run; stop it, "
                             "or make run STATE_DIR=<another folder>\n")


def test_binary_attributes_survive_a_save(tmp_path: Path) -> None:
    items = [{"pk": {"S": "USER#u"}, "sk": {"S": "TOKEN#t"}, "digest": {"B": b"\x00\xff"},
              "set": {"BS": [b"\x01"]}, "B": {"S": "an attribute named B"}}]
    state = local_state.StateDir(tmp_path)
    state.save_items(local_state.encode(items))
    assert state.load_items() == items
    assert json.loads(state.state_file.read_text())["format"] == local_state.FORMAT
    assert local_state.summary(items) == "0 users, 1 tokens, 0 invites"


def test_a_stop_signal_is_not_swallowed_by_code_that_catches_exception() -> None:
    """The signal can land inside botocore (the periodic state save), which catches Exception
    around its retries: the stop must get through, or the stack ignores every later signal."""
    import signal

    from openindex_ops import local_stack

    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(local_stack._Stopped):
            try:
                local_stack._raise_stop(signal.SIGTERM, None)
            except Exception:  # noqa: BLE001 - what a library's retry loop does
                pass
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def test_a_killed_stacks_endpoint_is_forgotten_as_soon_as_the_next_stack_takes_the_folder(tmp_path: Path) -> None:
    killed = StateDir(tmp_path)
    killed.lock()
    killed.save_endpoint("http://127.0.0.1:40001")  # its moto: a SIGKILL leaves the file
    assert killed._lock_fd is not None  # noqa: SLF001 - the kernel frees the killed process's lock
    os.close(killed._lock_fd)  # noqa: SLF001
    StateDir(tmp_path).lock()  # the next make run, still restoring: not serving yet
    assert StateDir(tmp_path).running_endpoint() is None
