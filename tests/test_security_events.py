"""Security events (issue 15): the owner of a token learns what happened to it, and no one else does."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import yaml

from chalicelib.model.accounts import Role
from chalicelib.model.events import EventType
from chalicelib.model.kinds import Scope

from .conftest import ROOT, Account, Accounts, Api, DynamoCalls, FrozenClock


def events(api: Api, account: Account | str, **query: Any) -> list[dict[str, Any]]:
    token = account if isinstance(account, str) else account.token
    suffix = "?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else ""
    response = api.get(f"/me/security-events{suffix}", token)
    assert response.status == 200, response.body
    return list(response.body["items"])


def types(api: Api, account: Account | str) -> list[str]:
    return [event["type"] for event in events(api, account)]


def test_an_admin_revoking_a_token_tells_its_owner_only(api: Api, accounts: Accounts) -> None:
    admin, member, bystander = accounts.admin(), accounts.create(), accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "laptop", "scope": "read_write"}).body
    assert api.delete(f"/admin/users/{member.user.id}/pats/{spare['id']}", admin.token).status == 204
    (event,) = events(api, member)
    assert set(event) == {"id", "type", "tokenId", "tokenName", "at", "detail"}
    assert (event["type"], event["tokenId"], event["tokenName"]) == ("token_revoked_by_admin", spare["id"], "laptop")
    assert "administrator" in event["detail"] and "laptop" in event["detail"]
    assert types(api, admin) == [] and types(api, bystander) == []


def test_deleting_ones_own_token_is_not_an_event(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "old", "scope": "read_write"}).body
    api.delete(f"/me/pats/{spare['id']}", member.token)
    assert types(api, member) == []


def test_an_admin_revoking_a_run_token_tells_its_owner(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    run = accounts.run_token(api, member)
    api.delete(f"/admin/users/{member.user.id}/agent-run-tokens/{run['id']}", admin.token)
    (event,) = events(api, member)
    assert (event["type"], event["tokenId"]) == ("token_revoked_by_admin", run["id"])


def test_revoke_all_is_an_event_whoever_does_it(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    admin, member = accounts.admin(), accounts.create()
    api.post(f"/admin/users/{member.user.id}/pats/revoke-all", admin.token)
    clock.advance(seconds=1)
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body["token"]
    fresh = api.post("/auth/invites/claim", body={"token": link}).body["pat"]["token"]
    api.post("/me/pats/revoke-all", fresh)
    clock.advance(seconds=1)
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body["token"]
    last = api.post("/auth/invites/claim", body={"token": link}).body["pat"]["token"]
    found = events(api, last)
    assert [event["type"] for event in found] == [
        "access_link_created", "tokens_revoked_all", "access_link_created", "tokens_revoked_all"]
    assert found[1]["detail"].startswith("You revoked") and found[3]["detail"].startswith("An administrator")
    assert types(api, admin) == []


def test_an_access_link_is_an_event_for_the_user_it_lets_in(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    api.post(f"/admin/users/{member.user.id}/access-links", admin.token)
    assert types(api, member) == ["access_link_created"]
    assert types(api, admin) == []


def test_use_after_rotation_is_told_once_per_hour_by_the_handler(
    api: Api, accounts: Accounts, clock: FrozenClock, dynamo_calls: DynamoCalls
) -> None:
    member = accounts.create()
    successor = api.post("/me/pats/self/rotate", member.token).body
    dynamo_calls.clear()
    assert api.get("/me", member.token).status == 401
    # The authorizer reads; the handler tells (the event, and the time on the token's item).
    assert dynamo_calls.operations == ["BatchGetItem", "TransactWriteItems"]
    for _ in range(3):
        dynamo_calls.clear()
        api.get("/me", member.token)
        assert dynamo_calls.operations == ["BatchGetItem"]  # told within the hour: no write at all
    clock.advance(hours=1)
    api.get("/me", member.token)
    found = events(api, successor["token"])
    assert [event["type"] for event in found] == ["token_used_after_rotation"] * 2
    assert found[0]["tokenId"] == member.token_id and successor["id"] in found[0]["detail"]


def test_a_replayed_rotation_is_told(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    successor = api.post("/me/pats/self/rotate", member.token, body={"graceSeconds": 600}).body
    assert api.post("/me/pats/self/rotate", member.token).status == 409
    assert api.post("/me/pats/self/rotate", member.token).status == 409
    (event,) = events(api, successor["token"])
    assert (event["type"], event["tokenId"]) == ("rotation_replayed", member.token_id)


def test_events_are_kept_90_days_newest_first_and_paginated(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    admin, member = accounts.admin(), accounts.create()
    for _ in range(3):
        api.post(f"/admin/users/{member.user.id}/access-links", admin.token)
        clock.advance(days=30)
    first = api.get("/me/security-events?limit=1", member.token).body
    assert len(first["items"]) == 1 and first["nextCursor"]
    second = api.get(f"/me/security-events?limit=5&cursor={first['nextCursor']}", member.token).body
    ats = [event["at"] for event in first["items"] + second["items"]]
    assert ats == sorted(ats, reverse=True) and len(ats) == 2  # the first, 90 days old, is gone
    clock.advance(days=61)
    assert types(api, member) == []


def test_run_tokens_cannot_read_the_log_and_bad_cursors_are_400(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    run = accounts.run_token(api, member)
    assert api.get("/me/security-events", run["token"]).status == 403
    assert api.get("/me/security-events?cursor=pat_x", member.token).status == 400


def test_a_revoke_all_that_fails_tells_no_one(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    assert api.post("/admin/users/usr_01jdx7k2m3n4p5q6r7s8t9v0wx/pats/revoke-all", admin.token).status == 404
    assert types(api, admin) == []


def test_events_never_carry_a_token_value(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "x", "scope": "read_write"}).body
    api.delete(f"/admin/users/{member.user.id}/pats/{spare['id']}", admin.token)
    assert spare["token"] not in str(events(api, member)) and member.token not in str(events(api, member))



def test_each_type_reaches_its_owner_and_no_one_else(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    """All seven types for one person; an admin who caused most of them and a bystander see none."""
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=5))
    owner, bystander = accounts.create(), accounts.create()
    spare = api.post("/me/pats", owner.token, body={"name": "spare", "scope": "read_write"}).body
    api.delete(f"/admin/users/{owner.user.id}/pats/{spare['id']}", admin.token)  # token_revoked_by_admin
    leaked = api.post("/me/pats", owner.token, body={"name": "leaked", "scope": "read_write"}).body
    api.post("/credentials/revoke", body={"credentials": [leaked["token"]], "source": "https://example.com/x"})
    rotated = api.post("/me/pats", owner.token, body={"name": "rotated", "scope": "read_write"}).body
    api.post("/me/pats/self/rotate", rotated["token"])
    api.get("/me", rotated["token"])  # token_used_after_rotation
    api.post(f"/me/pats/{rotated['id']}/rotate", owner.token)  # rotation_replayed
    api.request("PUT", "/admin/settings/token-policy", admin.token, body={
        "maxLifetimeDays": None, "requireExpiry": True, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
        "refuseReadWritePreset": False})
    api.get("/me", owner.token)  # token_blocked_by_policy
    api.request("PUT", "/admin/settings/token-policy", admin.token, body={
        "maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
        "refuseReadWritePreset": False})
    clock.advance(seconds=1)
    api.post(f"/admin/users/{owner.user.id}/access-links", admin.token)  # access_link_created
    last = api.post("/me/pats", owner.token, body={"name": "last", "scope": "read_write"}).body
    api.post(f"/admin/users/{owner.user.id}/pats/revoke-all", admin.token)  # tokens_revoked_all
    clock.advance(seconds=1)
    link = api.post(f"/admin/users/{owner.user.id}/access-links", admin.token).body["token"]
    fresh = api.post("/auth/invites/claim", body={"token": link}).body["pat"]["token"]
    assert api.get("/me", last["token"]).status == 401
    assert set(types(api, fresh)) == {
        "token_revoked_by_admin", "token_leak_revoked", "token_used_after_rotation", "rotation_replayed",
        "token_blocked_by_policy", "access_link_created", "tokens_revoked_all"}
    assert types(api, admin) == [] and types(api, bystander) == []


def test_every_event_type_is_in_the_contract_and_has_words_in_the_web_ui() -> None:
    contract = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    declared = contract["components"]["schemas"]["SecurityEvent"]["properties"]["type"]["enum"]
    script = (ROOT / "chalicelib" / "web" / "static" / "app.js").read_text()
    labels = script[script.index("const EVENT_LABELS = {"):].split("};")[0]
    assert sorted(declared) == sorted(EventType)
    assert [kind.value for kind in EventType if f"  {kind.value}: \"" not in labels] == []
