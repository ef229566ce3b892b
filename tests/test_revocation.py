"""Revocation that is final: lifetime caps, no revival, revoke-all in O(1), run tokens in view,
re-access links, and the sweeper that removes what cut-offs revoked."""
from __future__ import annotations

import pytest

from chalicelib.model.kinds import Scope
from chalicelib.services import revocation
from chalicelib.storage import Store
from openindex_ops.request_budget import REQUEST_BUDGET

from .conftest import READ_WRITE_GRANT, Accounts, Api, DynamoCalls, FrozenClock, issue_pat

TWO_MINUTES_LATER = "2026-11-24T12:02:00Z"  # the frozen clock starts at 12:00:00


def status(api: Api, token: str) -> int:
    return api.get("/me", token).status


def patch_user(api: Api, admin_token: str, user_id: str, change: dict[str, str]) -> None:
    response = api.patch(f"/admin/users/{user_id}", admin_token, body=change)
    assert response.status == 200, response.body


# 1. A token cannot outlive the token that creates it


@pytest.mark.parametrize("asked", [None, "2026-11-24T12:02:01Z", "2030-01-01T00:00:00Z"])
def test_a_short_lived_token_cannot_create_a_longer_lived_one(api: Api, accounts: Accounts, asked: str | None) -> None:
    admin = accounts.admin()
    short = api.post("/me/pats", admin.token,
                     body={"name": "short", "scope": "admin", "expiresAt": TWO_MINUTES_LATER}).body["token"]
    body = {"name": "longer", "scope": "admin", **({"expiresAt": asked} if asked else {})}
    refused = api.post("/me/pats", short, body=body)
    assert (refused.status, refused.error_code) == (400, "expiry_exceeds_token")
    assert TWO_MINUTES_LATER in refused.body["error"]["message"]
    same = api.post("/me/pats", short, body={"name": "ok", "scope": "admin", "expiresAt": TWO_MINUTES_LATER})
    assert same.status == 201


# 2. Deactivation and demotion are final for the tokens that existed


