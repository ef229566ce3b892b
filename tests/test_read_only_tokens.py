"""Read-only tokens (the ``read`` preset): they read every read_write family and write nothing,
manage no tokens, and are never created by a token that could not read as much."""
from __future__ import annotations

from typing import Any

from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope

from .conftest import READ_WRITE_GRANT, Accounts, Api

READ_GRANT = {family: "read" if permission == "write" else "none" for family, permission in READ_WRITE_GRANT.items()}


def read_token(api: Api, owner_token: str) -> dict[str, Any]:
    created = api.post("/me/pats", owner_token, body={"name": "dashboard", "scope": "read"})
    assert created.status == 201, created.body
    return created.body


def test_a_read_token_is_created_with_read_on_every_read_write_family(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    created = read_token(api, member.token)
    assert (created["scope"], created["permissions"]) == ("read", READ_GRANT)
    me = api.get("/me", created["token"])
    assert me.status == 200 and (me.body["token"]["scope"], me.body["token"]["permissions"]) == ("read", READ_GRANT)
    listed = next(item for item in api.get("/me/pats", member.token).body["items"] if item["id"] == created["id"])
    assert (listed["scope"], listed["permissions"]) == ("read", READ_GRANT)


def test_a_read_token_lists_work_items_but_cannot_create_one(
    api: Api, work_items: Api, accounts: Accounts
) -> None:
    member = accounts.create()
    assert work_items.post("/work-items", member.token, body={"title": "seeded"}).status == 201
    reader = read_token(api, member.token)["token"]
    assert [item["title"] for item in work_items.get("/work-items", reader).body["items"]] == ["seeded"]
    refused = work_items.post("/work-items", reader, body={"title": "not from a reader"})
    assert (refused.status, refused.body["error"]["requiredScope"]) == (403, "work_items:write")
    assert "permission to write work items" in refused.body["error"]["message"]
    assert len(work_items.get("/work-items", reader).body["items"]) == 1


def test_a_read_token_manages_no_tokens_and_mints_no_run_tokens(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    reader = read_token(api, member.token)
    for method, path, body in (("GET", "/me/pats", None), ("POST", "/me/pats", {"name": "x", "scope": "read"}),
                               ("POST", "/me/pats/self/rotate", None), ("POST", "/me/pats/revoke-all", None),
                               ("POST", "/workflows/agent-run-tokens", {"agentId": "a"})):
        refused = api.request(method, path, reader["token"], body=body)
        assert (refused.status, refused.error_code) == (403, "insufficient_scope"), path


def test_an_admin_creates_read_tokens_and_no_token_creates_more_than_it_may(api: Api, accounts: Accounts) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN)
    assert read_token(api, admin.token)["scope"] == "read"
    member = accounts.create()
    assert api.post("/me/pats", member.token, body={"name": "up", "scope": "admin"}).status == 403
