"""Grants learned from use: each PAT records what it (and its run tokens) used, on the sparse
last-used write or once per new use, lists it as usedPermissions, and offers the narrowing to it."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.model.accounts import Role
from chalicelib.model.families import Access
from chalicelib.model.grants import Grant, Permission
from chalicelib.model.kinds import Scope
from chalicelib.model.used import Used, family_use, preset_use
from chalicelib.services import authentication
from chalicelib.storage import Store

from .conftest import Accounts, Api, Cli, DynamoCalls, FrozenClock, effect, login, request

NOTHING = {family: "none" for family in Grant.of({}).as_dict()}


def listed(api: Api, token: str, token_id: str) -> dict[str, Any]:
    return next(item for item in api.get("/me/pats", token).body["items"] if item["id"] == token_id)


def agent_pat(api: Api, token: str, **body: Any) -> dict[str, Any]:
    created = api.post("/me/pats", token, body={"name": "agent", "scope": "read_write", **body})
    assert created.status == 201, created.body
    return created.body


def test_a_pat_lists_what_it_used_and_the_narrowing_to_it(
    api: Api, accounts: Accounts, authorize: Callable[..., Any], clock: FrozenClock
) -> None:
    member = accounts.create()
    agent = agent_pat(api, member.token)
    assert listed(api, member.token, agent["id"])["usedSince"] is None
    for method, path in (("GET", "/work-items"), ("GET", "/work-items/1"), ("POST", "/workflows/w1/runs"),
                         ("GET", "/queues")):
        assert effect(authorize(request(agent["token"], method, path)))[0] == "Allow"
        clock.advance(seconds=10)
    item = listed(api, member.token, agent["id"])
    assert item["usedPermissions"] == {**NOTHING, "work_items": "read", "workflows": "write", "queues": "read"}
    assert (item["usedScope"], item["usedSince"]) == (None, "2026-11-24T12:00:00Z")
    assert item["narrowToUsed"] == {"permissions": item["usedPermissions"]}
    narrowed = api.patch(f"/me/pats/{agent['id']}", member.token, body=item["narrowToUsed"])
    assert (narrowed.status, narrowed.body["permissions"]) == (200, item["usedPermissions"])
    assert narrowed.body["narrowToUsed"] is None  # nothing left to take away
    assert effect(authorize(request(agent["token"], "GET", "/work-items")))[0] == "Allow"
    assert effect(authorize(request(agent["token"], "POST", "/work-items")))[0] == "Deny"


def test_a_refused_request_teaches_nothing(api: Api, accounts: Accounts, authorize: Callable[..., Any]) -> None:
    member = accounts.create()
    reader = agent_pat(api, member.token, scope="read")
    assert effect(authorize(request(reader["token"], "POST", "/work-items")))[0] == "Deny"
    assert listed(api, member.token, reader["id"])["usedPermissions"] == NOTHING


def test_a_run_token_teaches_the_pat_that_minted_it(
    api: Api, accounts: Accounts, authorize: Callable[..., Any]
) -> None:
    member = accounts.create()
    agent = agent_pat(api, member.token)
    run = api.post("/workflows/agent-run-tokens", agent["token"], body={"agentId": "a"}).body["token"]
    assert effect(authorize(request(run, "POST", "/conversations")))[0] == "Allow"
    item = listed(api, member.token, agent["id"])
    assert item["usedPermissions"]["conversations"] == "write"
    assert item["usedScope"] == "read_write"  # it minted a run token: only an unnarrowed token may
    assert item["narrowToUsed"] is None  # read_write is the least that keeps it minting


def test_no_suggestion_takes_admin_away(api: Api, accounts: Accounts, authorize: Callable[..., Any]) -> None:
    """An admin token that only managed tokens would be offered read_write, and a person's only
    admin token lost for good: no token below admin can make one again."""
    admin = accounts.create(Role.ADMIN, Scope.ADMIN)
    ops = agent_pat(api, admin.token, scope="admin")
    api.get("/me/pats", ops["token"])  # a read_write route only an unnarrowed token may call
    assert effect(authorize(request(ops["token"], "GET", "/work-items")))[0] == "Allow"
    item = listed(api, admin.token, ops["id"])
    assert (item["usedScope"], item["narrowToUsed"]) == ("read_write", None)
    providers = api.post("/me/pats", admin.token, body={"name": "p", "permissions": {"ai_providers": "write",
                                                                                     "work_items": "write"}}).body
    assert effect(authorize(request(providers["token"], "GET", "/admin/ai-providers")))[0] == "Allow"
    offered = listed(api, admin.token, providers["id"])["narrowToUsed"]  # it stays admin: offered
    assert offered == {"permissions": {**NOTHING, "ai_providers": "read"}}
    narrowed = api.patch(f"/me/pats/{ops['id']}", admin.token, body={"scope": "read_write"})
    assert (narrowed.status, narrowed.body["scope"]) == (200, "read_write")  # by hand, it still may


def test_steady_state_authorization_writes_nothing_and_a_new_use_one_write(
    api: Api, accounts: Accounts, authorize: Callable[..., Any], dynamo_calls: DynamoCalls, clock: FrozenClock
) -> None:
    member = accounts.create()
    agent = agent_pat(api, member.token)
    authorize(request(agent["token"], "GET", "/work-items"))
    clock.advance(seconds=30)
    dynamo_calls.clear()
    authorize(request(agent["token"], "GET", "/work-items/2"))  # used before, recorded recently
    assert dynamo_calls.operations == ["BatchGetItem"]
    authorize(request(agent["token"], "PATCH", "/work-items/2"))  # new: write
    assert dynamo_calls.operations == ["BatchGetItem", "BatchGetItem", "UpdateItem"]
    assert listed(api, member.token, agent["id"])["usedPermissions"]["work_items"] == "write"


def test_concurrent_authorizers_each_add_their_use(
    api: Api, accounts: Accounts, authorize: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, store: Store,
    clock: FrozenClock,
) -> None:
    """Two authorizers read the token before either writes; both uses land (a set grows, it is
    not replaced)."""
    member = accounts.create()
    agent = agent_pat(api, member.token)
    seen_before_either = authentication.authenticate(store, f"Bearer {agent['token']}", clock.now())
    with monkeypatch.context() as reads:
        reads.setattr(authentication, "authenticate", lambda *_: seen_before_either)
        authorize(request(agent["token"], "GET", "/domains"))
        authorize(request(agent["token"], "GET", "/queues"))
    used = listed(api, member.token, agent["id"])["usedPermissions"]
    assert (used["domains"], used["queues"]) == ("read", "read")


def test_a_rotated_pat_keeps_what_it_learned(api: Api, accounts: Accounts, authorize: Callable[..., Any]) -> None:
    member = accounts.create()
    agent = agent_pat(api, member.token)
    authorize(request(agent["token"], "GET", "/queues"))
    successor = api.post(f"/me/pats/{agent['id']}/rotate", member.token).body
    assert listed(api, member.token, successor["id"])["usedPermissions"]["queues"] == "read"


@pytest.mark.parametrize(("uses", "grant", "refused"), [
    ({"work_items:read"}, {"work_items": Permission.READ}, []),
    ({"work_items:write"}, {"work_items": Permission.READ}, ["work_items:write"]),
    ({"queues:read", "preset:read_write"}, {"queues": Permission.WRITE}, ["preset:read_write"]),
])
def test_what_a_narrowing_would_have_refused(uses: set[str], grant: dict[str, Permission], refused: list[str]) -> None:
    assert Used.of(uses, None).refused_by(Grant.of(grant)) == refused


def test_the_least_grant_keeps_every_use() -> None:
    assert Used.of({family_use("users", Access.READ), preset_use(Scope.READ_WRITE)}, None).least_grant() == \
        Grant.of_scope(Scope.ADMIN)
    assert Used.of({family_use("queues", Access.WRITE), preset_use(Scope.READ_WRITE)}, None).least_grant() == \
        Grant.of_scope(Scope.READ_WRITE)
    assert Used.of(set(), None).least_grant() is None


def test_oi_lists_what_a_token_used(api: Api, accounts: Accounts, authorize: Callable[..., Any], cli: Cli,
                                    clock: FrozenClock) -> None:
    member = accounts.create()
    login(cli, member.token)
    agent = agent_pat(api, member.token)
    authorize(request(agent["token"], "GET", "/queues"))
    clock.advance(days=8)
    result = cli("settings", "personal", "tokens", "list")
    assert f"{agent['id']} used since 2026-11-24 12:00 UTC: read: queues" in result.output, result.output
    assert f"oi settings personal tokens narrow {agent['id']} --to-used" in result.output


def test_oi_narrows_a_token_to_what_it_used(
    api: Api, accounts: Accounts, authorize: Callable[..., Any], cli: Cli, clock: FrozenClock
) -> None:
    member = accounts.create()
    login(cli, member.token)
    agent = agent_pat(api, member.token)
    nothing_yet = cli("settings", "personal", "tokens", "narrow", agent["id"], "--to-used", "--yes")
    assert (nothing_yet.exit_code, "Nothing was recorded" in nothing_yet.output) == (1, True)
    authorize(request(agent["token"], "GET", "/queues"))
    clock.advance(days=2)
    early = cli("settings", "personal", "tokens", "narrow", agent["id"], "--to-used", input="n\n")
    assert early.exit_code == 1 and "watched for less than 7 days" in early.output
    clock.advance(days=6)
    result = cli("settings", "personal", "tokens", "narrow", agent["id"], "--to-used", input="y\n")
    assert result.exit_code == 0, result.output
    assert "to what it used since 2026-11-24 12:00 UTC: read: queues?" in result.output
    assert "less than" not in result.output
    assert api.get("/me", agent["token"]).body["token"]["permissions"]["queues"] == "read"
    again = cli("settings", "personal", "tokens", "narrow", agent["id"], "--to-used", "--yes")
    assert (again.exit_code, "already does only what it used" in again.output) == (1, True)


def test_oi_asks_before_a_narrowing_refuses_what_the_token_used(
    api: Api, accounts: Accounts, authorize: Callable[..., Any], cli: Cli
) -> None:
    member = accounts.create()
    login(cli, member.token)
    agent = agent_pat(api, member.token)
    authorize(request(agent["token"], "POST", "/work-items"))
    declined = cli("settings", "personal", "tokens", "narrow", agent["id"], "--permission", "work_items=read",
                   input="n\n")
    assert declined.exit_code == 1
    assert "was used to write work items, which this narrowing refuses" in declined.output
    assert api.get("/me", agent["token"]).body["token"]["scope"] == "read_write"  # the dry run changed nothing
    assert "token_narrowed" not in [event["type"] for event in
                                    api.get("/me/security-events", member.token).body["items"]]
    unasked = cli("settings", "personal", "tokens", "narrow", agent["id"], "--permission", "work_items=write")
    assert unasked.exit_code == 0 and "?" not in unasked.output


def test_oi_never_takes_admin_away_unasked(api: Api, accounts: Accounts, cli: Cli) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN)
    login(cli, admin.token)
    api.get("/me/pats", admin.token)  # it managed tokens, and used no admin route
    to_used = cli("settings", "personal", "tokens", "narrow", admin.token_id, "--to-used", "--yes")
    assert to_used.exit_code == 1
    assert "would take admin away for good: no token below admin can make an admin token again" in to_used.output
    by_hand = cli("settings", "personal", "tokens", "narrow", admin.token_id, "--scope", "read_write", input="n\n")
    assert by_hand.exit_code == 1 and "is an admin token: narrowed, it no longer is" in by_hand.output
    assert api.get("/me", admin.token).body["token"]["scope"] == "admin"
