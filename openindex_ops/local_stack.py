"""``openindex-local`` (what ``make run`` starts): the whole service on this machine.

moto's DynamoDB server on loopback, the table from infra/, the state saved by the last run
(or a bootstrapped admin), then the app served by a worker process (openindex_ops.local_server)
answering what the deployed API Gateway answers (openindex_ops.local_gateway). The port is
checked before anything starts. The state is saved every few seconds when it changed and on
Ctrl-C or SIGTERM, which stop everything this started.
"""
from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from chalicelib.errors import InvalidToken
from chalicelib.model import token_format
from chalicelib.model.kinds import Scope
from chalicelib.services.authentication import authenticate
from chalicelib.services.users import bootstrap_admin, recover_admin
from chalicelib.storage import Store
from chalicelib.timeutil import utcnow
from openindex_ops import example_service, local_state
from openindex_ops.expiry_index import index_expiring_pats
from openindex_ops.local_server import SourceWatch, Worker
from openindex_ops.local_state import Item, StateDir, StateError, WriteWatch
from openindex_ops.table import create_table

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
STAGE = "local"
TICK_SECONDS = 0.5  # how often the source files are looked at
SAVE_SECONDS = 2.0  # how often the state is saved when it changed: what a crash can lose


class StartupError(Exception):
    """The stack cannot start; the message is one line for the operator."""


