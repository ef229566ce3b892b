"""Workflow agent run tokens: read_write only, minted from a person's read_write PAT, short-lived."""
from __future__ import annotations

import pytest

from chalicelib.model import token_format
from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope, TokenKind

from .conftest import READ_WRITE_GRANT, Accounts, Api, DynamoCalls, FrozenClock

MINT = "/workflows/agent-run-tokens"


def test_minting_returns_the_documented_fields(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    response = api.post(MINT, member.token, body={"agentId": "agent-alpha", "stage": "triage"})
    assert response.status == 201
    body = response.body
    assert set(body) == {"id", "agentId", "stage", "token", "scope", "permissions", "kind", "expiresAt", "createdAt"}
    assert body["permissions"] == READ_WRITE_GRANT
    assert body["id"].startswith("run_")
    assert token_format.parse(body["token"]).kind is TokenKind.AGENT_RUN.spec
    assert (body["agentId"], body["stage"], body["scope"], body["kind"]) == (
        "agent-alpha", "triage", "read_write", "agent_run"
    )
    assert body["expiresAt"] == "2026-11-24T13:00:00Z"  # one hour by default


def test_a_run_token_authenticates_and_says_what_it_is(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    run = accounts.run_token(api, member, stage="build")
    me = api.get("/me", run["token"])
    assert me.status == 200
    assert me.body["id"] == member.user.id
    assert me.body["token"] == {
        "id": run["id"], "name": "agent-alpha", "scope": "read_write", "permissions": READ_WRITE_GRANT,
        "kind": "agent_run", "expiresAt": run["expiresAt"], "agentId": "agent-alpha", "stage": "build",
        "allowedIps": [],
    }


def test_an_admin_pat_cannot_mint_run_tokens(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    response = api.post(MINT, admin.token, body={"agentId": "a"})
    assert (response.status, response.error_code) == (403, "insufficient_scope")
    message = response.body["error"]["message"]
    assert "not an admin one" in message and "read_write" in message
    # the same admin user's read_write PAT can
    rw = accounts.create(Role.ADMIN, Scope.READ_WRITE)
    assert api.post(MINT, rw.token, body={"agentId": "a"}).status == 201


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", MINT, {"agentId": "again"}),
        ("GET", "/me/pats", None),
        ("POST", "/me/pats", {"name": "x", "scope": "read_write"}),
        ("DELETE", "/me/pats/{parent}", None),
        ("GET", "/admin/users", None),
    ],
)
def test_run_tokens_are_refused_on_settings_and_admin_routes(
    api: Api, accounts: Accounts, method: str, path: str, body
) -> None:
    member = accounts.create()
    run = accounts.run_token(api, member)
    response = api.request(method, path.format(parent=member.token_id), run["token"], body=body)
    assert (response.status, response.error_code) == (403, "insufficient_scope")
    assert "human-owned personal access token" in response.body["error"]["message"]
    assert api.get("/me", member.token).status == 200


def test_run_tokens_expire(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    member = accounts.create()
    run = accounts.run_token(api, member, expiresInSeconds=600)
    clock.advance(seconds=599)
    assert api.get("/me", run["token"]).status == 200
    clock.advance(seconds=1)
    assert api.get("/me", run["token"]).status == 401


def test_a_run_token_never_outlives_the_pat_that_minted_it(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    parent = api.post(
        "/me/pats", member.token, body={"name": "p", "scope": "read_write", "expiresAt": "2026-11-24T12:10:00Z"}
    ).body
    run = api.post(MINT, parent["token"], body={"agentId": "a", "expiresInSeconds": 86400}).body
    assert run["expiresAt"] == "2026-11-24T12:10:00Z"


def test_deleting_the_parent_pat_revokes_its_run_tokens(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    parent = api.post("/me/pats", member.token, body={"name": "p", "scope": "read_write"}).body
    run = api.post(MINT, parent["token"], body={"agentId": "a"}).body
    assert api.get("/me", run["token"]).status == 200
    assert api.delete(f"/me/pats/{parent['id']}", member.token).status == 204
    assert api.get("/me", run["token"]).status == 401


def test_deactivating_the_user_revokes_their_run_tokens(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    run = accounts.run_token(api, member)
    api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "deactivated"})
    assert api.get("/me", run["token"]).status == 401


def test_run_tokens_are_not_listed_among_pats(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    run = accounts.run_token(api, member)
    items = api.get("/me/pats", member.token).body["items"]
    assert [item["id"] for item in items] == [member.token_id]
    assert run["token"] not in str(items)


def test_a_run_token_authorization_is_still_one_read(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls
) -> None:
    member = accounts.create()
    run = accounts.run_token(api, member)
    api.get("/me", run["token"])
    dynamo_calls.clear()
    api.get("/me", run["token"])
    assert dynamo_calls.operations == ["BatchGetItem"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"agentId": ""},
        {"agentId": "a\tb"},
        {"agentId": "a" * 101},
        {"agentId": 7},
        {"agentId": "a", "expiresInSeconds": 59},
        {"agentId": "a", "expiresInSeconds": 86401},
        {"agentId": "a", "expiresInSeconds": "3600"},
        {"agentId": "a", "expiresInSeconds": 1.5},
        {"agentId": "a", "expiresInSeconds": True},
        {"agentId": "a", "scope": "admin"},
        {"agentId": "a", "stage": ""},
    ],
)
def test_bad_mint_requests_are_400(api: Api, accounts: Accounts, body: dict) -> None:
    response = api.post(MINT, accounts.create().token, body=body)
    assert (response.status, response.error_code) == (400, "invalid_request")
