"""Rotation racing other requests: a rotation authorized just before a revoke-all, a demotion or a
deactivation, a token rotated away while it creates or rotates, concurrent rotations of one token."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.errors import ServiceError
from chalicelib.model.accounts import Role, UserStatus
from chalicelib.model.caller import Caller
from chalicelib.model.kinds import Scope
from chalicelib.model.tokens import LEFT_OUT
from chalicelib.services import authentication, pats, revocation, rotation, users
from chalicelib.storage import Store

from .conftest import Accounts, Api, FrozenClock, issue_pat


def rotate(api: Api, token: str, ref: str = "self", **body: Any) -> Any:
    return api.post(f"/me/pats/{ref}/rotate", token, **({"body": body} if body else {}))


def caller_of(store: Store, token: str, now: datetime) -> Caller:
    return authentication.authenticate(store, f"Bearer {token}", now)


def lands_between_authorizer_and_view(
    monkeypatch: pytest.MonkeyPatch, clock: FrozenClock, module: ModuleType, name: str, concurrent: Callable[[], object]
) -> None:
    """Run ``concurrent`` (another request) after the authorizer allowed the caller and before the
    view named ``module.name`` takes its clock: the window between the authorizer Lambda and the handler."""
    original = getattr(module, name)

    def racing(store: Store, caller: Caller, *args: Any, **kwargs: Any) -> Any:
        clock.advance(milliseconds=5)
        concurrent()
        clock.advance(milliseconds=5)
        return original(store, caller, *args, **{**kwargs, "now": clock.now()})

    monkeypatch.setattr(module, name, racing)


def rotate_now(store: Store, clock: FrozenClock, rotating_token: str, ref: str, grace_seconds: int = 0) -> Any:
    """A rotation through the domain, as another request would make it (not the patched view)."""
    return ORIGINAL_ROTATE(store, caller_of(store, rotating_token, clock.now()), ref,
                           expires_at=LEFT_OUT, grace_seconds=grace_seconds, now=clock.now())


ORIGINAL_ROTATE = rotation.rotate_pat


def test_a_pat_created_just_as_its_creator_is_rotated_away_is_not_created(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """security.md, "No window between the authorizer and the write" and "A token never outlives
    the token that made it". The victim rotates a leaked token with graceSeconds 0 ("refused
    from the next request"); the thief's POST /me/pats, authorized a moment before, lands after
    it. put_created_by only checks that the creator's item still exists, and a rotated item is
    kept 30 days, so the dead token leaves a live PAT behind that never expires."""
    victim = accounts.create()
    console = api.post("/me/pats", victim.token, body={"name": "console", "scope": "read_write"}).body
    leaked = victim.token
    lands_between_authorizer_and_view(monkeypatch, clock, pats, "create_pat",
                                      lambda: rotate_now(store, clock, console["token"], victim.token_id))
    spawned = api.post("/me/pats", leaked, body={"name": "persist", "scope": "read_write"})
    clock.advance(days=400)
    survives = spawned.status == 201 and api.get("/me", spawned.body["token"]).status == 200
    assert (spawned.status, survives) == (401, False), (spawned.status, spawned.body)


def test_a_rotation_made_by_a_token_rotated_away_meanwhile_rotates_nothing(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same window in the rotation route itself: rotate() checks the rotating token only with
    attribute_exists. The victim (token A) rotates the thief's leaked token B away with grace 0;
    the thief's "rotate A", authorized just before, lands after: the thief gets A's successor
    and the victim's own token A stops working."""
    victim = accounts.create()
    leaked = api.post("/me/pats", victim.token, body={"name": "laptop", "scope": "read_write"}).body
    lands_between_authorizer_and_view(monkeypatch, clock, rotation, "rotate_pat",
                                      lambda: rotate_now(store, clock, victim.token, leaked["id"]))
    stolen = rotate(api, leaked["token"], victim.token_id)
    assert (stolen.status, api.get("/me", victim.token).status) == (401, 200), stolen.body


