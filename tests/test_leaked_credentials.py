"""Public revocation of leaked credentials (issue 15): anyone may report, nobody learns anything."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.model import ids, token_format
from chalicelib.model.kinds import TokenKind

from .conftest import Accounts, Api, AuditLog, DynamoCalls, FrozenClock

SOURCE = "https://github.com/someone/repo/blob/main/.env"


def report(api: Api, *credentials: str, **extra: Any) -> Any:
    return api.post("/credentials/revoke", body={"credentials": list(credentials), **extra})


def forged(token_id: str, user_id: str) -> str:
    """A token with a valid checksum naming a real token, but another secret."""
    return token_format.mint(TokenKind.PAT.spec, token_id=token_id, user_id=user_id).value


def event_types(api: Api, token: str) -> list[str]:
    return [event["type"] for event in api.get("/me/security-events", token).body["items"]]


def test_a_mix_is_always_202_and_only_the_live_ones_die(
    api: Api, accounts: Accounts, clock: FrozenClock, audit_log: AuditLog
) -> None:
    admin, member, bystander = accounts.admin(), accounts.create(), accounts.create()
    leaked = api.post("/me/pats", member.token, body={"name": "ci", "scope": "read_write"}).body
    dead = api.post("/me/pats", member.token, body={"name": "old", "scope": "read_write"}).body
    api.delete(f"/me/pats/{dead['id']}", member.token)
    run = accounts.run_token(api, member)
    invite = api.post("/admin/invites", admin.token, body={"email": "new@example.com"}).body
    response = report(api, leaked["token"], dead["token"], run["token"], invite["token"],
                      forged(bystander.token_id, bystander.user.id), "oi_pat_garbage", "hunter2", "",
                      source=SOURCE)
    assert (response.status, response.body) == (202, {})
    assert api.get("/me", leaked["token"]).status == 401
    assert api.get("/me", run["token"]).status == 401
    assert api.post("/auth/invites/claim", body={"token": invite["token"]}).status == 410
    assert api.get("/me", member.token).status == 200  # not reported
    assert api.get("/me", bystander.token).status == 200  # a forged checksum revokes nothing
    told = api.get("/me/security-events", member.token).body["items"]
    assert sorted((event["type"], event["tokenId"]) for event in told) == sorted(
        [("token_leak_revoked", leaked["id"]), ("token_leak_revoked", run["id"])])
    assert all(SOURCE in event["detail"] for event in told)
    assert event_types(api, admin.token) == ["token_leak_revoked"]  # the invite they created
    assert event_types(api, bystander.token) == []
    revoked = audit_log.events("credential.leak_revoked")
    assert {line.get("tokenId") or line.get("inviteId") for line in revoked} == {leaked["id"], run["id"], invite["id"]}
    assert all(line["source"] == SOURCE and line["actor"] == "public" for line in revoked)
    assert leaked["token"] not in "".join(audit_log.lines)


def test_the_answer_is_the_same_whether_or_not_anything_matched(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    miss = report(api, forged(member.token_id, member.user.id))
    hit = report(api, member.token)
    assert (miss.status, miss.body) == (hit.status, hit.body) == (202, {})
    assert {k: v for k, v in miss.headers.items() if k.lower() != "date"} == {
        k: v for k, v in hit.headers.items() if k.lower() != "date"}
    assert api.get("/me", member.token).status == 401


def test_a_leaked_re_access_link_tells_the_admin_and_the_user(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body
    assert report(api, link["token"]).status == 202
    assert api.post("/auth/invites/claim", body={"token": link["token"]}).status == 410
    assert event_types(api, admin.token) == ["token_leak_revoked"]
    assert event_types(api, member.token) == ["token_leak_revoked", "access_link_created"]


def test_a_token_reported_twice_is_told_once(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "s", "scope": "read_write"}).body
    report(api, spare["token"], spare["token"])
    report(api, spare["token"])
    assert event_types(api, member.token) == ["token_leak_revoked"]


def test_no_bearer_is_needed_and_one_is_ignored(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "s", "scope": "read_write"}).body
    response = api.post("/credentials/revoke", "oi_pat_nonsense", body={"credentials": [spare["token"]]})
    assert response.status == 202
    assert api.get("/me", spare["token"]).status == 401


def test_garbage_costs_no_dynamodb_request(api: Api, dynamo_calls: DynamoCalls) -> None:
    dynamo_calls.clear()
    assert report(api, *(f"oi_pat_{n}" for n in range(1000))).status == 202
    assert dynamo_calls.operations == []


def test_a_thousand_well_formed_reports_cost_a_read_per_hundred_keys(
    api: Api, accounts: Accounts, clock: FrozenClock, dynamo_calls: DynamoCalls
) -> None:
    member = accounts.create()
    same_key = [forged(member.token_id, member.user.id) for _ in range(499)]  # one key, many secrets
    other_keys = [forged(ids.new_id("pat", clock.now()), member.user.id) for _ in range(500)]
    dynamo_calls.clear()
    assert report(api, *same_key, *other_keys, member.token).status == 202
    # 501 keys, one per distinct token named; then the account: read, revoke, read again, tell
    assert dynamo_calls.operations == ["BatchGetItem"] * 6 + ["Query", "BatchWriteItem", "Query", "BatchWriteItem"]
    assert api.get("/me", member.token).status == 401


@pytest.mark.parametrize("body", [
    {}, {"credentials": []}, {"credentials": "oi_pat_x"}, {"credentials": [1]},
    {"credentials": ["x"] * 1001}, {"credentials": ["x" * 1001]},
    {"credentials": ["x"], "source": "ftp://example.com"}, {"credentials": ["x"], "source": "not a url"},
    {"credentials": ["x"], "source": "https://example.com/\u001b[2J"}, {"credentials": ["x"], "extra": 1},
])
def test_malformed_bodies_are_400(api: Api, body: dict[str, Any]) -> None:
    response = api.post("/credentials/revoke", body=body)
    assert response.status == 400 and response.error_code == "invalid_request"


def test_not_json_is_400(api: Api) -> None:
    assert api.post("/credentials/revoke", raw=b"oi_pat_x").status == 400
