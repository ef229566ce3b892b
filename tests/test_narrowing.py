"""Narrowing a PAT (PATCH /me/pats/{id}): a smaller grant or an earlier expiry, the same secret;
never wider, told to the owner, and reaching the run tokens it minted."""
from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.errors import Conflict
from chalicelib.model.accounts import Role
from chalicelib.model.events import EventType, SecurityEvent, new_event
from chalicelib.model.grants import Grant, Permission
from chalicelib.model.kinds import Scope
from chalicelib.services import authentication, narrowing
from chalicelib.storage import Store
from chalicelib.storage.errors import NarrowingLost
from chalicelib.timeutil import to_iso

from .conftest import READ_WRITE_GRANT, Accounts, Api, AuditLog, Cli, FrozenClock, login

READS_WORK_ITEMS = {"work_items": "read"}


def create(api: Api, token: str, **body: Any) -> Any:
    grant = {} if "permissions" in body or "scope" in body else {"scope": "read_write"}
    created = api.post("/me/pats", token, body={"name": "agent", **grant, **body})
    assert created.status == 201, created.body
    return created.body


def narrow(api: Api, token: str, token_id: str, **body: Any) -> Any:
    return api.patch(f"/me/pats/{token_id}", token, body=body)


def test_a_narrowed_pat_keeps_its_value_and_does_only_what_it_was_narrowed_to(
    api: Api, work_items: Api, accounts: Accounts
) -> None:
    member = accounts.create()
    agent = create(api, member.token)
    narrowed = narrow(api, member.token, agent["id"], permissions=READS_WORK_ITEMS)
    assert narrowed.status == 200, narrowed.body
    expected = {family: READS_WORK_ITEMS.get(family, "none") for family in READ_WRITE_GRANT}
    assert (narrowed.body["id"], narrowed.body["scope"], narrowed.body["permissions"]) == (
        agent["id"], "custom", expected)
    assert "token" not in narrowed.body
    assert work_items.get("/work-items", agent["token"]).status == 200
    refused = work_items.post("/work-items", agent["token"], body={"title": "no"})
    assert (refused.status, refused.body["error"]["requiredScope"]) == (403, "work_items:write")
    assert api.get("/me", agent["token"]).body["token"]["permissions"] == expected
    listed = next(item for item in api.get("/me/pats", member.token).body["items"] if item["id"] == agent["id"])
    assert listed["permissions"] == expected


def test_narrowing_to_a_preset_stores_that_preset(api: Api, accounts: Accounts) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN)
    ops = create(api, admin.token, scope="admin")
    narrowed = narrow(api, admin.token, ops["id"], scope="read")
    assert (narrowed.status, narrowed.body["scope"]) == (200, "read")
    assert api.get("/admin/users", ops["token"]).status == 403
    assert api.get("/me", ops["token"]).body["token"]["scope"] == "read"


def test_nothing_wider_than_the_token_is_given(api: Api, accounts: Accounts, audit_log: AuditLog) -> None:
    member = accounts.create()
    agent = create(api, member.token, permissions=READS_WORK_ITEMS)
    for body, needed in (({"scope": "read_write"}, "work_items:write"),
                         ({"permissions": {"workflows": "read"}}, "workflows:read"),
                         ({"scope": "read"}, "queues:read")):
        refused = narrow(api, member.token, agent["id"], **body)
        assert (refused.status, refused.error_code) == (403, "not_narrower")
        assert needed in refused.body["error"]["requiredScope"].split(","), body
    assert api.get("/me", agent["token"]).body["token"]["permissions"]["workflows"] == "none"
    assert {entry["outcome"] for entry in audit_log.events("token.narrowed")} == {"denied"}