def test_reactivation_revives_no_pat_and_no_run_token(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    admin, member = accounts.admin(), accounts.create()
    run = accounts.run_token(api, member)["token"]
    patch_user(api, admin.token, member.user.id, {"status": "deactivated"})
    clock.advance(seconds=1)
    patch_user(api, admin.token, member.user.id, {"status": "active"})
    assert [status(api, member.token), status(api, run)] == [401, 401]
    assert "revoked" in api.get("/me", member.token).body["error"]["message"]


def test_promotion_revives_no_admin_token_and_demotion_spares_read_write(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    first, second = accounts.admin(), accounts.admin()
    read_write = api.post("/me/pats", second.token, body={"name": "rw", "scope": "read_write"}).body["token"]
    patch_user(api, first.token, second.user.id, {"role": "member"})
    clock.advance(seconds=1)
    patch_user(api, first.token, second.user.id, {"role": "admin"})
    assert status(api, second.token) == 401
    assert status(api, read_write) == 200


# 3. Revoke all


def test_revoke_all_refuses_every_token_of_the_caller_from_the_next_request(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    owner, other = accounts.create(), accounts.create()
    second = api.post("/me/pats", owner.token, body={"name": "second", "scope": "read_write"}).body["token"]
    run = accounts.run_token(api, owner)["token"]
    assert api.post("/me/pats/revoke-all", owner.token).status == 204
    assert [status(api, token) for token in (owner.token, second, run)] == [401, 401, 401]
    assert status(api, other.token) == 200
    clock.advance(seconds=1)
    admin = accounts.admin()
    link = api.post(f"/admin/users/{owner.user.id}/access-links", admin.token).body
    fresh = api.post("/auth/invites/claim", body={"token": link["token"]}).body["pat"]
    assert status(api, fresh["token"]) == 200
    # The revoked tokens left the list at once; only the new one is there.
    assert [item["id"] for item in api.get("/me/pats", fresh["token"]).body["items"]] == [fresh["id"]]


def test_an_admin_revokes_all_of_a_users_tokens(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    assert api.post(f"/admin/users/{member.user.id}/pats/revoke-all", admin.token).status == 204
    assert status(api, member.token) == 401
    assert status(api, admin.token) == 200
    assert api.post("/admin/users/usr_01jdx7k2m3n4p5q6r7s8t9v0wx/pats/revoke-all", admin.token).status == 404
    assert api.post(f"/admin/users/{member.user.id}/pats/revoke-all", member.token).status == 401


@pytest.mark.parametrize("count", [1, 100])
def test_revoke_all_costs_the_same_requests_whatever_the_number_of_tokens(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, dynamo_calls: DynamoCalls, count: int
) -> None:
    owner = accounts.create()
    for number in range(count - 1):
        issue_pat(store, user_id=owner.user.id, name=f"t{number}", scope=Scope.READ_WRITE, expires_at=None,
                       now=clock.now())
    api.get("/me/pats", owner.token)  # its use and lastUsedAt recorded: steady state
    dynamo_calls.clear()
    assert api.post("/me/pats/revoke-all", owner.token).status == 204
    assert dynamo_calls.operations == REQUEST_BUDGET["revoke all of the caller's tokens"]


def test_the_sweeper_deletes_revoked_token_items_and_nothing_else(
    api: Api, accounts: Accounts, store: Store, dynamodb, clock: FrozenClock
) -> None:
    owner, bystander = accounts.create(), accounts.create()
    for number in range(30):
        issue_pat(store, user_id=owner.user.id, name=f"t{number}", scope=Scope.READ_WRITE, expires_at=None,
                       now=clock.now())
    accounts.run_token(api, owner)
    api.post("/me/pats/revoke-all", owner.token)
    clock.advance(seconds=1)
    survivor = issue_pat(store, user_id=owner.user.id, name="after", scope=Scope.READ_WRITE, expires_at=None,
                              now=clock.now())
    assert revocation.sweep_revoked_tokens(store) == 32
    left = dynamodb.query(TableName="openindex-auth-test", KeyConditionExpression="pk = :pk",
                          ExpressionAttributeValues={":pk": {"S": f"USER#{owner.user.id}"}})["Items"]
    kept = sorted(item["sk"]["S"] for item in left if not item["sk"]["S"].startswith("EVENT#"))  # the owner is told
    assert kept == ["PROFILE", f"TOKEN#{survivor.record.id}"]
    assert status(api, bystander.token) == 200
    assert revocation.sweep_revoked_tokens(store) == 0  # the marker is gone


def test_the_sweeper_removes_only_admin_tokens_after_a_demotion(
    api: Api, accounts: Accounts, store: Store, dynamodb, clock: FrozenClock
) -> None:
    first, second = accounts.admin(), accounts.admin()
    read_write = api.post("/me/pats", second.token, body={"name": "rw", "scope": "read_write"}).body
    patch_user(api, first.token, second.user.id, {"role": "member"})
    assert revocation.sweep_revoked_tokens(store) == 1
    assert status(api, read_write["token"]) == 200


# 4. Run tokens in view


def test_run_tokens_are_listed_and_revoked_one_by_one(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    first = accounts.run_token(api, owner, stage="build")
    second = accounts.run_token(api, owner)
    listed = api.get("/me/agent-run-tokens", owner.token)
    assert listed.status == 200
    assert [item["id"] for item in listed.body["items"]] == [second["id"], first["id"]]
    assert listed.body["items"][1] == {"id": first["id"], "agentId": "agent-alpha", "stage": "build",
                                       "parentId": owner.token_id, "scope": "read_write",
                                       "permissions": READ_WRITE_GRANT, "expiresAt": first["expiresAt"],
                                       "createdAt": first["createdAt"]}
    assert first["token"] not in str(listed.body)
    assert api.delete(f"/me/agent-run-tokens/{first['id']}", owner.token).status == 204
    assert status(api, first["token"]) == 401 and status(api, second["token"]) == 200
    assert [item["id"] for item in api.get("/me/agent-run-tokens", owner.token).body["items"]] == [second["id"]]
    assert api.delete(f"/me/agent-run-tokens/{first['id']}", owner.token).status == 404


def test_run_tokens_of_a_deleted_parent_leave_the_list(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    child = api.post("/me/pats", owner.token, body={"name": "parent", "scope": "read_write"}).body
    accounts.run_token(api, type(owner)(owner.user, child["token"], child["id"]))
    assert len(api.get("/me/agent-run-tokens", owner.token).body["items"]) == 1
    api.delete(f"/me/pats/{child['id']}", owner.token)
    assert api.get("/me/agent-run-tokens", owner.token).body["items"] == []


def test_admins_see_and_revoke_anyones_run_tokens(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    run = accounts.run_token(api, member)
    listed = api.get(f"/admin/users/{member.user.id}/agent-run-tokens", admin.token)
    assert [item["id"] for item in listed.body["items"]] == [run["id"]]
    assert api.delete(f"/admin/users/{member.user.id}/agent-run-tokens/{run['id']}", admin.token).status == 204
    assert status(api, run["token"]) == 401
    assert api.delete(f"/admin/users/{admin.user.id}/agent-run-tokens/{run['id']}", admin.token).status == 404


@pytest.mark.parametrize("route", ["GET /me/agent-run-tokens", "DELETE /me/agent-run-tokens/{id}",
                                   "POST /me/pats/revoke-all"])
def test_a_run_token_cannot_manage_run_tokens_or_revoke_all(api: Api, accounts: Accounts, route: str) -> None:
    run = accounts.run_token(api, accounts.create())
    method, path = route.split(" ")
    response = api.request(method, path.format(id=run["id"]), run["token"])
    assert (response.status, response.error_code) == (403, "insufficient_scope")


# 5. Re-access links


def test_a_re_access_link_gives_a_promoted_member_an_admin_token(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    patch_user(api, admin.token, member.user.id, {"role": "admin"})
    refused = api.post("/me/pats", member.token, body={"name": "x", "scope": "admin"})
    assert refused.status == 403  # a read_write token never mints an admin one
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token)
    assert link.status == 201
    assert set(link.body) == {"id", "userId", "token", "inviteUrl", "expiresAt", "createdAt"}
    assert link.body["expiresAt"] == "2026-11-25T12:00:00Z"
    assert link.body["inviteUrl"].endswith(f"/invite#token={link.body['token']}")
    listed = api.get("/admin/invites", admin.token).body["items"]
    assert [(item["id"], item["userId"]) for item in listed] == [(link.body["id"], member.user.id)]
    claimed = api.post("/auth/invites/claim", body={"token": link.body["token"]})
    assert claimed.status == 201
    assert claimed.body["user"]["id"] == member.user.id and claimed.body["pat"]["scope"] == "admin"
    assert api.get("/admin/users", claimed.body["pat"]["token"]).status == 200
    again = api.post("/auth/invites/claim", body={"token": link.body["token"]})
    assert (again.status, again.error_code) == (409, "invite_already_claimed")


def test_a_re_access_link_is_refused_for_an_inactive_user_and_dies_with_a_deactivation(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    admin, member = accounts.admin(), accounts.create()
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token,
                    body={"expiresAt": "2026-11-25T00:00:00Z"}).body
    patch_user(api, admin.token, member.user.id, {"status": "deactivated"})
    refused = api.post(f"/admin/users/{member.user.id}/access-links", admin.token)
    assert (refused.status, refused.error_code) == (409, "user_inactive")
    late = api.post("/auth/invites/claim", body={"token": link["token"]})
    assert (late.status, late.error_code) == (410, "user_inactive")
    too_long = api.post(f"/admin/users/{admin.user.id}/access-links", admin.token,
                        body={"expiresAt": "2026-12-02T12:00:01Z"})
    assert (too_long.status, too_long.error_code) == (400, "invalid_request")


def test_a_revoked_re_access_link_is_410(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body
    assert api.delete(f"/admin/invites/{link['id']}", admin.token).status == 204
    assert api.post("/auth/invites/claim", body={"token": link["token"]}).status == 410
    assert status(api, member.token) == 200


def test_every_revocation_event_is_audited(api: Api, accounts: Accounts, store: Store, audit_log) -> None:
    admin, member = accounts.admin(), accounts.create()
    run = accounts.run_token(api, member)
    api.delete(f"/me/agent-run-tokens/{run['id']}", member.token)
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body
    api.post("/auth/invites/claim", body={"token": link["token"]})
    api.post(f"/admin/users/{member.user.id}/pats/revoke-all", admin.token)
    revocation.sweep_revoked_tokens(store)
    deleted = audit_log.events("token.deleted")[0]
    assert (deleted["tokenId"], deleted["kind"], deleted["outcome"]) == (run["id"], "agent_run", "success")
    assert audit_log.events("access_link.created")[0]["userId"] == member.user.id
    assert audit_log.events("invite.claimed")[0]["kind"] == "access_link"
    revoked = audit_log.events("tokens.revoked_all")[0]
    assert (revoked["actor"], revoked["userId"]) == (admin.user.id, member.user.id)
    # the setup PAT, the link's, and the deleted run token's tombstone (all reached by the cut-off)
    assert audit_log.events("tokens.swept")[0]["deleted"] == 3
