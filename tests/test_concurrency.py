"""Races with real threads against moto's server: claims, delete-versus-use, creates, and
concurrent requests through the threaded `chalice local` server."""
from __future__ import annotations

import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.cli.factory import CLIFactory
from chalice.local import LocalDevServer

import app as app_module
from chalicelib.errors import InvalidToken, ServiceError
from chalicelib.model.accounts import Role
from chalicelib.model.caller import Caller
from chalicelib.model.invites import operator
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.services import authentication, invites, pats, revocation, users
from chalicelib.storage import Store

from .conftest import APP_URL, ROOT, issue_pat

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def caller_of(store: Store, token: str) -> Caller:
    return authentication.authenticate(store, f"Bearer {token}", NOW)


def test_fifty_concurrent_claims_of_one_invite_make_exactly_one_account(served_store: Store) -> None:
    sent = invites.create_invite(served_store, email="racer@example.com", role=Role.MEMBER, expires_at=None,
                                 maker=operator("usr_x"), app_url=APP_URL, now=NOW)
    racers = 50
    start = threading.Barrier(racers)

    def claim(_: int) -> str:
        start.wait()
        try:
            invites.claim_invite(served_store, sent.token, now=NOW)
        except ServiceError as error:
            return error.code
        return "claimed"

    with ThreadPoolExecutor(max_workers=racers) as pool:
        outcomes = list(pool.map(claim, range(racers)))
    assert outcomes.count("claimed") == 1
    assert set(outcomes) - {"claimed"} <= {"invite_already_claimed", "service_unavailable"}
    made = [u for u in served_store.users.page(100, None)[0] if u.email == "racer@example.com"]
    assert len(made) == 1


@pytest.mark.parametrize("how", ["delete", "revoke-all"])
def test_no_use_of_a_token_succeeds_after_its_revocation_returned(served_store: Store, how: str) -> None:
    owner = users.create_user(served_store, email="owner@example.com", role=Role.MEMBER, now=NOW)
    doomed = issue_pat(served_store, user_id=owner.id, name="doomed", scope=Scope.READ_WRITE,
                            expires_at=None, now=NOW)
    deleted_at: list[float] = []
    successes_started_after_delete: list[float] = []
    refusals_after_delete = threading.Semaphore(0)
    first_use = threading.Event()
    stop = threading.Event()

    def use() -> int:
        uses = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                caller_of(served_store, doomed.value)
            except InvalidToken:
                if deleted_at:
                    refusals_after_delete.release()
                continue
            uses += 1
            first_use.set()
            if deleted_at and started > deleted_at[0]:
                successes_started_after_delete.append(started)
        return uses

    def delete() -> None:
        try:
            assert first_use.wait(timeout=30), "the token should work before the delete"
            if how == "delete":
                revocation.delete_token(served_store, TokenKind.PAT, owner.id, doomed.record.id, now=NOW,
                                        actor_id=owner.id)
            else:
                revocation.revoke_all_tokens(served_store, owner.id, now=NOW, actor_id=owner.id)
            deleted_at.append(time.monotonic())
            for _ in range(16):  # let the users keep trying after the delete returned
                assert refusals_after_delete.acquire(timeout=30)
        finally:
            stop.set()

    with ThreadPoolExecutor(max_workers=9) as pool:
        users_running = [pool.submit(use) for _ in range(8)]
        pool.submit(delete).result()
        total_uses = sum(future.result() for future in users_running)
    assert total_uses > 0
    assert successes_started_after_delete == []
    with pytest.raises(InvalidToken):
        caller_of(served_store, doomed.value)


def test_concurrent_creates_by_one_user_are_all_listed(served_store: Store) -> None:
    owner = users.create_user(served_store, email="maker@example.com", role=Role.ADMIN, now=NOW)
    first = issue_pat(served_store, user_id=owner.id, name="first", scope=Scope.ADMIN, expires_at=None,
                           now=NOW)
    caller = caller_of(served_store, first.value)

    def create(number: int) -> str:
        issued = pats.create_pat(served_store, caller, name=f"t{number}", scope=Scope.READ_WRITE, expires_at=None,
                                 now=NOW)
        return issued.record.id

    with ThreadPoolExecutor(max_workers=16) as pool:
        created = set(pool.map(create, range(64)))
    listed: set[str] = set()
    cursor = None
    while True:
        page, cursor = pats.list_pats(served_store, owner, limit=100, cursor=cursor, now=NOW)
        listed |= {token.id for token in page}
        if cursor is None:
            break
    assert len(created) == 64 and created <= listed


@pytest.fixture
def local_server(served_store: Store, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real threaded `chalice local` server, in this process, on a free loopback port."""
    monkeypatch.setattr(app_module, "get_store", lambda: served_store)
    monkeypatch.setenv("APP_URL", APP_URL)
    config = CLIFactory(str(ROOT)).create_config_obj(chalice_stage_name="local")
    server = LocalDevServer(app_module.app, config, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server.server_address[1]}"
    server.shutdown()


def test_concurrent_requests_through_chalice_local_each_see_their_own_caller(
    local_server: str, served_store: Store
) -> None:
    holders = []
    for number in range(6):
        user = users.create_user(served_store, email=f"u{number}@example.com", role=Role.MEMBER, now=NOW)
        issued = issue_pat(served_store, user_id=user.id, name="t", scope=Scope.READ_WRITE, expires_at=None,
                                now=NOW)
        holders.append((user.id, issued.value))

    def whoami(_: int) -> tuple[str, str]:
        expected, token = random.choice(holders)
        request = urllib.request.Request(f"{local_server}/me/pats?limit=1",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            json.loads(response.read())
        request = urllib.request.Request(f"{local_server}/me", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return expected, json.loads(response.read())["id"]

    # Switch threads as often as possible, so that a request state shared between threads shows.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(whoami, range(300)))
    finally:
        sys.setswitchinterval(interval)
    mismatches = [(expected, got) for expected, got in answers if expected != got]
    assert mismatches == []