def test_an_expiry_comes_forward_and_never_goes_back(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    member = accounts.create()
    in_thirty_days = to_iso(clock.now() + timedelta(days=30))
    agent = create(api, member.token, expiresAt=in_thirty_days)
    sooner = to_iso(clock.now() + timedelta(days=7))
    assert narrow(api, member.token, agent["id"], expiresAt=sooner).body["expiresAt"] == sooner
    later = narrow(api, member.token, agent["id"], expiresAt=in_thirty_days)
    assert (later.status, later.error_code) == (403, "not_narrower")
    for body in ({"expiresAt": None}, {"expiresAt": to_iso(clock.now() - timedelta(days=1))}):
        refused = narrow(api, member.token, agent["id"], **body)
        assert (refused.status, refused.error_code) == (400, "invalid_request"), body
    clock.advance(days=8)
    assert "expired" in api.why_refused(agent["token"])


def test_a_token_without_expiry_is_given_one(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    member = accounts.create()
    agent = create(api, member.token)
    tomorrow = to_iso(clock.now() + timedelta(days=1))
    assert narrow(api, member.token, agent["id"], expiresAt=tomorrow).body["expiresAt"] == tomorrow
    assert api.get("/me", agent["token"]).headers["OpenIndex-Token-Expires"] == tomorrow


def test_the_run_tokens_a_pat_minted_are_narrowed_with_it(api: Api, work_items: Api, accounts: Accounts) -> None:
    member = accounts.create()
    agent = create(api, member.token)
    run = api.post("/workflows/agent-run-tokens", agent["token"], body={"agentId": "a"}).body["token"]
    assert work_items.post("/work-items", run, body={"title": "before"}).status == 201
    narrow(api, member.token, agent["id"], permissions=READS_WORK_ITEMS)
    assert work_items.post("/work-items", run, body={"title": "after"}).status == 403
    assert work_items.get("/work-items", run).status == 200


def test_the_owner_is_told_and_the_narrowing_is_audited(api: Api, accounts: Accounts, audit_log: AuditLog) -> None:
    member = accounts.create()
    agent = create(api, member.token)
    narrow(api, member.token, agent["id"], permissions={"work_items": "write", "queues": "read"})
    event = api.get("/me/security-events", member.token).body["items"][0]
    assert (event["type"], event["tokenId"]) == ("token_narrowed", agent["id"])
    assert event["detail"] == '"agent" was narrowed: from now on it may only write work items; read queues.'
    [entry] = audit_log.events("token.narrowed")
    assert (entry["outcome"], entry["tokenId"], entry["permissions"]) == (
        "success", agent["id"], "work_items:write,queues:read")


def test_a_read_write_token_leaves_no_admin_permission_in_place(api: Api, accounts: Accounts) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN)
    ops = create(api, admin.token, scope="admin")
    read_write = api.post("/me/pats", admin.token, body={"name": "rw", "scope": "read_write"}).body["token"]
    kept = narrow(api, read_write, ops["id"], permissions={"users": "read"})
    assert (kept.status, kept.error_code) == (403, "insufficient_scope")
    assert narrow(api, read_write, ops["id"], scope="read").status == 200


def test_only_a_live_pat_of_ones_own_is_narrowed(api: Api, accounts: Accounts) -> None:
    member, other = accounts.create(), accounts.create()
    theirs = create(api, other.token)
    assert narrow(api, member.token, theirs["id"], scope="read").status == 404
    assert narrow(api, member.token, "pat_nope", scope="read").status == 404
    mine = create(api, member.token)
    api.post(f"/me/pats/{mine['id']}/rotate", member.token, body={"graceSeconds": 60})
    rotated = narrow(api, member.token, mine["id"], scope="read")
    assert (rotated.status, rotated.error_code) == (409, "conflict")
    assert "narrow" in rotated.body["error"]["message"]
    run = accounts.run_token(api, member)
    assert narrow(api, member.token, run["id"], scope="read").status == 404


@pytest.mark.parametrize("body", [{}, {"scope": "read", "permissions": READS_WORK_ITEMS},
                                  {"permissions": {"work_items": "none"}}, {"permissions": {"billing": "read"}},
                                  {"name": "renamed"}])
def test_a_narrowing_names_what_to_narrow(api: Api, accounts: Accounts, body: dict[str, Any]) -> None:
    member = accounts.create()
    agent = create(api, member.token)
    refused = narrow(api, member.token, agent["id"], **body)
    assert (refused.status, refused.error_code) == (400, "invalid_request")


def test_narrowed_tokens_narrow_nothing(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    agent = create(api, member.token, permissions=READS_WORK_ITEMS)
    assert narrow(api, agent["token"], agent["id"], scope="read").status == 403
    run = accounts.run_token(api, member)["token"]
    assert narrow(api, run, agent["id"], scope="read").status == 403


def test_two_narrowings_at_once_never_leave_the_wider_one(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both read the token as read_write; the second to write finds it narrowed by the first and
    is refused (409), rather than leave work_items and workflows on a token narrowed to work items."""
    member = accounts.create()
    agent = create(api, member.token)
    caller = authentication.authenticate(store, f"Bearer {member.token}", clock.now())
    stale = store.tokens.get_many(member.user.id, [agent["id"]])
    with monkeypatch.context() as reads:
        reads.setattr(store.tokens, "get_many", lambda *_: stale)  # read before the other narrowing lands
        first = narrowing.narrow_pat(store, caller, agent["id"], grant=Grant.of({"work_items": Permission.READ}),
                                     expires_at=None, now=clock.now())
        assert first.token.grant.permission("workflows") is Permission.NONE
        with pytest.raises(Conflict):
            narrowing.narrow_pat(store, caller, agent["id"], grant=Grant.of(
                {"work_items": Permission.READ, "workflows": Permission.WRITE}), expires_at=None, now=clock.now())
    assert api.get("/me", agent["token"]).body["token"]["permissions"]["workflows"] == "none"


def test_a_lost_narrowing_writes_no_event(store: Store, accounts: Accounts, api: Api, clock: FrozenClock) -> None:
    member = accounts.create()
    agent = create(api, member.token)
    old = store.tokens.get_many(member.user.id, [agent["id"]])[agent["id"]]
    narrow(api, member.token, agent["id"], scope="read")
    before = api.get("/me/security-events", member.token).body["items"]
    with pytest.raises(NarrowingLost):
        store.tokens.narrow(old, dataclasses.replace(old, scope=Scope.READ), told=_event(old.user_id, clock),
                            now=clock.now())
    assert api.get("/me/security-events", member.token).body["items"] == before


def _event(user_id: str, clock: FrozenClock) -> SecurityEvent:
    return new_event(user_id, EventType.TOKEN_NARROWED, "x", clock.now())


def test_oi_narrows_a_token(cli: Cli, api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    login(cli, member.token)
    agent = create(api, member.token)
    result = cli("settings", "personal", "tokens", "narrow", agent["id"], "--permission", "work_items=read")
    assert result.exit_code == 0, result.output
    assert "Narrowed 'agent'" in result.output and "read: work items" in result.output
    assert api.get("/me", agent["token"]).body["token"]["scope"] == "custom"
    wider = cli("settings", "personal", "tokens", "narrow", agent["id"], "--scope", "read_write")
    assert wider.exit_code != 0 and "Traceback" not in wider.output
    assert wider.stderr.startswith("oi: Narrowing only takes away: this token cannot write work items, ")
    assert "token scope is insufficient" not in wider.output  # the calling token's scope is not the problem
    nothing = cli("settings", "personal", "tokens", "narrow", agent["id"])
    assert nothing.exit_code == 2 and "--permission" in nothing.output
