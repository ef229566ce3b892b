"""What ``make run`` keeps across restarts: the table's items and the bootstrap admin's token.

moto's server keeps nothing on disk, so a restart used to lose every user and token, and with
them every saved profile. The state lives in one folder (``.local/`` by default, git-ignored,
mode 0700): ``state.json``, the table's items, and ``admin-token``, the bootstrap admin PAT's
value (only its digest is in the table), both mode 0600 and replaced atomically. The folder is
locked while a stack uses it, so two stacks never overwrite each other's state.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

Item = dict[str, dict[str, Any]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

STATE_FILE = "state.json"
TOKEN_FILE = "admin-token"
ENDPOINT_FILE = "dynamodb-endpoint"  # where the running stack's DynamoDB listens (while it runs)
CHALICE_CONFIG = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"
# A local run never reaches an AWS account, whatever the shell has configured.
_LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}
FORMAT = 1
_BATCH = 25  # BatchWriteItem's limit
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


class StateError(Exception):
    """The state folder cannot be used; the message is one line for the operator."""


class StateDir:
    """The state folder, locked for this process's lifetime once :meth:`lock` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state_file = path / STATE_FILE
        self.token_file = path / TOKEN_FILE
        self._lock_fd: int | None = None

    def lock(self) -> None:
        """Create the folder (0700) and take its lock; StateError if another stack holds it."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateError(f"{display(self.path)} is in use by another make run; stop it, "
                             "or make run STATE_DIR=<another folder>") from None
        self._lock_fd = fd
        self.forget_endpoint()  # a killed stack's: this one says its own once it serves

    def save_endpoint(self, url: str) -> None:
        """Say where this stack's DynamoDB listens, for tools run beside it (make expiry-notices)."""
        write_private(self.path / ENDPOINT_FILE, f"{url}\n".encode())

    def forget_endpoint(self) -> None:
        (self.path / ENDPOINT_FILE).unlink(missing_ok=True)

    def running_endpoint(self) -> str | None:
        """Where the DynamoDB of the stack using this folder listens, or None when no stack does
        (its lock is free: an endpoint file left by a killed stack is stale)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                return (self.path / ENDPOINT_FILE).read_text().strip() or None
            except FileNotFoundError:
                return None  # starting, not yet serving
        finally:
            os.close(fd)  # (and with it a lock this took)
        return None

    def discard(self) -> bool:
        """Forget the saved state (``--fresh``); whether there was any."""
        existed = self.state_file.exists()
        for path in (self.state_file, self.token_file):
            path.unlink(missing_ok=True)
        return existed

    def load_items(self) -> list[Item] | None:
        """The saved items, or None when nothing was saved; StateError if the file is unreadable."""
        try:
            saved = json.loads(self.state_file.read_bytes(), object_hook=_decode_binary)
        except FileNotFoundError:
            return None
        except ValueError as error:
            raise StateError(f"{display(self.state_file)} is not a saved state ({error}); "
                             "make run FRESH=1 starts over") from None
        if not isinstance(saved, dict) or saved.get("format") != FORMAT or not isinstance(saved.get("items"), list):
            raise StateError(f"{display(self.state_file)} is not a saved state of this version; "
                             "make run FRESH=1 starts over")
        return saved["items"]

    def save_items(self, encoded: bytes) -> None:
        """Replace the saved items with ``encoded`` (see :func:`encode`)."""
        write_private(self.state_file, encoded)

    def admin_token(self) -> str | None:
        """The saved bootstrap admin token, if any."""
        try:
            return self.token_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def save_admin_token(self, token: str) -> None:
        write_private(self.token_file, f"{token}\n".encode())


class WriteWatch:
    """WSGI middleware in front of moto's server: whether a DynamoDB write went through since
    the last look, so the state is dumped only when it may have changed (a dump of 1,000 tokens
    costs a quarter of a second of CPU)."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._written = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = self._app(environ, start_response)
        if environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2] in _WRITES:
            with self._lock:  # once moto has applied the write: a dump after this look sees it
                self._written = True
        return response

    def take(self) -> bool:
        """True if a write went through since the last call."""
        with self._lock:
            written, self._written = self._written, False
        return written


def encode(items: list[Item]) -> bytes:
    """The state file's bytes for ``items`` (binary attributes in base64, as DynamoDB JSON)."""
    return json.dumps({"format": FORMAT, "items": items}, default=_encode_binary, separators=(",", ":")).encode()


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, readable by this user only (0600)."""
    temporary = path.with_name(f"{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(fd, 0o600)  # also if a stale temporary file had another mode
        handle.write(data)
        handle.flush()
        os.fsync(fd)
    os.replace(temporary, path)


def dump_items(client: Any, table: str) -> list[Item]:
    """Every item of the local table, page by page.

    A Scan, on purpose: this is the operator tool of the local emulator (moto keeps nothing on
    disk), not the service, which never scans. Strongly consistent, so a save sees every write.
    """
    items: list[Item] = []
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return items


def restore_items(client: Any, table: str, items: list[Item]) -> None:
    """Write ``items`` into the (empty) local table."""
    for start in range(0, len(items), _BATCH):
        requests = {table: [{"PutRequest": {"Item": item}} for item in items[start:start + _BATCH]]}
        while requests:
            requests = client.batch_write_item(RequestItems=requests)["UnprocessedItems"]


def summary(items: list[Item]) -> str:
    """How many users, tokens and invites ``items`` hold (see chalicelib/storage/table.py's layout)."""
    kinds = [item["sk"]["S"] for item in items]
    users = kinds.count("PROFILE")
    tokens = sum(kind.startswith("TOKEN#") for kind in kinds)
    return f"{users} users, {tokens} tokens, {kinds.count('INVITE')} invites"


def use_local_dynamodb(endpoint: str) -> None:
    """Point this process's boto3 at the local DynamoDB, with fake credentials: never an AWS
    account, whatever the shell has configured."""
    os.environ.update(_LOCAL_AWS, AWS_ENDPOINT_URL_DYNAMODB=endpoint)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)


def local_table_name() -> str:
    """The table of stage ``local`` (.chalice/config.json)."""
    config = json.loads(CHALICE_CONFIG.read_text())
    return str(config["stages"]["local"]["environment_variables"]["TABLE_NAME"])


def display(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it (``.local/state.json``)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _encode_binary(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot save a {type(value).__name__}")


def _decode_binary(value: dict[str, Any]) -> dict[str, Any]:
    # An attribute value is a one-key dict: {"B": "<base64>"} or {"BS": ["<base64>", ...]}.
    if len(value) == 1 and isinstance(value.get("B"), str):
        return {"B": base64.b64decode(value["B"])}
    if len(value) == 1 and isinstance(value.get("BS"), list):
        return {"BS": [base64.b64decode(member) for member in value["BS"]]}
    return value
