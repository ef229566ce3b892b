"""End to end: the real `make run` stack (moto server + chalice local) over HTTP."""
from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 120


@dataclass
class Stack:
    process: subprocess.Popen[str]
    base_url: str
    token: str
    port: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(stack: Stack, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(stack.base_url + path, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data=data, timeout=10) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode() or "null")


def processes_mentioning(port: int) -> list[int]:
    """Pids whose command line names this port (chalice local and its reloader worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"--port" in argv and str(port).encode() in argv:
                found.append(int(entry.name))
    return found


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


@pytest.fixture
def stack() -> Iterator[Stack]:
    port = free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    token = None
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            assert process.poll() is None, "make run exited early"
            continue
        if line.startswith("OPENINDEX_ADMIN_TOKEN="):
            token = line.strip().partition("=")[2]
        if "is serving on" in line:
            break
    assert token is not None, "make run printed no admin token"
    yield Stack(process, f"http://127.0.0.1:{port}", token, port)
    if process.poll() is None:
        # SIGTERM to the whole group (make forwards it too, so the runner gets it twice): the
        # runner must still stop chalice local's own group, leaving no process behind.
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        assert wait_until_gone(port) == []


def wait_until_gone(port: int, seconds: float = 15) -> list[int]:
    """The processes still mentioning ``port`` once they are gone or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while processes_mentioning(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_mentioning(port)


def test_make_run_serves_the_documented_flow(stack: Stack) -> None:
    status, me = call(stack, "GET", "/me", stack.token)
    assert status == 200 and me["role"] == "admin" and me["token"]["scope"] == "admin"

    status, created = call(stack, "POST", "/me/pats", stack.token,
                           {"name": "agent-alpha", "scope": "read_write", "expiresAt": "2099-01-01T00:00:00Z"})
    assert status == 201 and created["token"].startswith("oi_pat_")

    status, listed = call(stack, "GET", "/me/pats", stack.token)
    assert status == 200
    assert [item["name"] for item in listed["items"]] == ["agent-alpha", "bootstrap"]
    assert created["token"] not in json.dumps(listed)

    assert call(stack, "GET", "/me", created["token"])[0] == 200
    assert call(stack, "DELETE", f"/me/pats/{created['id']}", stack.token)[0] == 204
    status, refused = call(stack, "GET", "/me", created["token"])
    assert status == 401 and refused["error"]["code"] == "invalid_token"
    assert call(stack, "POST", "/me/pats", created["token"], {"name": "x", "scope": "read_write"})[0] == 401
    status, bad = call(stack, "POST", "/me/pats", stack.token, {"name": "x", "scope": "root"})
    assert status == 400 and bad["error"]["code"] == "invalid_request"


def test_the_installed_oi_command_talks_to_the_stack(stack: Stack, tmp_path: Path) -> None:
    oi = ROOT / ".venv" / "bin" / "oi"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "OPENINDEX_APP_URL": stack.base_url}
    env.pop("OPENINDEX_TOKEN", None)
    saved = subprocess.run([str(oi), "profile", "set", "--token", "-"], input=stack.token + "\n",
                           env=env, capture_output=True, text=True, timeout=60)
    assert saved.returncode == 0, saved.stderr
    check = subprocess.run([str(oi), "auth", "check"], env=env, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert "admin@example.com" in check.stdout and stack.token not in check.stdout
    refused = subprocess.run([str(oi), "auth", "check"], env={**env, "OPENINDEX_TOKEN": "oi_pat_nope"},
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 4 and "oi auth check" in refused.stderr


@pytest.mark.parametrize("how", ["sigterm-to-runner", "ctrl-c-to-group"])
def test_stopping_make_run_stops_every_process_it_started(stack: Stack, how: str) -> None:
    assert processes_mentioning(stack.port), "chalice local should be running"
    if how == "sigterm-to-runner":
        (runner,) = children_of(stack.process.pid)
        os.kill(runner, signal.SIGTERM)
    else:
        os.killpg(stack.process.pid, signal.SIGINT)
    stack.process.wait(timeout=30)
    assert wait_until_gone(stack.port) == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", stack.port), timeout=1).close()
