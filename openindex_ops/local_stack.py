"""``openindex-local`` (what ``make run`` starts): the whole service on this machine.

moto's DynamoDB server on loopback, the table from infra/, a bootstrapped admin whose token is
printed once, then ``chalice local``. Ctrl-C or SIGTERM stops everything it started: chalice
runs in its own process group so its autoreloader's worker goes down with it.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from chalicelib.accounts.users import bootstrap_admin
from chalicelib.storage import Store
from chalicelib.timeutil import utcnow
from openindex_ops.table import create_table

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
_FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def main(argv: list[str] | None = None) -> int:
    """Run the local stack until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="openindex-local", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--email", default="admin@example.com", help="the bootstrap admin's email")
    parser.add_argument("--no-autoreload", action="store_true",
                        help="do not restart chalice local when files change (fuzzing, load runs)")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request lines
    moto = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
    moto.start()
    chalice: subprocess.Popen[bytes] | None = None
    try:
        _, moto_port = moto.get_host_and_port()
        # Never let a local run reach a real AWS account, whatever the shell has configured.
        os.environ.update(_FAKE_AWS, AWS_ENDPOINT_URL_DYNAMODB=f"http://{LOOPBACK}:{moto_port}")
        os.environ["APP_URL"] = f"http://{LOOPBACK}:{args.port}"  # where invite links point
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            os.environ.pop(name, None)
        table = _local_table_name()
        create_table(boto3.client("dynamodb"), table)
        _, token = bootstrap_admin(Store.connect(table), email=args.email, now=utcnow())

        chalice = subprocess.Popen(
            [str(Path(sys.executable).parent / "chalice"), "local", "--stage", "local",
             "--host", LOOPBACK, "--port", str(args.port)]
            + (["--no-autoreload"] if args.no_autoreload else []),
            cwd=PROJECT_DIR,
            start_new_session=True,
        )
        if _wait_for_port(args.port, chalice):
            base = f"http://{LOOPBACK}:{args.port}"
            print(f"OPENINDEX_ADMIN_TOKEN={token.value}", flush=True)
            print(f'Try: curl -H "Authorization: Bearer $OPENINDEX_ADMIN_TOKEN" {base}/me',
                  flush=True)
            print(f"OpenIndex Auth is serving on {base} (Ctrl-C to stop)", flush=True)
        return chalice.wait()
    except _Stopped:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # also when chalice exited by itself
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if chalice is not None:
            _stop_group(chalice)
        moto.stop()


class _Stopped(Exception):
    """Raised by the signal handler so that cleanup runs outside it, in ``finally``."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    # Ignore any further signal first: `make` forwards the SIGTERM it gets to this process, so
    # a group SIGTERM arrives twice, and a second _Stopped would abort the cleanup midway.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise _Stopped


@contextmanager
def spawned() -> Iterator[tuple[str, str]]:
    """(base URL, admin token) of a fresh local stack in a child process, stopped on exit.

    For fuzzing and load runs: a free loopback port, and no autoreload (their reports must not
    restart the server).
    """
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    stack = subprocess.Popen(
        [str(Path(sys.executable).parent / "openindex-local"), "--port", str(port), "--no-autoreload"],
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


def _local_table_name() -> str:
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    return config["stages"]["local"]["environment_variables"]["TABLE_NAME"]


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> bool:
    """True once something accepts connections on ``port``; False if ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (the autoreloader and its worker), SIGKILL what lingers."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    sys.exit(main())
