"""Fixtures and helpers shared by the test modules: a moto table built from infra/, a frozen clock,
the Chalice test client, accounts, the `oi` runner and its config file (test modules import from
here, never from one another)."""
from __future__ import annotations

import gc
import json
import logging
import os
import re
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import boto3
import httpx
import keyring
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from chalice.local import LambdaEventConverter
from chalice.test import Client
from click.testing import CliRunner, Result
from keyring.backends import fail
from moto import mock_aws
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

import app as app_module
from chalicelib import audit
from chalicelib.messaging.bus import EventBridgeBus
from chalicelib.model import token_format
from chalicelib.model.accounts import Role, User
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.tokens import IssuedToken, new_token
from chalicelib.services import expiry_notices, revocation, users
from chalicelib.settings import Settings
from chalicelib.storage import Store
from openindex_cli.main import Context as CliContext
from openindex_cli.main import oi
from openindex_ops import example_service
from openindex_ops.local_gateway import as_deployed
from openindex_ops.table import create_table

from .session_checks import iam_problems, is_full_run

# Helper modules whose asserts should explain themselves like a test's (imported after this line).
pytest.register_assert_rewrite("tests.local_server")

ROOT = Path(__file__).resolve().parent.parent
TABLE = "openindex-auth-test"
# What each preset grants, family by family, as every token answer spells it.
READ_WRITE_GRANT = {"work_items": "write", "queues": "write", "domains": "write", "workflows": "write",
                    "calendar_sources": "write", "conversations": "write", "users": "none", "ai_providers": "none",
                    "email": "none", "instance_settings": "none", "token_introspection": "none"}
ADMIN_GRANT = dict.fromkeys(READ_WRITE_GRANT, "write")
APP_URL = "https://openindex.test"
# One session for every moto-backed client: it keeps botocore's loaded models, which mock_aws
# resets on boto3's default session (a new client there costs ~50 ms; here ~2 ms).
SESSION = boto3.session.Session()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Spare the garbage collector the session's permanent objects. What is alive once the tests
    are collected (botocore's service models, moto's backends, the app and every test module, some
    200,000 objects) stays alive until the end, yet each full collection walked all of it again,
    every few tests: a quarter of the run's time. Frozen, they are never scanned; and with a larger
    first generation the collector runs a tenth as often. Garbage is still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@pytest.fixture(autouse=True)
