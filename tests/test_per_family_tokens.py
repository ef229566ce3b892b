"""PATs with a grant family by family: what they may do is what they were given, they manage no
tokens, and no token gives more than it has."""
from __future__ import annotations

from typing import Any

from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope

from .conftest import ADMIN_GRANT, READ_WRITE_GRANT, Accounts, Api, Cli, login

TRIAGE = {"work_items": "write", "queues": "read"}


def create(api: Api, token: str, **body: Any) -> Any:
    return api.post("/me/pats", token, body={"name": "triage", **body})


def test_a_pat_given_work_items_write_and_queues_read_does_exactly_that(
    api: Api, work_items: Api, accounts: Accounts
) -> None:
    member = accounts.create()
    created = create(api, member.token, permissions=TRIAGE)
    assert created.status == 201, created.body
    expected = {family: TRIAGE.get(family, "none") for family in READ_WRITE_GRANT}
    assert (created.body["scope"], created.body["permissions"]) == ("custom", expected)
    triage = created.body["token"]
    assert work_items.post("/work-items", triage, body={"title": "from triage"}).status == 201
    assert work_items.get("/work-items", triage).status == 200
    listed = next(item for item in api.get("/me/pats", member.token).body["items"] if item["id"] == created.body["id"])
    assert (listed["scope"], listed["permissions"]) == ("custom", expected)


def test_a_narrowed_pat_manages_no_tokens(api: Api, accounts: Accounts) -> None:
    triage = create(api, accounts.create().token, permissions=TRIAGE).body["token"]
    assert api.get("/me", triage).status == 200
    for method, path in (("GET", "/me/pats"), ("POST", "/me/pats/self/rotate"), ("POST", "/me/pats/revoke-all")):
        refused = api.request(method, path, triage)
        assert (refused.status, refused.error_code) == (403, "insufficient_scope"), path
        assert "narrowed" in refused.body["error"]["message"]
    assert api.post("/workflows/agent-run-tokens", triage, body={"agentId": "a"}).status == 403


def test_only_an_admins_token_gives_an_admin_family_and_none_gives_more_than_it_has(
    api: Api, accounts: Accounts
) -> None:
    member = accounts.create()
    assert create(api, member.token, permissions={"users": "read"}).status == 403
    admin = accounts.create(Role.ADMIN, Scope.ADMIN)
    mixed = create(api, admin.token, permissions={"users": "read", "work_items": "write"})
    assert mixed.status == 201 and mixed.body["permissions"]["users"] == "read"
    read_write = accounts.create(Role.ADMIN, Scope.READ_WRITE)
    assert create(api, read_write.token, permissions={"email": "write"}).status == 403


def test_a_grant_equal_to_a_preset_is_that_preset(api: Api, accounts: Accounts) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN)
    everything = create(api, admin.token, permissions=ADMIN_GRANT)
    assert (everything.body["scope"], everything.body["permissions"]) == ("admin", ADMIN_GRANT)
    reads = create(api, admin.token, permissions={family: "read" for family in READ_WRITE_GRANT
                                                  if READ_WRITE_GRANT[family] == "write"})
    assert reads.body["scope"] == "read"
    assert api.get("/me/pats", reads.body["token"]).status == 403  # a read token, as any other


def test_scope_or_permissions_one_of_them_and_never_nothing(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    for body in ({}, {"scope": "read", "permissions": TRIAGE}, {"permissions": {}},
                 {"permissions": {"work_items": "none"}}, {"permissions": {"billing": "read"}}):
        refused = create(api, member.token, **body)
        assert (refused.status, refused.error_code) == (400, "invalid_request"), body


def test_oi_creates_a_token_family_by_family(cli: Cli, accounts: Accounts, api: Api) -> None:
    login(cli, accounts.create().token)
    result = cli("settings", "personal", "tokens", "create", "--name", "triage",
                 "--permission", "work_items=write", "--permission", "queues=read")
    assert result.exit_code == 0, result.output
    assert api.get("/me", result.stdout.strip()).body["token"]["permissions"]["queues"] == "read"
    for args in ((), ("--scope", "read", "--permission", "queues=read"), ("--permission", "queues")):
        refused = cli("settings", "personal", "tokens", "create", "--name", "x", *args)
        assert refused.exit_code == 2, args


def test_a_member_asking_for_an_admin_family_is_told_which_and_why(api: Api, accounts: Accounts, cli: Cli) -> None:
    member = accounts.create()
    refused = create(api, member.token, permissions={"token_introspection": "read", "work_items": "read"})
    assert (refused.status, refused.body["error"]["requiredScope"]) == (403, "token_introspection:read")
    assert refused.body["error"]["message"] == ("Only an admin's token can give permission to read token "
                                                "introspection (instance administration); this token has "
                                                "read_write scope.")
    login(cli, member.token)
    said = cli("settings", "personal", "tokens", "create", "--name", "x", "--permission", "token_introspection=read")
    assert said.exit_code == 5
    assert "Only an admin's token can give permission to read token introspection" in said.stderr


def test_oi_lists_say_what_a_narrowed_token_may_do(cli: Cli, accounts: Accounts, api: Api) -> None:
    member = accounts.create()
    login(cli, member.token)
    triage = create(api, member.token, permissions=TRIAGE).body
    run = api.post("/workflows/agent-run-tokens", member.token,
                   body={"agentId": "a1", "permissions": {"work_items": "read"}}).body
    listed = cli("settings", "personal", "tokens", "list")
    assert f"{triage['id']} may write: work items; read: queues" in listed.output
    runs = cli("settings", "personal", "run-tokens", "list")
    assert f"{run['id']} may read: work items" in runs.output
