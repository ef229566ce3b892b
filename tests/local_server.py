"""The real local stack for end-to-end tests: start `make run` (or openindex-local) on a free port,
call it over HTTP, read what it prints, and stop it leaving no process behind."""
from __future__ import annotations

import http.client
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 120


@dataclass
class Stack:
    process: subprocess.Popen[str]
    base_url: str
    token: str | None
    port: int
    startup: list[str]  # the lines printed up to "is serving on"
    later: queue.Queue[str]  # the lines printed since
    pids: list[int]  # the runner and its worker, as they were once serving
    state_dir: Path | None = None  # its state folder, when the test knows it


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


def raw_call(stack: Stack, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    """Status, headers and body text, exactly as sent."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in path.read_text().split()]
    except OSError:
        return []


def descendants(pid: int) -> list[int]:
    return [child for direct in children_of(pid) for child in [direct, *descendants(direct)]]


def alive(pids: list[int]) -> list[int]:
    """The pids still running (zombies count as gone)."""
    running = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.append(pid)
    return running


def wait_until_gone(pids: list[int], seconds: float = 15) -> list[int]:
    """The processes still running once they are gone or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


def launch(command: list[str], cwd: Path, port: int) -> Stack:
    """Start ``command`` (make run, or openindex-local) and wait until it is serving."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    startup: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and not any("is serving on" in line for line in startup):
        try:
            startup.append(lines.get(timeout=1))
        except queue.Empty:
            assert process.poll() is None, "the stack exited early:\n" + "".join(startup)
    assert startup and "is serving on" in startup[-1], "the stack did not start:\n" + "".join(startup)
    token = next((line.strip().partition("=")[2] for line in startup if line.startswith("OPENINDEX_ADMIN_TOKEN=")),
                 None)
    return Stack(process, f"http://127.0.0.1:{port}", token, port, startup, lines, descendants(process.pid))


def make_run(port: int, state_dir: Path, *settings: str) -> Stack:
    stack = launch(["make", "--no-print-directory", "run", f"PORT={port}", f"STATE_DIR={state_dir}", *settings],
                   ROOT, port)
    stack.state_dir = state_dir
    return stack


def stop(stack: Stack, how: int = signal.SIGTERM) -> None:
    """Signal the whole group, as Ctrl-C does (``make`` forwards a SIGTERM too, so the runner gets
    it twice): the runner must still stop its worker, leaving no process behind."""
    if stack.process.poll() is None:
        os.killpg(stack.process.pid, how)
        stack.process.wait(timeout=30)
    assert wait_until_gone(stack.pids) == []


def drained(stack: Stack) -> str:
    """Everything ``stack`` printed since it was serving, once it has stopped."""
    lines = []
    while not stack.later.empty():
        lines.append(stack.later.get_nowait())
    return "".join(lines)


def wait_for_line(stack: Stack, prefix: str, seconds: float = 30) -> str:
    """The next line ``stack`` prints that starts with ``prefix``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = stack.later.get(timeout=0.5)
        except queue.Empty:
            continue
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"no line starting with {prefix!r} within {seconds} s")