def aws_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no custom endpoint, so nothing can reach a real AWS account."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@dataclass
class DynamoCalls:
    """Every DynamoDB operation the store's client sends, in order (botocore event hooks)."""

    operations: list[str] = field(default_factory=list)

    def record(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    def clear(self) -> None:
        self.operations.clear()


# The IAM action each DynamoDB call needs, per Lambda function, across the whole session
# (the session check in tests/session_checks.py holds each function's policy against them). A call made while
# the authorizer (or the sweeper) runs is its own; every other call is the API handler's.
IAM_ACTIONS_USED: dict[str, set[str]] = {"authorizer": set(), "handler": set(), "sweeper": set(), "notices": set()}
_FUNCTION_CODE = {app_module.bearer_token.func.__code__: "authorizer",
                  revocation.sweep_revoked_tokens.__code__: "sweeper",
                  expiry_notices.announce_expiring_tokens.__code__: "notices",
                  # innermost wins: a request a test interleaves into a scheduled run is the handler's
                  app_module.enforce_access.__code__: "handler"}
_TRANSACT_ACTIONS = {
    "Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"
}


def record_iam_actions(model: Any, params: dict[str, Any], **_: Any) -> None:
    used = IAM_ACTIONS_USED[_calling_function()]
    if model.name == "TransactWriteItems":
        for write in params["TransactItems"]:
            used.update(f"dynamodb:{_TRANSACT_ACTIONS[kind]}" for kind in write)
    else:
        used.add(f"{model.service_model.signing_name}:{model.name}")


def _calling_function() -> str:
    """Which Lambda makes the call: the innermost function of the map above on the stack, else the handler."""
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code in _FUNCTION_CODE:
            return _FUNCTION_CODE[frame.f_code]
        frame = frame.f_back  # type: ignore[assignment]
    return "handler"


def watch(client: Any, calls: DynamoCalls | None = None) -> Any:
    """Record the IAM actions (and optionally the operations) a store or bus client uses."""
    client.meta.events.register(f"provide-client-params.{client.meta.service_model.service_id.hyphenize()}.*",
                                record_iam_actions)
    if calls is not None:
        client.meta.events.register("before-call.dynamodb.*", calls.record)
    return client


class SecretWatch(logging.Handler):
    """Every token value minted in this session, and every place one showed up that it must not:
    a log line, a stored item, or a response other than the one that created it."""

    TOKEN_SHAPE = re.compile(r"oi_[a-z]+_[0-9A-Za-z]{20,}")

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.minted: list[str] = []
        self.known: set[str] = set()
        self.leaks: list[str] = []
        self.places_checked = 0

    def record_mint(self, minted: token_format.MintedToken) -> token_format.MintedToken:
        self.minted.append(minted.value)
        self.known.add(minted.value)
        return minted

    def check(self, place: str, text: str, allowed: frozenset[str] = frozenset()) -> None:
        self.places_checked += 1
        for found in self.TOKEN_SHAPE.findall(text):
            if found in self.known and found not in allowed:
                self.leaks.append(f"{place}: {found[:12]}…")

    def emit(self, record: logging.LogRecord) -> None:
        self.check(f"log {record.name}", self.format(record))


SECRETS = SecretWatch()


@pytest.fixture(scope="session", autouse=True)
def secret_watch() -> Iterator[SecretWatch]:
    """Watches the whole session: tokens are recorded as they are minted, logs as they are written."""
    original_mint = token_format.mint
    root = logging.getLogger()
    previous_level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(SECRETS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(token_format, "mint", lambda *args, **ids: SECRETS.record_mint(original_mint(*args, **ids)))
        yield SECRETS
    root.removeHandler(SECRETS)
    root.setLevel(previous_level)


def check_table(client: Any, table: str, place: str) -> None:
    """No stored item may hold a token value."""
    paginator = client.get_paginator("scan")  # tests only: the application never scans
    for page in paginator.paginate(TableName=table):
        SECRETS.check(place, repr(page["Items"]))


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """moto's in-process DynamoDB with the table created from infra/table.yaml (an admin client)."""
    with mock_aws():
        client = SESSION.client("dynamodb")
        create_table(client, TABLE)
        yield client
        check_table(client, TABLE, "table item")


@pytest.fixture
def dynamo_calls() -> DynamoCalls:
    return DynamoCalls()


@pytest.fixture
def store_client(dynamodb: Any, dynamo_calls: DynamoCalls) -> Any:
    """The client the application's store uses: every call it makes is watched, and held to a
    rule of DynamoDB's that moto does not enforce."""
    client = watch(SESSION.client("dynamodb"), dynamo_calls)
    client.meta.events.register("provide-client-params.dynamodb.Query", reject_filters_on_key_attributes)
    return client


def reject_filters_on_key_attributes(params: dict[str, Any], **_: Any) -> None:
    """DynamoDB refuses a Query whose FilterExpression names a key attribute ("Filter Expression
    can only contain non-primary key attributes"); moto answers it."""
    names = params.get("ExpressionAttributeNames", {})
    filtered = re.findall(r"#?[A-Za-z_][A-Za-z0-9_]*", params.get("FilterExpression", ""))
    if {names.get(name, name) for name in filtered} & {"pk", "sk"}:
        raise ClientError({"Error": {"Code": "ValidationException", "Message": "Filter Expression can only contain "
                           "non-primary key attributes"}}, "Query")


@pytest.fixture
def store(store_client: Any) -> Store:
    return Store(store_client, TABLE)


class BusReader:
    """moto's EventBridge, and what a rule on its default bus delivered to a queue: as the mail
    service would receive the service's events."""

    def __init__(self) -> None:
        self.bus = EventBridgeBus(watch(SESSION.client("events")))
        self._sqs = SESSION.client("sqs")
        self._queue = self._sqs.create_queue(QueueName="mail-service")["QueueUrl"]
        queue = self._sqs.get_queue_attributes(QueueUrl=self._queue, AttributeNames=["QueueArn"])["Attributes"]
        events = SESSION.client("events")
        events.put_rule(Name="openindex-auth-events", EventPattern=json.dumps({"source": ["openindex.auth"]}))
        events.put_targets(Rule="openindex-auth-events", Targets=[{"Id": "mail-service", "Arn": queue["QueueArn"]}])

    def received(self) -> list[dict[str, Any]]:
        """The events delivered since the last call, in full (EventBridge's envelope)."""
        delivered: list[dict[str, Any]] = []
        while messages := self._sqs.receive_message(QueueUrl=self._queue, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                delivered.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self._queue, ReceiptHandle=message["ReceiptHandle"])
        SECRETS.check("an event on the bus", json.dumps(delivered))
        return delivered


@pytest.fixture
def bus_reader(dynamodb: Any) -> BusReader:
    """EventBridge (moto, in the same sandbox as the table) with a reader of its default bus."""
    return BusReader()


ARN = "arn:aws:execute-api:eu-west-1:123456789012:otherapi/prod/{method}/{path}"


def request(token: str | None, method: str, path: str, ip: str = "198.51.100.9") -> dict[str, Any]:
    """A REQUEST authorizer's event, as API Gateway sends it for another API's route."""
    sent = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return {"type": "REQUEST", "methodArn": ARN.format(method=method, path=path.removeprefix("/")),
            "headers": sent, "requestContext": {"identity": {"sourceIp": ip, "userAgent": "svc/1"}}}


@pytest.fixture
def authorize(store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """The deployed authorizer Lambda's handler, on the test's store and clock."""
    monkeypatch.setattr(app_module, "get_store", lambda: store)
    monkeypatch.setattr(app_module, "utcnow", clock.now)
    return lambda event: app_module.bearer_token(event, {})


def effect(answer: dict[str, Any]) -> tuple[str, list[str]]:
    (statement,) = answer["policyDocument"]["Statement"]
    return statement["Effect"], statement["Resource"]


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC))


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error_code(self) -> str:
        return self.body["error"]["code"]


class Api:
    """The Chalice test client (same local gateway as `chalice local`), speaking JSON."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        minted_before = len(SECRETS.minted)
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if body is not None:
            raw = json.dumps(body).encode()
        if raw is not None:
            sent.setdefault("Content-Type", "application/json")
        response = self.http.request(method, path, headers=sent, body=raw or b"")
        text = response.body.decode() if response.body else ""
        SECRETS.check(f"response to {method} {path}", text, allowed=frozenset(SECRETS.minted[minted_before:]))
        return ApiResponse(response.status_code, dict(response.headers), json.loads(text) if text else None)

    def why_refused(self, token: str) -> str:
        """Why the gateway refuses ``token`` (its 401 cannot say), as ``POST /auth/token-check``
        tells its holder."""
        answer = self.post("/auth/token-check", body={"token": token}).body
        assert answer["active"] is False, answer
        return str(answer["message"])

    def patch(self, path: str, token: str | None = None, **kwargs: Any) -> ApiResponse:
        return self.request("PATCH", path, token, **kwargs)

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, token, **kwargs)

    def post(self, path: str, token: str | None = None, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, token, **kwargs)

    def delete(self, path: str, token: str | None = None, **kwargs: Any) -> ApiResponse:
        return self.request("DELETE", path, token, **kwargs)


@pytest.fixture
def api(store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setattr(app_module, "get_store", lambda: store)
    monkeypatch.setattr(app_module, "utcnow", clock.now)
    monkeypatch.setattr(app_module, "settings", lambda: Settings(table_name=TABLE, app_url=APP_URL))
    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
        yield Api(as_deployed(client.http, app_module.app))


@dataclass
class Account:
    """A user and one PAT of theirs."""

    user: User
    token: str
    token_id: str


def issue_pat(store: Store, *, user_id: str, name: str, scope: Scope, expires_at: datetime | None,
              now: datetime) -> IssuedToken:
    """A PAT stored straight into the table, with no token making it (as the operator tools do)."""
    issued = new_token(TokenKind.PAT, user_id=user_id, name=name, scope=scope, expires_at=expires_at, now=now)
    store.tokens.put(issued.record)
    return issued


class Accounts:
    """Makes users with a PAT each, straight through the domain (no HTTP)."""

    def __init__(self, store: Store, clock: FrozenClock) -> None:
        self._store = store
        self._clock = clock
        self._count = 0

    def create(
        self,
        role: Role = Role.MEMBER,
        scope: Scope = Scope.READ_WRITE,
        expires_at: datetime | None = None,
    ) -> Account:
        self._count += 1
        email = f"user{self._count}@example.com"
        user = users.create_user(self._store, email=email, role=role, now=self._clock.now())
        issued = issue_pat(self._store, user_id=user.id, name="setup", scope=scope, expires_at=expires_at,
                                now=self._clock.now())
        return Account(user=user, token=issued.value, token_id=issued.record.id)

    def admin(self) -> Account:
        return self.create(Role.ADMIN, Scope.ADMIN)

    def run_token(self, api: Api, owner: Account, **body: Any) -> dict[str, Any]:
        """An agent run token minted through the API from ``owner``'s PAT."""
        response = api.post("/workflows/agent-run-tokens", owner.token, body={"agentId": "agent-alpha", **body})
        assert response.status == 201, response.body
        return response.body


@pytest.fixture
def accounts(store: Store, clock: FrozenClock) -> Accounts:
    return Accounts(store, clock)


@pytest.fixture
def served_store() -> Iterator[Store]:
    """A store on moto's HTTP server, for races with real threads.

    The server handles one request at a time, like DynamoDB serializing conflicting writes, so
    racing clients interleave between their requests exactly where our code could go wrong.
    """
    server = make_server(
        "127.0.0.1", 0, DomainDispatcherApplication(create_backend_app),
        threaded=False, request_handler=MotoRequestHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    def new_client() -> Any:
        return boto3.client(
            "dynamodb", endpoint_url=f"http://127.0.0.1:{server.server_port}", config=Config(max_pool_connections=64)
        )

    client = new_client()
    table = f"{TABLE}-served"
    create_table(client, table)
    try:
        yield Store(watch(new_client()), table)
        check_table(client, table, "table item (server)")
    finally:
        client.delete_table(TableName=table)
        server.shutdown()
        thread.join()


class ChaliceTransport(httpx.BaseTransport):
    """Sends the CLI's HTTP requests to the real app through the Chalice test client."""

    def __init__(self, http: Any) -> None:
        self._http = http

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = {name: value for name, value in request.headers.items() if name not in ("host", "content-length")}
        answer = self._http.request(request.method, request.url.raw_path.decode(), headers=headers,
                                    body=request.read())
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.body)


class Cli:
    """Runs `oi` with click's CliRunner against the app, with a private config home, on the app's
    frozen clock (expiry warnings and durations count from the same now as the server)."""

    def __init__(self, transport: httpx.BaseTransport, clock: FrozenClock) -> None:
        self.transport = transport
        self.clock = clock
        self.runner = CliRunner()
        self.zone: tzinfo = UTC  # the terminal's time zone: sentences tell times on its clock

    def __call__(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        context = CliContext(transport=self.transport, now=self.clock.now, zone=self.zone)
        return self.runner.invoke(oi, list(args), obj=context, env=env, input=input)


@pytest.fixture
def cli(api: Api, clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    for name in ("OPENINDEX_TOKEN", "OPENINDEX_APP_URL", "OPENINDEX_PROFILE", "OPENINDEX_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return Cli(ChaliceTransport(api.http), clock)


@pytest.fixture(autouse=True)
def no_keychain() -> Iterator[None]:
    """A machine without a system keychain (a server, CI): `oi` keeps tokens in its 0600 file,
    unless a test gives it one (tests/test_cli_keychain.py)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def config_file(tmp_path: Path) -> Path:
    """Where the ``cli`` fixture's `oi` keeps its profiles."""
    return tmp_path / "xdg" / "openindex" / "config.toml"


def stored(tmp_path: Path) -> dict[str, Any]:
    """The profiles in that file, as `oi` wrote them."""
    return tomllib.loads(config_file(tmp_path).read_text())["profiles"]


def login(cli: Cli, token: str, profile: str = "default") -> None:
    """Store ``token`` and the app's URL in ``profile``, as a person would."""
    result = cli("profile", "set", "--profile", profile, "--app-url", APP_URL, "--token", "-", input=token + "\n")
    assert result.exit_code == 0, result.output


def one_line(stderr: str) -> str:
    """The one error line on stderr (warnings aside)."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.strip().splitlines() if not line.startswith("oi: warning:")]
    assert len(lines) == 1, stderr
    return lines[0]


class Recording(httpx.BaseTransport):
    """Passes requests on to ``inner`` and keeps them, to show which were (not) sent."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    @property
    def methods(self) -> list[str]:
        """``GET /me``, … : what was sent, in order."""
        return [f"{request.method} {request.url.path}" for request in self.requests]


@pytest.fixture
def sent(cli: Cli) -> Recording:
    """Every request `oi` sends from now on."""
    cli.transport = Recording(cli.transport)
    return cli.transport


@pytest.fixture
def at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard input is a terminal: questions are asked (CliRunner's input answers them)."""
    from openindex_cli import commands
    from openindex_cli import invites as cli_main

    for module in (commands, cli_main):
        monkeypatch.setattr(module, "stdin_is_terminal", lambda: True)


class AuditLog(logging.Handler):
    """Collects the audit trail's JSON lines (instead of standard output) for assertions."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(audit.JsonLines())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        SECRETS.check("audit log", line)
        self.lines.append(line)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        entries = [json.loads(line) for line in self.lines]
        return [entry for entry in entries if name is None or entry["audit"] == name]


@pytest.fixture(autouse=True)
def audit_log(monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    collector = AuditLog()
    monkeypatch.setattr(logging.getLogger(audit.LOGGER_NAME), "handlers", [collector])
    return collector


_SESSION_REPORT: list[str] = []
_WORKER_REPORTS: list[dict[str, Any]] = []  # with pytest-xdist: what each worker process saw


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist, in the controller: a worker is done; keep what it saw for the session checks."""
    if report := getattr(node, "workeroutput", {}).get("session_checks"):
        _WORKER_REPORTS.append(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The session-wide checks (see tests/session_checks.py): a failure fails the run.

    Under pytest-xdist each worker process sees only its share of the tests: a worker hands its
    IAM actions and leaks to the controller, which checks them all together. (A token value can
    only show up in the process that minted it, so each worker's leak check is complete.)"""
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:
        worker_output["session_checks"] = {
            "iam": {function: sorted(actions) for function, actions in IAM_ACTIONS_USED.items()},
            "leaks": list(SECRETS.leaks), "minted": len(SECRETS.minted), "places": SECRETS.places_checked,
        }
        return
    minted, places = len(SECRETS.minted), SECRETS.places_checked
    for report in _WORKER_REPORTS:
        for function, actions in report["iam"].items():
            IAM_ACTIONS_USED[function].update(actions)
        SECRETS.leaks.extend(report["leaks"])
        minted, places = minted + report["minted"], places + report["places"]
    full_run = is_full_run(session, ROOT)
    problems = [f"token value leaked: {leak}" for leak in SECRETS.leaks]
    problems += iam_problems(IAM_ACTIONS_USED, ROOT / ".chalice", full_run)
    _SESSION_REPORT.append(
        f"secret watch: {minted} tokens minted, {places} places checked, "
        f"{len(SECRETS.leaks)} leaks; IAM: each function's policy checked against its calls"
        + (" (exactly, a full run)" if full_run else " (allowed only: not a full run)")
    )
    _SESSION_REPORT.extend(f"FAILED session check: {problem}" for problem in problems)
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _SESSION_REPORT:
        terminalreporter.write_line(line)


Identity = Callable[..., None]


@pytest.fixture
def work_items(api: Api, dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The example, served as make run serves it: behind this service's authorizer (``api``
    puts the authorizer on the test's store and clock)."""
    example_service.create_table(dynamodb)
    monkeypatch.setenv(example_service.TABLE_VARIABLE, example_service.LOCAL_TABLE)
    example = example_service.load_app()
    with Client(example) as client:
        yield Api(as_deployed(client.http, example, attached=app_module.bearer_token))


@pytest.fixture
def gateway_identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[Identity]:
    """Sets what API Gateway puts in ``requestContext.identity`` (source address, user agent)
    for the next requests; chalice.local always says 127.0.0.1 and records no user agent."""
    seen: dict[str, Any] = {"sourceIp": "127.0.0.1"}
    create = LambdaEventConverter.create_lambda_event

    def with_identity(self: Any, *args: Any, **kwargs: Any) -> Any:
        event = create(self, *args, **kwargs)
        event["requestContext"]["identity"] = dict(seen)
        return event

    monkeypatch.setattr(LambdaEventConverter, "create_lambda_event", with_identity)

    def set_identity(ip: str, user_agent: str | None = None) -> None:
        seen.clear()
        seen.update(sourceIp=ip, **({"userAgent": user_agent} if user_agent is not None else {}))

    yield set_identity


def lands_just_before(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, clock: FrozenClock,
                      concurrent: Callable[[], None], skew_ms: float) -> None:
    """Run ``concurrent`` (another Lambda's request, whose clock reads ``skew_ms`` later) once,
    after ``target.name`` is called and before it runs: a deterministic interleaving of two
    requests, with a hook instead of a sleep."""
    original = getattr(target, name)
    raced: list[bool] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        if not raced:  # once: later calls run as they are
            raced.append(True)
            clock.advance(milliseconds=skew_ms)
            concurrent()
            clock.advance(milliseconds=-skew_ms)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, racing)
