"""The HTTP worker of ``openindex-local``, and how the parent starts, watches and restarts it.

The parent binds the port once and hands the listening socket to each worker, so a restart never
races another process for the port and connections made meanwhile wait in its backlog. It
restarts the worker when the app's source changes (``app.py``, ``chalicelib/``, the stage
config): not on writes to caches or tool folders (.pytest_cache/, .hypothesis/, .schemathesis/),
which ``chalice local``'s reloader watched too and which reset requests in flight.

    python -m openindex_ops.local_server --listen-fd N --stage local [--no-client-limits]   (started by the parent)
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
WATCHED_FILES = ("app.py", ".chalice/config.json")
WATCHED_TREES = ("chalicelib",)
_STOP_SECONDS = 10


def main(argv: list[str] | None = None) -> int:
    """Serve the app on the inherited socket until SIGTERM, or until the parent is gone."""
    parser = argparse.ArgumentParser(prog="python -m openindex_ops.local_server", description=__doc__)
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--no-client-limits", action="store_true")
    args = parser.parse_args(argv)
    # As `chalice local`: the app's log lines on stdout, as Lambda sends them to CloudWatch.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    from openindex_ops.local_gateway import create_server  # imports the app's dependencies

    server = create_server(PROJECT_DIR, args.stage, socket.socket(fileno=args.listen_fd),
                           client_limits=not args.no_client_limits)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    server.serve_forever()
    return 0


def _exit_with_parent(parent: int) -> None:
    # The worker runs in its own session (Ctrl-C is the parent's to handle), so nothing else
    # would stop it if the parent were killed outright: it would go on serving without moto.
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


class Worker:
    """The worker process the parent runs on ``listener``."""

    def __init__(self, listener: socket.socket, stage: str, client_limits: bool = True) -> None:
        self._listener = listener
        self._stage = stage
        self._options = [] if client_limits else ["--no-client-limits"]
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        fd = self._listener.fileno()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "openindex_ops.local_server", "--listen-fd", str(fd), "--stage", self._stage,
             *self._options],
            cwd=PROJECT_DIR, pass_fds=(fd,), start_new_session=True,
        )

    def poll(self) -> int | None:
        """The worker's exit code once it has exited, else None."""
        return self._process.poll() if self._process else None

    def stop(self) -> None:
        """SIGTERM the worker; SIGKILL it if it lingers."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def wait_until_serving(self, timeout: float = 60.0) -> bool:
        """True once the app answers GET /health; False if the worker exits first.

        One request, sent at once: the parent's socket accepts it into its backlog, and the
        worker answers it once it has imported the app.
        """
        deadline = time.monotonic() + timeout
        answer = b""
        with socket.create_connection(self._listener.getsockname()[:2], timeout=1) as probe:
            probe.sendall(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n")
            probe.settimeout(0.2)  # how often to check that the worker is still alive
            while time.monotonic() < deadline and self.poll() is None:
                try:
                    chunk = probe.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:  # read the whole answer: hanging up early makes the server log a reset
                    return answer.split(b" ")[1:2] == [b"200"]
                answer += chunk
        return False


class SourceWatch:
    """Which of the app's source files changed since the last look (by mtime)."""

    def __init__(self, project_dir: Path) -> None:
        self._project_dir = project_dir
        self._seen = source_mtimes(project_dir)

    def changes(self) -> list[str]:
        """The source files added, changed or removed since the last call, relative paths."""
        now = source_mtimes(self._project_dir)
        changed = sorted(path for path in now.keys() | self._seen.keys() if now.get(path) != self._seen.get(path))
        self._seen = now
        return changed


def source_mtimes(project_dir: Path) -> dict[str, int]:
    """The modification time of every file the app is made of (not its bytecode caches)."""
    paths = [project_dir / name for name in WATCHED_FILES]
    for tree in WATCHED_TREES:
        paths.extend(path for path in (project_dir / tree).rglob("*") if "__pycache__" not in path.parts)
    mtimes = {}
    for path in paths:
        try:
            if path.is_file():
                mtimes[str(path.relative_to(project_dir))] = path.stat().st_mtime_ns
        except FileNotFoundError:
            continue  # removed while we looked: the next look reports it
    return mtimes


if __name__ == "__main__":
    sys.exit(main())
