"""Run tokens narrowed at their mint to what one agent run needs: never more than the minting
PAT may do, never an admin family, and the gate holds every API to the narrowed grant."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.errors import InsufficientScope
from chalicelib.model.accounts import Role
from chalicelib.model.caller import Caller
from chalicelib.model.grants import Grant, Permission
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.services import run_tokens
from chalicelib.storage import Store

from .conftest import READ_WRITE_GRANT, Accounts, Api, FrozenClock

MINT = "/workflows/agent-run-tokens"
ONLY_READS_WORK_ITEMS = {family: "read" if family == "work_items" else "none" for family in READ_WRITE_GRANT}


def test_a_run_token_for_a_stage_that_only_reads_work_items_does_only_that(
    api: Api, work_items: Api, accounts: Accounts
) -> None:
    owner = accounts.create()
    assert work_items.post("/work-items", owner.token, body={"title": "seeded"}).status == 201
    minted = api.post(MINT, owner.token, body={"agentId": "triage", "permissions": {"work_items": "read"}})
    assert minted.status == 201, minted.body
    assert (minted.body["scope"], minted.body["permissions"]) == ("custom", ONLY_READS_WORK_ITEMS)
    run = minted.body["token"]
    assert [item["title"] for item in work_items.get("/work-items", run).body["items"]] == ["seeded"]
    refused = work_items.post("/work-items", run, body={"title": "no"})
    assert (refused.status, refused.body["error"]["requiredScope"]) == (403, "work_items:write")
    me = api.get("/me", run).body["token"]
    assert (me["scope"], me["permissions"]) == ("custom", ONLY_READS_WORK_ITEMS)
    (listed,) = api.get("/me/agent-run-tokens", owner.token).body["items"]
    assert (listed["scope"], listed["permissions"]) == ("custom", ONLY_READS_WORK_ITEMS)


def test_a_run_token_minted_without_permissions_has_its_pats_read_write_families(
    api: Api, accounts: Accounts
) -> None:
    run = accounts.run_token(api, accounts.create())
    assert (run["scope"], run["permissions"]) == ("read_write", READ_WRITE_GRANT)


@pytest.mark.parametrize("permissions", [
    {"users": "read"}, {"instance_settings": "write"}, {"billing": "read"}, {"work_items": "none"}, {},
    {"work_items": "admin"}, {"work_items": True}, [],
])
def test_a_narrowing_that_names_no_run_family_or_gives_nothing_is_a_400(
    api: Api, accounts: Accounts, permissions: object
) -> None:
    owner = accounts.create()
    refused = api.post(MINT, owner.token, body={"agentId": "a", "permissions": permissions})
    assert (refused.status, refused.error_code) == (400, "invalid_request"), permissions
    assert api.get("/me/agent-run-tokens", owner.token).body["items"] == []


def test_a_run_token_never_gets_a_permission_its_pat_does_not_have(store: Store, clock: FrozenClock) -> None:
    narrow_pat = Caller(user_id="usr_1", email="a@example.com", role=Role.MEMBER,
                        user_created_at=datetime(2026, 1, 1, tzinfo=UTC), token_id="pat_1", token_name="t",
                        scope=Scope.READ_WRITE, kind=TokenKind.PAT, expires_at=None,
                        permissions="work_items:read")
    wider = Grant.of({"work_items": Permission.WRITE})
    with pytest.raises(InsufficientScope):
        run_tokens.mint_run_token(store, narrow_pat, agent_id="a", stage=None, lifetime_seconds=600,
                                  now=clock.now(), permissions=wider)


def test_a_run_tokens_grant_is_held_to_its_pats_as_it_is_now() -> None:
    run = Grant.of({"work_items": Permission.WRITE, "workflows": Permission.READ})
    pat = Grant.of({"work_items": Permission.READ, "queues": Permission.WRITE})
    assert run.meet(pat).as_dict()["work_items"] == "read"
    assert run.meet(pat).as_dict()["workflows"] == "none" and run.meet(pat).as_dict()["queues"] == "none"
    assert run.meet(pat).within(pat) and run.meet(pat).within(run)