def main(argv: list[str] | None = None) -> int:
    """Run the local stack until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="openindex-local", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--email", default="admin@example.com", help="the bootstrap admin's email")
    parser.add_argument("--state-dir", type=Path, default=PROJECT_DIR / ".local",
                        help="where users and tokens are kept across restarts (default: .local/)")
    parser.add_argument("--fresh", action="store_true", help="discard the saved state and start from scratch")
    parser.add_argument("--no-autoreload", action="store_true",
                        help="do not restart the server when app.py or chalicelib/ change (fuzzing, load runs)")
    parser.add_argument("--no-client-limits", action="store_true",
                        help="no per-client limits on the public operations, which the deployed WAF applies "
                             "(fuzzing and load runs send them many requests from 127.0.0.1)")
    args = parser.parse_args(argv)
    try:  # everything that can refuse to start, before anything starts or is printed
        listener = _listen(args.port)
        state = StateDir(args.state_dir)
        state.lock()
        discarded = state.discard() if args.fresh else False
        saved = state.load_items()
    except (StartupError, StateError) as error:
        print(f"openindex-local: {error}", file=sys.stderr)
        return 1
    with listener:
        return _run(args, listener, state, saved, discarded)


def _run(args: argparse.Namespace, listener: socket.socket, state: StateDir, saved: list[Item] | None,
         discarded: bool) -> int:
    """Start moto, the table and the worker, and supervise them until stopped."""
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request lines
    writes = WriteWatch(DomainDispatcherApplication(create_backend_app))
    moto = serve_moto(writes)
    worker = Worker(listener, STAGE, client_limits=not args.no_client_limits)
    keeper: _StateKeeper | None = None
    try:
        moto_port = moto.server_port
        endpoint = f"http://{LOOPBACK}:{moto_port}"
        local_state.use_local_dynamodb(endpoint)
        os.environ["APP_URL"] = f"http://{LOOPBACK}:{args.port}"  # where invite links point
        table = local_state.local_table_name()
        client = boto3.client("dynamodb")
        create_table(client, table)
        # the example service's table (its work items last while this run does: not saved)
        os.environ[example_service.TABLE_VARIABLE] = example_service.LOCAL_TABLE
        example_service.create_table(client)
        token = (_restore(state, saved, client, table) if saved is not None
                 else _bootstrap(state, args.email, table, discarded=discarded))
        keeper = _StateKeeper(state, writes, client, table)
        keeper.save()
        state.save_endpoint(endpoint)  # for make expiry-notices, while this runs

        watch = None if args.no_autoreload else SourceWatch(PROJECT_DIR)
        worker.start()
        if not worker.wait_until_serving():
            print(f"openindex-local: the server did not start (exit code {worker.poll()})", file=sys.stderr)
            return 1
        if token is not None:
            print(f"OPENINDEX_ADMIN_TOKEN={token}", flush=True)
        print(f"OpenIndex Auth is serving on http://{LOOPBACK}:{args.port} (Ctrl-C to stop)", flush=True)
        # After the "serving on" line, which scripts wait for: the web UI's address, once.
        print(f"open http://{LOOPBACK}:{args.port}/", flush=True)
        return _supervise(worker, keeper, watch)
    except _Stopped:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # also when the worker exited by itself
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        worker.stop()
        state.forget_endpoint()
        if keeper is not None:  # never before the saved state was restored: it would lose it
            keeper.save(always=True)
        moto.shutdown()


def _bootstrap(state: StateDir, email: str, table: str, discarded: bool) -> str:
    """A new admin and admin PAT, whose value is kept in the state folder; the value."""
    _, issued = bootstrap_admin(Store.connect(table), email=email, now=utcnow())
    state.save_admin_token(issued.value)
    why = "the saved state was discarded (FRESH=1)" if discarded else "no saved state"
    print(f"started fresh: {why} in {local_state.display(state.path)}", flush=True)
    return issued.value


def _restore(state: StateDir, items: list[Item], client: Any, table: str) -> str:
    """Put the saved items back; the saved admin token, or, when it no longer works, a fresh
    admin PAT for an active admin (all state kept), saved in its place."""
    local_state.restore_items(client, table, items)
    # tokens saved before expiry notices: into the index, so that they are announced too
    indexed = index_expiring_pats(client, table)
    print(f"restored {local_state.summary(items)} from {local_state.display(state.state_file)}"
          + (f" ({indexed} tokens put into the expiry index)" if indexed else ""), flush=True)
    token = state.admin_token()
    store = Store.connect(table)
    try:
        if authenticate(store, f"Bearer {token}", utcnow()).label == Scope.ADMIN.value:
            return token or ""
        stopped = "was narrowed and is no longer an admin token"
    except InvalidToken as refusal:
        stopped = f"no longer works{_WHY_IT_STOPPED.get(refusal.reason, '')}"
    saved = token_format.parse(token or "")
    admin, fresh = recover_admin(store, preferred_user_id=saved.user_id if saved else None, now=utcnow())
    state.save_admin_token(fresh.value)
    print(f"openindex-local: the admin token saved in {local_state.display(state.path)} {stopped}; "
          f"here is a new admin token for {admin.email}, saved in its place (everything else is kept; "
          "make run FRESH=1 starts over)", file=sys.stderr, flush=True)
    return fresh.value


# Why a saved admin token stopped working, in words (the API's own messages carry raw times).
_WHY_IT_STOPPED = {
    "rotated": " (it was rotated; the successor is wherever the rotation saved it, such as an oi profile)",
    "expired": " (it expired)",
    "unknown_token": " (it was deleted)",
    "tokens_revoked": " (it was revoked: revoke-all, or its account was deactivated)",
    "admin_tokens_revoked": " (it was revoked when its account stopped being an admin)",
    "role_lacks_scope": " (its account is no longer an admin)",
    "user_inactive": " (its account is deactivated)",
    "blocked_by_policy": " (the token policy blocks it)",
}


class _StateKeeper:
    """Saves the table's items to the state folder when a write went through since the last save."""

    def __init__(self, state: StateDir, writes: WriteWatch, client: Any, table: str) -> None:
        self._state = state
        self._writes = writes
        self._client = client
        self._table = table

    def save(self, always: bool = False) -> None:
        """``always``: also without a write seen (a save interrupted by Ctrl-C has taken the last look)."""
        if self._writes.take() or always:
            self._state.save_items(local_state.encode(local_state.dump_items(self._client, self._table)))


