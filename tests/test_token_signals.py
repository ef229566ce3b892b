"""Expiry signalling and where a token is used (issue 14)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chalicelib.services import usage
from chalicelib.timeutil import to_iso

from .conftest import Accounts, Api, DynamoCalls, FrozenClock, Identity


def entry(api: Api, token: str, token_id: str) -> dict[str, Any]:
    return next(item for item in api.get("/me/pats", token).body["items"] if item["id"] == token_id)


def test_responses_to_an_expiring_token_say_when_it_expires(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    expires_at = clock.now() + timedelta(days=6)
    owner = accounts.create(expires_at=expires_at)
    # (not a 403: the gateway answers it, with no header the token's record could fill)
    for response in (api.get("/me", owner.token), api.get("/me/pats", owner.token),
                     api.delete("/me/pats/pat_nope", owner.token)):
        assert response.headers["OpenIndex-Token-Expires"] == to_iso(expires_at), response.status


def test_no_header_for_a_token_without_expiry_or_an_unauthenticated_request(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    forever = accounts.create()
    expired = accounts.create(expires_at=clock.now() + timedelta(minutes=1))
    clock.advance(minutes=1)
    for response in (api.get("/me", forever.token), api.get("/me", expired.token), api.get("/health"),
                     api.get("/me")):
        assert "OpenIndex-Token-Expires" not in response.headers, response.status


def test_run_tokens_carry_the_header_too(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    run = accounts.run_token(api, owner, expiresInSeconds=600)
    response = api.get("/me", run["token"])
    assert response.headers["OpenIndex-Token-Expires"] == run["expiresAt"]


def test_the_list_shows_where_a_token_was_last_used_from_api_gateways_context(
    api: Api, accounts: Accounts, clock: FrozenClock, gateway_identity: Identity
) -> None:
    owner = accounts.create()
    gateway_identity("203.0.113.7")
    api.get("/me", owner.token, headers={"X-Forwarded-For": "198.51.100.1", "User-Agent": "oi/1.4 (linux)"})
    item = entry(api, owner.token, owner.token_id)
    assert (item["lastUsedAt"], item["lastUsedIp"], item["lastUsedUserAgent"]) == (
        to_iso(clock.now()), "203.0.113.7", "oi/1.4 (linux)")


def test_admins_see_it_in_a_users_list_too(
    api: Api, accounts: Accounts, gateway_identity: Identity
) -> None:
    admin, member = accounts.admin(), accounts.create()
    gateway_identity("192.0.2.44", "curl/8.5")
    api.get("/me", member.token)
    (item,) = api.get(f"/admin/users/{member.user.id}/pats", admin.token).body["items"]
    assert (item["lastUsedIp"], item["lastUsedUserAgent"]) == ("192.0.2.44", "curl/8.5")


def test_a_use_is_recorded_without_an_extra_read_and_then_at_most_every_five_minutes(
    api: Api, accounts: Accounts, clock: FrozenClock, dynamo_calls: DynamoCalls, gateway_identity: Identity
) -> None:
    owner = accounts.create()
    gateway_identity("203.0.113.7")
    dynamo_calls.clear()
    api.get("/me", owner.token)
    assert dynamo_calls.operations == ["BatchGetItem", "UpdateItem"]  # the authorizer's read, one write
    for _ in range(3):
        clock.advance(minutes=1)
        dynamo_calls.clear()
        api.get("/me", owner.token)
        assert dynamo_calls.operations == ["BatchGetItem"]
    clock.advance(minutes=2)  # five minutes since the recorded use: still fresh
    dynamo_calls.clear()
    api.get("/me", owner.token)
    assert dynamo_calls.operations == ["BatchGetItem"]
    clock.advance(seconds=1)
    dynamo_calls.clear()
    api.get("/me", owner.token)
    assert dynamo_calls.operations == ["BatchGetItem", "UpdateItem"]
    assert entry(api, owner.token, owner.token_id)["lastUsedAt"] == to_iso(clock.now())


def test_a_new_address_is_recorded_within_the_minute(
    api: Api, accounts: Accounts, clock: FrozenClock, dynamo_calls: DynamoCalls, gateway_identity: Identity
) -> None:
    owner = accounts.create()
    gateway_identity("203.0.113.7")
    api.get("/me", owner.token)
    clock.advance(seconds=10)
    gateway_identity("198.51.100.23", "other-host")
    dynamo_calls.clear()
    api.get("/me", owner.token)
    assert dynamo_calls.operations == ["BatchGetItem"]  # a use was recorded 10 s ago: it stands for this one
    clock.advance(seconds=51)  # over a minute since the last recorded use
    api.get("/me", owner.token)
    assert dynamo_calls.operations == ["BatchGetItem", "BatchGetItem", "UpdateItem"]
    assert entry(api, owner.token, owner.token_id)["lastUsedIp"] == "198.51.100.23"


def test_the_user_agent_is_cut_to_200_characters_without_control_characters(
    api: Api, accounts: Accounts, gateway_identity: Identity
) -> None:
    owner = accounts.create()
    gateway_identity("203.0.113.7", "evil\x1b[2J\u202e" + "a" * 300)
    api.get("/me", owner.token)
    agent = entry(api, owner.token, owner.token_id)["lastUsedUserAgent"]
    assert agent == ("evil[2J" + "a" * 300)[:usage.MAX_USER_AGENT]



def test_a_token_in_its_grace_window_names_its_successor_on_every_response(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    rotated = api.post("/me/pats/self/rotate", owner.token, body={"graceSeconds": 3600})
    successor = rotated.body["id"]
    assert rotated.headers["OpenIndex-Token-Rotated-To"] == successor
    for response in (api.get("/me", owner.token), api.get("/me/pats", owner.token)):
        assert response.headers["OpenIndex-Token-Rotated-To"] == successor, response.status
    assert "OpenIndex-Token-Rotated-To" not in api.get("/me", rotated.body["token"]).headers


EXPIRES = "OpenIndex-Token-Expires"


def rotate(api: Api, token: str, ref: str = "self", **body: Any) -> Any:
    return api.post(f"/me/pats/{ref}/rotate", token, **({"body": body} if body else {}))


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
