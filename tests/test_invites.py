"""Invites: create, list, revoke, and claim exactly once."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.model import token_format
from chalicelib.model.kinds import TokenKind

from .conftest import APP_URL, READ_WRITE_GRANT, Accounts, Api, DynamoCalls, FrozenClock


def invite(api: Api, admin_token: str, **body) -> dict:
    response = api.post("/admin/invites", admin_token, body={"email": "new@example.com", **body})
    assert response.status == 201, response.body
    return response.body


def claim(api: Api, token: str, headers: dict[str, str] | None = None):
    return api.post("/auth/invites/claim", body={"token": token}, headers=headers)


def user_emails(api: Api, admin_token: str) -> list[str]:
    return [user["email"] for user in api.get("/admin/users", admin_token).body["items"]]


def test_create_returns_the_token_and_link_once(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    response = api.post("/admin/invites", admin.token, body={"email": "New.Person@Example.com"})
    assert response.status == 201
    body = response.body
    assert set(body) == {"id", "email", "role", "userId", "status", "createdBy", "token", "inviteUrl", "expiresAt",
                         "createdAt"}
    assert body["id"].startswith("inv_")
    assert (body["email"], body["role"]) == ("new.person@example.com", "member")
    assert body["expiresAt"] == "2026-12-01T12:00:00Z"  # 7 days by default
    assert token_format.parse(body["token"]).kind is TokenKind.INVITE.spec
    assert body["inviteUrl"] == f"{APP_URL}/invite#token={body['token']}"
    listed = api.get("/admin/invites", admin.token).body
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert body["token"] not in str(listed)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "not-an-email"}, 400, "invalid_request"),
        ({"email": "a@b"}, 400, "invalid_request"),
        ({"email": "x" * 250 + "@example.com"}, 400, "invalid_request"),
        ({"email": 5}, 400, "invalid_request"),
        ({"email": "new@example.com", "role": "owner"}, 400, "invalid_request"),
        ({"email": "new@example.com", "scope": "admin"}, 400, "invalid_request"),
        ({"email": "new@example.com", "expiresAt": "2026-11-24T11:00:00Z"}, 400, "invalid_request"),
        ({"email": "new@example.com", "expiresAt": "2026-12-24T12:00:01Z"}, 400, "invalid_request"),
        ({"email": "new@example.com", "expiresAt": "2026-12-01T12:00:00"}, 400, "invalid_request"),
        ({"email": "USER1@example.com"}, 409, "account_exists"),
    ],
)
def test_bad_invites_are_refused_and_nothing_is_written(
    api: Api, accounts: Accounts, body: dict, status: int, code: str
) -> None:
    admin = accounts.admin()  # user1@example.com
    response = api.post("/admin/invites", admin.token, body=body)
    assert (response.status, response.error_code) == (status, code)
    assert api.get("/admin/invites", admin.token).body["items"] == []


def test_an_invite_may_last_up_to_30_days(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    body = invite(api, admin.token, role="admin", expiresAt="2026-12-24T12:00:00Z")
    assert (body["role"], body["expiresAt"]) == ("admin", "2026-12-24T12:00:00Z")


def test_claiming_activates_the_account_with_a_first_token(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    sent = invite(api, admin.token)
    response = claim(api, sent["token"])
    assert response.status == 201
    assert set(response.body) == {"user", "pat"}
    user, pat = response.body["user"], response.body["pat"]
    assert (user["email"], user["role"], user["status"]) == ("new@example.com", "member", "active")
    assert set(pat) == {"id", "name", "scope", "permissions", "token", "expiresAt", "createdAt", "allowedIps"}
    assert (pat["scope"], pat["permissions"]) == ("read_write", READ_WRITE_GRANT)
    me = api.get("/me", pat["token"])
    assert me.status == 200 and me.body["id"] == user["id"]
    assert api.get("/admin/invites", admin.token).body["items"] == []


def test_an_admin_invite_gives_an_admin_token(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    pat = claim(api, invite(api, admin.token, role="admin")["token"]).body["pat"]
    assert pat["scope"] == "admin"
    assert api.get("/admin/users", pat["token"]).status == 200


def test_claim_needs_no_bearer_token_and_ignores_a_bad_one(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    sent = invite(api, admin.token)
    assert claim(api, sent["token"], headers={"Authorization": "Bearer garbage"}).status == 201


def test_a_second_claim_is_409_and_changes_nothing(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    sent = invite(api, admin.token)
    assert claim(api, sent["token"]).status == 201
    emails_before = user_emails(api, admin.token)
    response = claim(api, sent["token"])
    assert (response.status, response.error_code) == (409, "invite_already_claimed")
    assert user_emails(api, admin.token) == emails_before


@pytest.mark.parametrize(
    "token",
    ["", "oi_inv_", "oi_inv_nope", "garbage", "oi_pat_" + "0" * 76, "x" * 300],
)
def test_malformed_or_unknown_invites_are_404(api: Api, token: str) -> None:
    response = claim(api, token)
    assert response.status in (400, 404)
    if response.status == 404:
        assert response.error_code == "invite_not_found"


def test_a_forged_invite_token_with_a_valid_checksum_is_404(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    sent = invite(api, admin.token)
    forged = token_format.mint(TokenKind.INVITE.spec, token_id=sent["id"]).value
    assert (claim(api, forged).status, claim(api, forged).error_code) == (404, "invite_not_found")
    assert claim(api, sent["token"]).status == 201


def test_a_pat_is_not_an_invite(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    assert claim(api, admin.token).error_code == "invite_not_found"


def test_an_expired_invite_is_410_unlisted_and_not_revocable(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    admin = accounts.admin()
    sent = invite(api, admin.token)
    clock.advance(days=7)
    response = claim(api, sent["token"])
    assert (response.status, response.error_code) == (410, "invite_expired")
    assert api.get("/admin/invites", admin.token).body["items"] == []
    assert api.delete(f"/admin/invites/{sent['id']}", admin.token).status == 404
    assert user_emails(api, admin.token) == ["user1@example.com"]


def test_a_revoked_invite_is_410_and_revoking_twice_is_404(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    sent = invite(api, admin.token)
    assert api.delete(f"/admin/invites/{sent['id']}", admin.token).status == 204
    assert api.get("/admin/invites", admin.token).body["items"] == []
    response = claim(api, sent["token"])
    assert (response.status, response.error_code) == (410, "invite_revoked")
    assert api.delete(f"/admin/invites/{sent['id']}", admin.token).status == 404
    assert api.delete("/admin/invites/not-an-id", admin.token).status == 404


def test_a_claimed_invite_cannot_be_revoked(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    sent = invite(api, admin.token)
    claim(api, sent["token"])
    assert api.delete(f"/admin/invites/{sent['id']}", admin.token).status == 404


def test_two_invites_for_one_email_make_one_account(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    first, second = invite(api, admin.token), invite(api, admin.token)
    assert claim(api, first["token"]).status == 201
    response = claim(api, second["token"])
    assert (response.status, response.error_code) == (409, "account_exists")
    assert user_emails(api, admin.token).count("new@example.com") == 1
    # the failed claim wrote nothing: the second invite is still pending
    assert [item["id"] for item in api.get("/admin/invites", admin.token).body["items"]] == [second["id"]]


def test_pending_invites_are_listed_newest_first_in_pages(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    admin = accounts.admin()
    ids = []
    for number in range(5):
        clock.advance(seconds=1)
        ids.append(invite(api, admin.token, email=f"n{number}@example.com")["id"])
    first = api.get("/admin/invites?limit=3", admin.token).body
    second = api.get(f"/admin/invites?limit=3&cursor={first['nextCursor']}", admin.token).body
    assert [item["id"] for item in first["items"] + second["items"]] == list(reversed(ids))
    assert api.get("/admin/invites?cursor=pat_01jdx7k2m3n4p5q6r7s8t9v0wx", admin.token).status == 400


def make_pat(api: Api, token: str, name: str, scope: str = "read_write", **extra: Any) -> dict[str, Any]:
    made = api.post("/me/pats", token, body={"name": name, "scope": scope, **extra})
    assert made.status == 201, made.body
    return made.body


def test_a_page_of_invites_reads_its_makers_at_one_batch_per_hundred_keys(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls
) -> None:
    """A page of invites reads, for its
    makers, one user key per maker and one compromise-marker key per distinct making token: a
    full page (100) sent with 100 different tokens is 101 keys, two BatchGetItems. The budget
    said one; it now says one per 100 keys, at most two per page, which this holds."""
    admin = accounts.admin()
    for number in range(100):
        sender = make_pat(api, admin.token, f"sender {number}", scope="admin")
        made = api.post("/admin/invites", sender["token"], body={"email": f"new{number}@example.com"})
        assert made.status == 201, made.body
    api.get("/admin/invites?limit=1", admin.token)  # steady state: its use recorded
    dynamo_calls.clear()
    page = api.get("/admin/invites?limit=100", admin.token)
    assert page.status == 200 and len(page.body["items"]) == 100
    assert dynamo_calls.operations == ["BatchGetItem", "Query", "BatchGetItem", "BatchGetItem"]
