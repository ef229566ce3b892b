"""The authorizer and the access middleware: who gets 401, 403 and 503, and at what cost."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

import app as app_module
from chalicelib.errors import InvalidToken
from chalicelib.model import flat, token_format
from chalicelib.model.accounts import Role, UserStatus
from chalicelib.model.caller import Caller
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.requirements import ANY_TOKEN
from chalicelib.services import authentication, users
from chalicelib.storage import Store

from .conftest import ADMIN_GRANT, Accounts, Api, DynamoCalls, FrozenClock, issue_pat

PAT = TokenKind.PAT.spec

INVALID_TOKEN_HEADER = 'Bearer realm="openindex", error="invalid_token"'


def assert_refused(response) -> None:
    assert response.status == 401
    assert response.error_code == "invalid_token"
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN_HEADER


def test_me_shows_the_user_and_the_token_in_use(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    response = api.get("/me", admin.token)
    assert response.status == 200
    assert response.body == {
        "id": admin.user.id,
        "email": admin.user.email,
        "role": "admin",
        "createdAt": "2026-11-24T12:00:00Z",
        "token": {"id": admin.token_id, "name": "setup", "scope": "admin", "permissions": ADMIN_GRANT, "kind": "pat",
                  "expiresAt": None, "allowedIps": []},
        "tokenLimits": {scope: {"latestExpiresAt": None, "noExpiryAllowed": True, "leftOut": "no_expiry",
                                "leftOutExpiresAt": None, "refused": None}
                        for scope in ("read", "read_write", "admin")},
    }


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "BeArEr"])
def test_the_scheme_name_is_case_insensitive(api: Api, accounts: Accounts, scheme: str) -> None:
    owner = accounts.create()
    assert api.get("/me", headers={"Authorization": f"{scheme} {owner.token}"}).status == 200


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token {token}",
        "{token}",
        "Bearer {token}x",
        "Bearer {token_upper}",
        "Bearer oi_pat_",
        "Bearer oi_inv_0000000000000000000000000000000000000000000000000000000000000000000000000000",
        "Bearer " + "A" * 10_000,
        "Bearer {token} {token}",
    ],
)
def test_malformed_headers_get_the_same_401(api: Api, accounts: Accounts, header: str) -> None:
    owner = accounts.create()
    value = header.format(token=owner.token, token_upper=owner.token.upper())
    assert_refused(api.get("/me", headers={"Authorization": value}))


def test_no_authorization_header_is_refused_by_the_gateway(api: Api) -> None:
    response = api.get("/me")
    assert response.status == 401


def test_tokens_in_the_url_or_cookies_are_ignored(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    assert api.get(f"/me?access_token={owner.token}", headers={"Authorization": "Bearer x"}).status == 401
    assert api.get("/me", headers={"Authorization": "Bearer x", "Cookie": f"token={owner.token}"}).status == 401


def test_a_forged_token_with_a_valid_checksum_but_unknown_secret_is_refused(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock
) -> None:
    owner = accounts.create()
    forged = token_format.mint(PAT, user_id=owner.user.id, token_id=owner.token_id).value
    assert forged != owner.token
    assert_refused(api.get("/me", forged))


def test_a_token_nobody_holds_gets_one_body_whatever_the_cause(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock
) -> None:
    owner = accounts.create()
    deleted = accounts.create()
    api.delete(f"/me/pats/{deleted.token_id}", deleted.token)
    forged = token_format.mint(PAT, user_id=owner.user.id, token_id=owner.token_id).value
    responses = [
        api.get("/me", "oi_pat_garbage"),
        api.get("/me", owner.token[:-1] + ("0" if owner.token[-1] != "0" else "1")),
        api.get("/me", forged),
        api.get("/me", deleted.token),
    ]
    for response in responses:
        assert_refused(response)
        assert "oi auth check" in response.body["error"]["message"]
    assert len({str(response.body) for response in responses}) == 1


def test_the_holder_of_a_real_token_learns_why_it_is_refused(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock
) -> None:
    deactivated = accounts.create()
    users.update_user(store, deactivated.user.id, status=UserStatus.DEACTIVATED, role=None, actor_id="usr_test",
                      now=clock.now())
    expiring = accounts.create(expires_at=clock.now())
    for token in (deactivated.token, expiring.token):
        assert_refused(api.get("/me", token))  # the gateway's 401 cannot say why; token-check can
    assert api.why_refused(deactivated.token) == "The account this token belongs to is deactivated."
    assert api.why_refused(expiring.token) == "This token expired at 2026-11-24T12:00:00Z; create a new one."


def test_deactivating_a_user_refuses_their_tokens_even_after_reactivation(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock
) -> None:
    owner = accounts.create()
    users.update_user(store, owner.user.id, status=UserStatus.DEACTIVATED, role=None, actor_id="usr_test",
                      now=clock.now())
    assert_refused(api.get("/me", owner.token))
    clock.advance(seconds=1)
    users.update_user(store, owner.user.id, status=UserStatus.ACTIVE, role=None, actor_id="usr_test",
                      now=clock.now())
    refused = api.get("/me", owner.token)
    assert_refused(refused)
    assert "revoked" in refused.body["error"]["message"]


def test_an_admin_token_stops_working_when_its_user_is_no_longer_admin(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock
) -> None:
    admin, _other_admin = accounts.admin(), accounts.admin()
    users.update_user(store, admin.user.id, status=None, role=Role.MEMBER, actor_id="usr_test",
                      now=clock.now())
    assert_refused(api.get("/me", admin.token))


def test_one_authorization_is_one_dynamodb_read_and_no_write_in_steady_state(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, clock: FrozenClock
) -> None:
    owner = accounts.create()
    api.get("/me", owner.token)  # first use records lastUsedAt
    clock.advance(minutes=4)
    dynamo_calls.clear()
    for _ in range(5):
        assert api.get("/me", owner.token).status == 200
    assert dynamo_calls.operations == ["BatchGetItem"] * 5


def test_a_token_with_a_bad_checksum_costs_no_dynamodb_call(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls
) -> None:
    owner = accounts.create()
    dynamo_calls.clear()
    assert_refused(api.get("/me", owner.token[:-1] + ("0" if owner.token[-1] != "0" else "1")))
    assert dynamo_calls.operations == []


def test_last_used_is_recorded_at_most_once_per_five_minutes(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, clock: FrozenClock
) -> None:
    owner = accounts.create()

    def last_used() -> str | None:
        items = api.get("/me/pats", owner.token).body["items"]
        return next(item["lastUsedAt"] for item in items if item["id"] == owner.token_id)

    first = last_used()
    assert first == "2026-11-24T12:00:00Z"
    clock.advance(minutes=4, seconds=59)
    assert last_used() == first
    clock.advance(seconds=2)
    assert last_used() == "2026-11-24T12:05:01Z"


def test_a_request_without_a_verdict_is_refused(store: Store) -> None:
    with pytest.raises(InvalidToken):
        authentication.caller_from_verdict(None)
    with pytest.raises(InvalidToken):
        authentication.caller_from_verdict({"verdict": "maybe"})


def test_every_route_behind_the_authorizer_states_its_requirement() -> None:
    for path, methods in app_module.app.routes.items():
        for method, entry in methods.items():
            if entry.authorizer is not None:
                assert entry.authorizer.name == "bearer_token", (method, path)
                assert (path, method) in app_module.NEEDS, (method, path)
    assert app_module.NEEDS[("/me", "GET")].requirement is ANY_TOKEN


def test_issued_tokens_store_only_a_digest(store: Store, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    issued = issue_pat(
        store, user_id=owner.user.id, name="x", scope=Scope.READ_WRITE, expires_at=None, now=clock.now()
    )
    _, found, _ = store.tokens.load_credential(owner.user.id, [issued.record.id])
    record = found[issued.record.id]
    assert len(record.digest) == 32
    assert issued.value.encode() != record.digest


def test_the_authorizer_context_keeps_the_keys_every_handler_version_reads() -> None:
    """The authorizer and the API handler are two Lambda functions that a deploy updates one after
    the other: the context's keys stay what the handler before the flat codec read."""
    caller = Caller(user_id="usr_1", email="a@example.com", role=Role.ADMIN,
                    user_created_at=datetime(2026, 1, 1, tzinfo=UTC), token_id="pat_01J000000000000000000000",
                    token_name="t", scope=Scope.ADMIN, kind=TokenKind.PAT, expires_at=None,
                    tokens_revoked_at_ms=5, admin_tokens_revoked_at_ms=7, lineage_issued_ms=3)
    assert set(flat.encode(caller)) == {
        "userId", "email", "role", "userCreatedAt", "tokenId", "tokenName", "scope", "kind", "expiresAt", "stopsAt",
        "agentId", "stage", "tokensRevokedAt", "adminTokensRevokedAt", "rotatedTo", "policy",
        "lineageIssuedAt", "revocationsSeen", "userRevocations", "permissions", "allowedIps"}  # not the earlier uses


def test_the_context_codec_round_trips_every_caller_field_at_its_edges() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    edges = Caller(user_id="usr_1", email="", role=Role.MEMBER, user_created_at=when, token_id="pat_1",
                   token_name="", scope=Scope.READ_WRITE, kind=TokenKind.AGENT_RUN, expires_at=None, stops_at=when,
                   agent_id=None, stage="", tokens_revoked_at_ms=0, admin_tokens_revoked_at_ms=None, rotated_to=None,
                   policy="", last_used_at=None, last_used_ip=None, lineage_issued_ms=0, revocations_seen=(0, 0),
                   user_revocations=(0, 0))
    assert flat.decode(Caller, flat.encode(edges)) == dataclasses.replace(edges, stage=None)  # "" is None