def test_a_transaction_conflict_during_rotation_is_not_a_500(
    api: Api, accounts: Accounts, store_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB cancels a transaction with TransactionConflict when another write touches one of
    its items at the same moment (a concurrent rotation, the holder's own request recording its
    last use, a revoke-all on the user item). Table.transact raises ConcurrentChange, which
    rotate_pat does not catch: a 500 instead of the documented 409 (or a 503 to retry)."""
    owner = accounts.create()

    def conflict(**params: Any) -> None:
        reasons = [{"Code": "None"}, {"Code": "TransactionConflict"}] + [{"Code": "None"}] * (
            len(params["TransactItems"]) - 2)
        response: Any = {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                         "CancellationReasons": reasons}
        raise ClientError(response, "TransactWriteItems")

    monkeypatch.setattr(store_client, "transact_write_items", conflict)
    response = rotate(api, owner.token, graceSeconds=60)
    assert response.status in (409, 503), (response.status, response.body)
    assert response.status != 500


def test_concurrent_rotations_of_one_token_answer_the_losers_409(served_store: Store) -> None:
    """api.md: "two concurrent rotations cannot make two successors (the second gets 409)". With
    the default graceSeconds 0 the loser re-reads a token that is now expired and answers 404
    not_found, which tells a client retrying a lost response the token never existed."""
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    owner = users.create_user(served_store, email="racer@example.com", role=Role.MEMBER, now=now)
    issued = issue_pat(served_store, user_id=owner.id, name="t", scope=Scope.READ_WRITE, expires_at=None,
                            now=now)
    caller = caller_of(served_store, issued.value, now)
    racers = 8
    start = threading.Barrier(racers)

    def race(_: int) -> str:
        start.wait()
        try:
            rotation.rotate_pat(served_store, caller, "self", expires_at=LEFT_OUT, grace_seconds=0,
                                now=now)
        except ServiceError as error:
            return error.code
        return "rotated"

    with ThreadPoolExecutor(max_workers=racers) as pool:
        outcomes = list(pool.map(race, range(racers)))
    assert outcomes.count("rotated") == 1
    assert set(outcomes) - {"rotated"} <= {"already_rotated"}, outcomes


def test_a_rotation_authorized_just_before_a_revoke_all_rotates_nothing(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = accounts.create()
    lands_between_authorizer_and_view(monkeypatch, clock, rotation, "rotate_pat", lambda: revocation.revoke_all_tokens(
        store, victim.user.id, now=clock.now(), actor_id=victim.user.id))
    response = rotate(api, victim.token, graceSeconds=3600)
    assert (response.status, response.error_code) == (401, "invalid_token")
    (item,) = store.tokens.get_many(victim.user.id, [victim.token_id]).values()
    assert item.rotated_to is None  # nothing half-written


def test_a_rotation_authorized_just_before_a_demotion_makes_no_admin_token(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = accounts.admin(), accounts.admin()
    lands_between_authorizer_and_view(monkeypatch, clock, rotation, "rotate_pat", lambda: users.update_user(
        store, second.user.id, status=None, role=Role.MEMBER, actor_id=first.user.id, now=clock.now()))
    response = rotate(api, second.token)
    assert (response.status, response.error_code) == (401, "invalid_token")
    clock.advance(seconds=1)
    assert api.patch(f"/admin/users/{second.user.id}", first.token, body={"role": "admin"}).status == 200
    assert api.get("/me", second.token).status == 401


def test_a_rotation_authorized_just_before_a_deactivation_rotates_nothing(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, member = accounts.admin(), accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "spare", "scope": "read_write"}).body
    lands_between_authorizer_and_view(monkeypatch, clock, rotation, "rotate_pat", lambda: users.update_user(
        store, member.user.id, status=UserStatus.DEACTIVATED, role=None, actor_id=admin.user.id, now=clock.now()))
    response = rotate(api, member.token, spare["id"])
    assert (response.status, response.error_code) == (401, "invalid_token")
    clock.advance(seconds=1)
    assert api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "active"}).status == 200
    assert [api.get("/me", token).status for token in (member.token, spare["token"])] == [401, 401]


def test_concurrent_rotations_leave_one_successor_stored(served_store: Store) -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    owner = users.create_user(served_store, email="racer2@example.com", role=Role.MEMBER, now=now)
    issued = issue_pat(served_store, user_id=owner.id, name="t", scope=Scope.READ_WRITE, expires_at=None,
                            now=now)
    caller = caller_of(served_store, issued.value, now)
    racers = 8
    start = threading.Barrier(racers)

    def race(_: int) -> str | None:
        start.wait()
        try:
            return rotation.rotate_pat(served_store, caller, "self", expires_at=LEFT_OUT,
                                       grace_seconds=600, now=now).successor.record.id
        except ServiceError:
            return None

    with ThreadPoolExecutor(max_workers=racers) as pool:
        made = [token_id for token_id in pool.map(race, range(racers)) if token_id]
    assert len(made) == 1
    listed, _ = pats.list_pats(served_store, owner, limit=100, cursor=None, now=now)
    assert sorted(token.id for token in listed) == sorted([issued.record.id, made[0]])
