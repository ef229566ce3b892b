"""Admin routes for users: list, inspect, (de)activate, promote and demote, see and revoke tokens."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from chalicelib.errors import ServiceError
from chalicelib.model.accounts import Role, UserStatus
from chalicelib.services import users
from chalicelib.storage import Store

from .conftest import Accounts, Api, DynamoCalls, FrozenClock


def test_users_are_listed_newest_first_in_pages(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    admin = accounts.admin()
    made = [admin.user.id]
    for _ in range(4):
        clock.advance(seconds=1)
        made.append(accounts.create().user.id)
    first = api.get("/admin/users?limit=2", admin.token).body
    assert set(first["items"][0]) == {"id", "email", "role", "status", "createdAt"}
    seen = [item["id"] for item in first["items"]]
    cursor = first["nextCursor"]
    while cursor:
        page = api.get(f"/admin/users?limit=2&cursor={cursor}", admin.token).body
        seen += [item["id"] for item in page["items"]]
        cursor = page["nextCursor"]
    assert seen == list(reversed(made))


def test_get_user_and_unknown_ids(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    response = api.get(f"/admin/users/{member.user.id}", admin.token)
    assert response.status == 200 and response.body["email"] == member.user.email
    for unknown in ("usr_01jdx7k2m3n4p5q6r7s8t9v0wx", "nope", member.token_id):
        assert api.get(f"/admin/users/{unknown}", admin.token).status == 404


def test_deactivation_refuses_every_token_at_once_and_reactivation_revives_none(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    admin, member = accounts.admin(), accounts.create()
    second = api.post("/me/pats", member.token, body={"name": "second", "scope": "read_write"}).body["token"]
    response = api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "deactivated"})
    assert response.status == 200 and response.body["status"] == "deactivated"
    assert [api.get("/me", token).status for token in (member.token, second)] == [401, 401]
    clock.advance(seconds=1)
    api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "active"})
    assert [api.get("/me", token).status for token in (member.token, second)] == [401, 401]


def test_demoting_an_admin_refuses_their_admin_tokens_only(api: Api, accounts: Accounts) -> None:
    first, second = accounts.admin(), accounts.admin()
    read_write = api.post("/me/pats", second.token, body={"name": "rw", "scope": "read_write"}).body["token"]
    response = api.patch(f"/admin/users/{second.user.id}", first.token, body={"role": "member"})
    assert response.status == 200 and response.body["role"] == "member"
    assert api.get("/me", second.token).status == 401
    assert api.get("/me", read_write).status == 200


@pytest.mark.parametrize("change", [{"status": "deactivated"}, {"role": "member"}])
def test_the_last_active_admin_cannot_be_deactivated_or_demoted(
    api: Api, accounts: Accounts, change: dict
) -> None:
    admin = accounts.admin()
    accounts.create()
    response = api.patch(f"/admin/users/{admin.user.id}", admin.token, body=change)
    assert (response.status, response.error_code) == (409, "last_admin")
    assert api.get("/me", admin.token).status == 200


def test_a_second_admin_can_take_over(api: Api, accounts: Accounts) -> None:
    first, second = accounts.admin(), accounts.admin()
    assert api.patch(f"/admin/users/{first.user.id}", second.token, body={"status": "deactivated"}).status == 200
    assert api.patch(f"/admin/users/{second.user.id}", second.token, body={"role": "member"}).status == 409
    # reactivating an admin counts them again
    assert api.patch(f"/admin/users/{first.user.id}", second.token, body={"status": "active"}).status == 200
    assert api.patch(f"/admin/users/{second.user.id}", second.token, body={"role": "member"}).status == 200


def test_a_deactivated_admin_does_not_count(api: Api, accounts: Accounts) -> None:
    first, second = accounts.admin(), accounts.admin()
    api.patch(f"/admin/users/{second.user.id}", first.token, body={"status": "deactivated"})
    response = api.patch(f"/admin/users/{first.user.id}", first.token, body={"role": "member"})
    assert response.error_code == "last_admin"


def test_a_promoted_member_counts_as_an_admin(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    api.patch(f"/admin/users/{member.user.id}", admin.token, body={"role": "admin"})
    assert api.patch(f"/admin/users/{admin.user.id}", admin.token, body={"role": "member"}).status == 200


@pytest.mark.parametrize(
    "body", [{}, {"status": "gone"}, {"role": "root"}, {"status": None, "role": None}, {"email": "x@example.com"}]
)
def test_bad_changes_are_400(api: Api, accounts: Accounts, body: dict) -> None:
    admin, member = accounts.admin(), accounts.create()
    response = api.patch(f"/admin/users/{member.user.id}", admin.token, body=body)
    assert (response.status, response.error_code) == (400, "invalid_request")


def test_an_empty_change_says_what_to_give(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    response = api.patch(f"/admin/users/{member.user.id}", admin.token, body={})
    assert response.status == 400
    assert response.body["error"]["message"] == "Invalid request: give status, role or both."


def test_changing_an_unknown_user_is_404(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    response = api.patch("/admin/users/usr_01jdx7k2m3n4p5q6r7s8t9v0wx", admin.token, body={"role": "admin"})
    assert response.status == 404


def test_admins_see_and_revoke_anyones_tokens_but_never_their_values(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    listed = api.get(f"/admin/users/{member.user.id}/pats", admin.token)
    assert listed.status == 200
    assert [item["id"] for item in listed.body["items"]] == [member.token_id]
    assert member.token not in str(listed.body)
    assert api.delete(f"/admin/users/{member.user.id}/pats/{member.token_id}", admin.token).status == 204
    assert api.get("/me", member.token).status == 401
    assert api.delete(f"/admin/users/{member.user.id}/pats/{member.token_id}", admin.token).status == 404
    assert api.get("/admin/users/usr_01jdx7k2m3n4p5q6r7s8t9v0wx/pats", admin.token).status == 404


def test_an_admin_cannot_reach_a_token_through_the_wrong_user(api: Api, accounts: Accounts) -> None:
    admin, alice, bob = accounts.admin(), accounts.create(), accounts.create()
    assert api.delete(f"/admin/users/{bob.user.id}/pats/{alice.token_id}", admin.token).status == 404
    assert api.get("/me", alice.token).status == 200


def test_two_admins_demoting_each_other_at_once_leave_one_admin(served_store: Store) -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    first = users.create_user(served_store, email="a@example.com", role=Role.ADMIN, now=now)
    second = users.create_user(served_store, email="b@example.com", role=Role.ADMIN, now=now)
    start = threading.Barrier(2)

    def demote(user_id: str) -> str:
        start.wait()
        try:
            users.update_user(served_store, user_id, status=UserStatus.DEACTIVATED, role=None, actor_id=user_id,
                              now=now)
        except ServiceError as error:
            return error.code
        return "done"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(demote, [first.id, second.id]))
    assert outcomes == ["done", "last_admin"]
    remaining = [u for u in served_store.users.page(10, None)[0] if u.is_active_admin]
    assert len(remaining) == 1


def test_a_demoted_users_list_leaves_out_their_admin_tokens_in_a_query_dynamodb_accepts(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """The list's filter named the sort key, which DynamoDB refuses (moto does not; the test
    client now refuses it as DynamoDB does)."""
    first, second = accounts.admin(), accounts.admin()
    kept = api.post("/me/pats", second.token, body={"name": "kept", "scope": "read_write"}).body
    clock.advance(seconds=1)
    assert api.patch(f"/admin/users/{second.user.id}", first.token, body={"role": "member"}).status == 200
    listed = api.get(f"/admin/users/{second.user.id}/pats", first.token)
    assert listed.status == 200, listed.body
    assert [item["id"] for item in listed.body["items"]] == [kept["id"]]


UNKNOWN_USER = "usr_01HZZZZZZZZZZZZZZZZZZZZZZZ"


@pytest.mark.parametrize("listing", ["pats", "agent-run-tokens"])
def test_an_admin_list_with_a_bad_query_is_400_whatever_the_user(api: Api, accounts: Accounts, listing: str) -> None:
    """The query string is checked before the user is looked up: a bad query is 400 for any user id."""
    admin = accounts.admin()
    response = api.get(f"/admin/users/{UNKNOWN_USER}/{listing}?limit=0", admin.token)
    assert (response.status, response.error_code) == (400, "invalid_request")


@pytest.mark.parametrize("listing", ["pats", "agent-run-tokens"])
def test_an_admin_list_with_a_bad_query_reads_nothing_but_the_token(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, listing: str
) -> None:
    admin, member = accounts.admin(), accounts.create()
    api.get("/admin/users", admin.token)  # steady state: its use and lastUsedAt recorded
    dynamo_calls.clear()
    assert api.get(f"/admin/users/{member.user.id}/{listing}?limit=0", admin.token).status == 400
    assert dynamo_calls.operations == ["BatchGetItem"]
