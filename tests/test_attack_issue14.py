"""Adversarial review of issue 14 (rotation, OpenIndex-Token-Expires, where a token is used).

The first group are findings: each states a promise of docs/api.md or docs/security.md and
failed when written. The second group are attacks that were tried and held, kept for the
coverage tests/test_rotation.py and tests/test_token_signals.py lack.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.errors import ServiceError
from chalicelib.model.accounts import Role, UserStatus
from chalicelib.model.caller import Caller
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.tokens import LEFT_OUT, new_token
from chalicelib.services import authentication, pats, revocation, rotation, users
from chalicelib.storage import Store
from chalicelib.storage.items import token_item
from chalicelib.storage.keys import user_pk
from chalicelib.storage.table import marshal
from chalicelib.timeutil import to_epoch, to_iso

from .conftest import TABLE, Accounts, Api, AuditLog, DynamoCalls, FrozenClock

EXPIRES = "OpenIndex-Token-Expires"


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


# Findings ------------------------------------------------------------------------------------


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


def test_a_sub_second_expiry_does_not_make_a_dead_successor_and_kill_the_old_token(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """expiresAt is checked to the microsecond (after now) but stored to the second, truncated:
    12:00:00.5Z at 12:00:00.2 passes, is stored as 12:00:00Z, and the successor is dead on
    arrival. With the default graceSeconds 0 the old token dies too: the caller is locked out
    by a 201."""
    owner = accounts.create()
    clock.advance(milliseconds=200)
    response = rotate(api, owner.token, expiresAt="2026-11-24T12:00:00.5Z")
    if response.status == 201:
        assert api.get("/me", response.body["token"]).status == 200, response.body
    else:
        assert (response.status, response.error_code) == (400, "invalid_request")
        assert api.get("/me", owner.token).status == 200


def test_a_token_on_its_way_out_cannot_leave_a_token_that_outlives_it(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """security.md: "A token never outlives the token that made it" (expiry contains a stolen
    token). The owner rotates a leaked token with an hour of grace; within the hour its holder
    makes a PAT capped at the end of the window (allowed), then has that PAT rotate itself before
    it expires, again and again ("renew, not lengthen"): a token the leaked one made lives on
    after the leaked one died, for as long as it is renewed. api.md documents renewal, but
    security.md still promises the cap and the chain defeats it."""
    owner = accounts.create()
    rotate(api, owner.token, graceSeconds=3600)  # the owner moves CI to the successor
    window_end = clock.now() + timedelta(hours=1)
    leaked = owner.token  # still works for the hour
    child = api.post("/me/pats", leaked, body={"name": "innocuous", "scope": "read_write",
                                               "expiresAt": to_iso(window_end)}).body
    held = child["token"]
    for _ in range(3):
        clock.advance(minutes=50)
        renewed = rotate(api, held)
        if renewed.status != 201:
            break
        held = renewed.body["token"]
    assert clock.now() > window_end and api.get("/me", leaked).status == 401
    assert api.get("/me", held).status == 401, "a descendant of the rotated token outlived it"


def test_the_response_to_a_self_rotation_says_when_the_calling_token_now_stops(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """api.md: every response to a request made with a token that expires carries
    OpenIndex-Token-Expires. A token rotating itself now expires at the end of its window, but
    the header is taken from what the authorizer read before the rotation: none at all for a
    token that did not expire, so the client is not told its token stops in a minute."""
    owner = accounts.create()
    response = rotate(api, owner.token, graceSeconds=60)
    assert response.status == 201
    assert response.headers.get(EXPIRES) == to_iso(clock.now() + timedelta(seconds=60)), response.headers


def test_concurrent_rotations_of_one_token_answer_the_losers_409(served_store: Store) -> None:
    """api.md: "two concurrent rotations cannot make two successors (the second gets 409)". With
    the default graceSeconds 0 the loser re-reads a token that is now expired and answers 404
    not_found, which tells a client retrying a lost response the token never existed."""
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    owner = users.create_user(served_store, email="racer@example.com", role=Role.MEMBER, now=now)
    issued = pats.issue_pat(served_store, user_id=owner.id, name="t", scope=Scope.READ_WRITE, expires_at=None,
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


def test_the_user_agent_loses_line_and_paragraph_separators_too(
    api: Api, accounts: Accounts, gateway_identity: Callable[..., None]
) -> None:
    """The user agent is whatever the client sent. Cc and Cf are removed, but U+2028 and U+2029
    (categories Zl, Zp) are line breaks to JavaScript before ES2019, to many log viewers and to
    some terminals: they survive into lastUsedUserAgent."""
    owner = accounts.create()
    gateway_identity("203.0.113.7", "oi/1.4\u2028Last used from: 10.0.0.1\u2029ok")
    api.get("/me", owner.token)
    (item,) = api.get("/me/pats", owner.token).body["items"]
    assert not set(item["lastUsedUserAgent"]) & {"\u2028", "\u2029"}, item["lastUsedUserAgent"]


def test_a_run_token_is_told_it_stops_with_its_rotated_parent(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """The same header for a run token: it dies at the end of its parent's window (the
    authorizer reads the parent in its one read), but the header keeps saying the run token's
    own expiresAt, up to a day later."""
    owner = accounts.create()
    run = accounts.run_token(api, owner, expiresInSeconds=86400)
    rotate(api, owner.token, graceSeconds=60)
    response = api.get("/me", run["token"])
    assert response.status == 200
    assert response.headers.get(EXPIRES) == to_iso(clock.now() + timedelta(seconds=60)), response.headers


def test_a_rotation_that_would_hand_out_an_admin_token_is_audited_like_a_create(
    api: Api, accounts: Accounts, audit_log: AuditLog
) -> None:
    """security.md audits `token.create` (denied) when "a token asked for a token of a higher
    scope". Rotating an admin PAT is asking for a fresh admin token; a read_write token doing so
    gets 403 and leaves no audit line at all (create_pat audits scope_escalation; rotate_pat
    raises InsufficientScope without recording)."""
    admin = accounts.admin()
    lesser = api.post("/me/pats", admin.token, body={"name": "rw", "scope": "read_write"}).body
    audit_log.lines.clear()
    assert rotate(api, lesser["token"], admin.token_id).status == 403
    denied = [event for event in audit_log.events() if event["outcome"] == "denied"]
    assert [event.get("reason") for event in denied] == ["scope_escalation"], audit_log.lines


# What held -------------------------------------------------------------------------------------


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


def test_revoke_all_after_a_rotation_takes_the_successor_and_the_old_token_in_its_window(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    owner = accounts.create()
    successor = rotate(api, owner.token, graceSeconds=3600).body
    clock.advance(seconds=1)
    assert api.post("/me/pats/revoke-all", successor["token"]).status == 204
    assert [api.get("/me", token).status for token in (owner.token, successor["token"])] == [401, 401]


def test_a_run_token_minted_inside_the_window_dies_with_it(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    rotate(api, owner.token, graceSeconds=600)
    run = accounts.run_token(api, owner, expiresInSeconds=86400)
    assert run["expiresAt"] == to_iso(clock.now() + timedelta(minutes=10))
    created = api.post("/me/pats", owner.token, body={"name": "x", "scope": "read_write"})
    assert (created.status, created.error_code) == (400, "expiry_exceeds_token")
    clock.advance(minutes=10)
    assert api.get("/me", run["token"]).status == 401


def test_the_old_token_in_its_window_cannot_rotate_its_successor_into_a_longer_lived_one(
    api: Api, accounts: Accounts
) -> None:
    owner = accounts.create()
    successor = rotate(api, owner.token, graceSeconds=600).body
    for body in ({}, {"expiresAt": None}, {"expiresAt": "2027-01-01T00:00:00Z"}):
        refused = rotate(api, owner.token, successor["id"], **body)
        assert (refused.status, refused.error_code) == (400, "expiry_exceeds_token"), body
    assert api.get("/me", successor["token"]).status == 200


def test_use_after_rotation_costs_the_authorizer_one_read_and_the_handler_one_told_event(
    api: Api, accounts: Accounts, clock: FrozenClock, dynamo_calls: DynamoCalls
) -> None:
    owner = accounts.create()
    rotate(api, owner.token)
    clock.advance(seconds=1)
    dynamo_calls.clear()
    assert api.get("/me", owner.token).status == 401
    assert dynamo_calls.operations == ["BatchGetItem", "TransactWriteItems"]  # the owner's security event
    dynamo_calls.clear()
    assert api.get("/me", owner.token).status == 401
    assert dynamo_calls.operations == ["BatchGetItem"]  # told within the hour: the item says so


def test_no_self_variant_or_odd_id_reaches_another_token_or_a_500(api: Api, accounts: Accounts) -> None:
    owner, stranger = accounts.create(), accounts.create()
    for ref in ("SELF", "Self", "self%20", "%73elf", "self.", "me", "pat_" + "z" * 26, "PAT_" + "0" * 26,
                "run_" + "0" * 26, "%F0%9F%98%80", "a" * 3000, "pat_%00", "self%2Frotate",
                stranger.token_id.upper(), stranger.user.id):
        response = rotate(api, owner.token, ref)
        assert (response.status, response.error_code) == (404, "not_found"), ref
    assert [api.get("/me", token).status for token in (owner.token, stranger.token)] == [200, 200]


@pytest.mark.parametrize("raw", [b"null", b"[]", b'"x"', b"1", b" ", b"\xff\xfe", b'{"a":' * 1000,
                                 b'{"graceSeconds": 99999999999999999999999999}', b'{"graceSeconds": true}',
                                 b'{"graceSeconds": null}', b'{"expiresAt": "9999-12-31T23:59:59Z"}',
                                 b'{"expiresAt": "2026-11-24T23:59:60Z"}', b'{"rotatedTo": "pat_x"}',
                                 b'{"scope": "admin"}'])
def test_bad_bodies_are_400_and_rotate_nothing(api: Api, accounts: Accounts, raw: bytes) -> None:
    owner = accounts.create()
    response = api.post("/me/pats/self/rotate", owner.token, raw=raw)
    assert (response.status, response.error_code) == (400, "invalid_request"), raw
    assert api.get("/me", owner.token).status == 200


def test_an_explicit_upper_case_id_rotates_the_canonical_token(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    other = api.post("/me/pats", owner.token, body={"name": "ci", "scope": "read_write"}).body
    prefix, _, body = other["id"].partition("_")
    successor = rotate(api, owner.token, f"{prefix}_{body.upper()}").body
    assert successor["rotatedFrom"] == other["id"]


def test_concurrent_rotations_leave_one_successor_stored(served_store: Store) -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    owner = users.create_user(served_store, email="racer2@example.com", role=Role.MEMBER, now=now)
    issued = pats.issue_pat(served_store, user_id=owner.id, name="t", scope=Scope.READ_WRITE, expires_at=None,
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


def test_the_expires_at_filter_matches_the_old_ttl_filter_for_every_kind_of_item(
    store: Store, store_client: Any, accounts: Accounts, clock: FrozenClock
) -> None:
    """The list filter and the delete condition moved from ``ttl`` to ``expiresAt``: for every
    item this code has ever written (every version wrote both or neither), they agree, to the
    second, with the old expression."""
    owner = accounts.create()
    base = clock.now()
    offsets = [None, -86400, -1, 0, 1, 86400]
    records = []
    for kind in (TokenKind.PAT, TokenKind.AGENT_RUN):
        for offset in offsets:
            base += timedelta(milliseconds=1)
            expires = None if offset is None else clock.now() + timedelta(seconds=offset, milliseconds=300)
            extra = {"parent_id": owner.token_id, "agent_id": "a"} if kind is TokenKind.AGENT_RUN else {}
            records.append(new_token(kind, user_id=owner.user.id, name="n", scope=Scope.READ_WRITE,
                                     expires_at=expires, now=base, **extra).record)
    for record in records:
        store_client.put_item(TableName=TABLE, Item=token_item(record))

    def live(expression: str, names: dict[str, str], now_value: Any) -> set[str]:
        items = store_client.query(
            TableName=TABLE, KeyConditionExpression="pk = :pk AND begins_with(sk, :tokens)",
            FilterExpression=expression,
            ExpressionAttributeValues=marshal({":pk": user_pk(owner.user.id), ":tokens": "TOKEN#", ":now": now_value}),
            **({"ExpressionAttributeNames": names} if names else {}), ConsistentRead=True)["Items"]
        return {item["id"]["S"] for item in items}

    for delta in (-2.0, -0.5, 0.0, 0.2, 0.3, 0.31, 0.9, 1.0, 1.3, 1.5, 2.0):
        now = clock.now() + timedelta(seconds=delta)
        old = live("attribute_not_exists(#ttl) OR #ttl > :now", {"#ttl": "ttl"}, to_epoch(now))
        new = live("attribute_not_exists(expiresAt) OR expiresAt > :now", {}, to_iso(now))
        assert old == new, delta
        by_clock = {record.id for record in records if not record.is_expired(now)} | {owner.token_id}
        assert new <= by_clock, delta  # never lists what the authorizer refuses