def serve_moto(app: WriteWatch) -> BaseWSGIServer:
    """moto's DynamoDB server on a free loopback port, in a thread (as ThreadedMotoServer, with
    ``app`` in front), answering only boto3 on this machine (:class:`LoopbackOnly`)."""
    server = make_server(LOOPBACK, 0, LoopbackOnly(app), threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class LoopbackOnly:
    """WSGI guard in front of moto's server: only requests as boto3's DynamoDB client sends them.

    moto's server grants CORS to every origin, and its table holds the token digests: a web page
    that found the port could write a token item and be admin. boto3 never sends ``Origin``; a
    browser sends it on every cross-origin request, every POST and every CORS preflight. The
    ``Host`` must be the address served, which a DNS-rebound name (evil.example resolving to
    127.0.0.1) is not. And only POST, the one method of DynamoDB's JSON protocol: moto also
    answers GETs (its /moto-api/ dashboard and switches), which a page can send without ``Origin``.
    """

    REFUSAL = b"openindex-local: only boto3 on this machine may use the local DynamoDB\n"

    def __init__(self, app: WriteWatch) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        served = f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        if "HTTP_ORIGIN" in environ or environ.get("HTTP_HOST") != served or environ["REQUEST_METHOD"] != "POST":
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8"),
                                             ("Content-Length", str(len(self.REFUSAL)))])
            return [self.REFUSAL]
        return self._app(environ, start_response)


def _supervise(worker: Worker, keeper: _StateKeeper, watch: SourceWatch | None) -> int:
    """Save the state and restart the worker on source changes; its exit code if it stops
    by itself without autoreload."""
    next_save = time.monotonic() + SAVE_SECONDS
    reported_exit = False
    while True:
        time.sleep(TICK_SECONDS)
        code = worker.poll()
        if code is not None and watch is None:
            if code:
                print(f"openindex-local: the server exited (exit code {code})", file=sys.stderr)
            return code
        if code is not None and not reported_exit:
            print(f"openindex-local: the server exited (exit code {code}); it restarts on the next change "
                  "to app.py or chalicelib/", file=sys.stderr, flush=True)
            reported_exit = True
        changed = watch.changes() if watch is not None else []
        if changed:
            print(f"reloading: {', '.join(changed)} changed", flush=True)
            worker.restart()
            if worker.wait_until_serving():
                print("reloaded: serving again", flush=True)
            reported_exit = False
        if time.monotonic() >= next_save:
            keeper.save()
            next_save = time.monotonic() + SAVE_SECONDS


class _Stopped(BaseException):
    """Raised by the signal handler so that cleanup runs outside it, in ``finally``.

    A BaseException, as KeyboardInterrupt is: the signal can land anywhere, including inside
    botocore during the periodic state save, whose retry logic catches ``Exception``; it
    swallowed the stop, and with further signals ignored the stack never stopped."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    # Ignore any further signal first: `make` forwards the SIGTERM it gets to this process, so
    # a group SIGTERM arrives twice, and a second _Stopped would abort the cleanup midway.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise _Stopped


@contextmanager
def spawned() -> Iterator[tuple[str, str]]:
    """(base URL, admin token) of a fresh local stack in a child process, stopped on exit.

    For fuzzing and load runs: a free loopback port, a state folder of its own (removed after),
    no autoreload (their reports must not restart the server), and no per-client limits (they
    send the public operations many requests, all from 127.0.0.1).
    """
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    state_dir = tempfile.TemporaryDirectory(prefix="openindex-local-")
    stack = subprocess.Popen(
        [str(Path(sys.executable).parent / "openindex-local"), "--port", str(port), "--no-autoreload",
         "--no-client-limits", "--state-dir", state_dir.name],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    token = None
    try:
        assert stack.stdout is not None
        for line in stack.stdout:
            if line.startswith("OPENINDEX_ADMIN_TOKEN="):
                token = line.strip().partition("=")[2]
            if "is serving on" in line:
                break
        if token is None:
            raise RuntimeError("the local stack did not start")
        # Keep reading its output (request and audit lines): a full pipe would block the server.
        threading.Thread(target=stack.stdout.read, daemon=True).start()
        yield f"http://{LOOPBACK}:{port}", token
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        stack.wait(timeout=30)
        state_dir.cleanup()


def _listen(port: int) -> socket.socket:
    """The server's listening socket, bound before anything starts: a busy port fails fast."""
    try:
        return socket.create_server((LOOPBACK, port), backlog=128)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise StartupError(f"port {port} is in use; make run PORT=…") from None
        raise StartupError(f"cannot listen on {LOOPBACK}:{port}: {error.strerror}") from None


if __name__ == "__main__":
    sys.exit(main())
