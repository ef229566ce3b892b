"""The token policy's cap on what a new token may hold: with refuseReadWritePreset, new PATs take
read, admin, or permissions family by family, never the broad read_write preset; tokens made
before keep working, and a person still gets one token that manages tokens."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope

from .conftest import READ_WRITE_GRANT, Account, Accounts, Api, Cli, FrozenClock, login, one_line

POLICY = "/admin/settings/token-policy"
OPEN = {"maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
        "refuseReadWritePreset": False}
REFUSED = "the instance's token policy allows no new tokens with the broad read_write preset"


@pytest.fixture
def admin(accounts: Accounts) -> Account:
    return accounts.create(Role.ADMIN, Scope.ADMIN)


def refuse_the_preset(api: Api, admin: Account) -> None:
    saved = api.request("PUT", POLICY, admin.token, body={**OPEN, "refuseReadWritePreset": True})
    assert saved.status == 200 and saved.body["refuseReadWritePreset"] is True, saved.body


def create(api: Api, token: str, **grant: Any) -> Any:
    return api.post("/me/pats", token, body={"name": "new", **grant})


def test_new_tokens_take_read_admin_or_families_never_the_read_write_preset(
    api: Api, accounts: Accounts, admin: Account
) -> None:
    member = accounts.create()
    refuse_the_preset(api, admin)
    for grant in ({"scope": "read_write"}, {"permissions": READ_WRITE_GRANT}):  # the same preset, spelled out
        refused = create(api, member.token, **grant)
        assert (refused.status, refused.error_code) == (400, "policy_violation"), grant
        assert REFUSED in refused.body["error"]["message"]
    assert create(api, member.token, scope="read").status == 201
    assert create(api, member.token, permissions={"work_items": "write", "queues": "write"}).status == 201
    assert create(api, admin.token, scope="admin").status == 201
    assert len(api.get("/me/pats", member.token).body["items"]) == 3  # the refused ones were never stored


def test_tokens_made_before_keep_working_and_a_person_still_gets_one_that_manages_tokens(
    api: Api, accounts: Accounts, admin: Account
) -> None:
    member = accounts.create()
    refuse_the_preset(api, admin)
    assert api.get("/me/pats", member.token).status == 200  # the read_write token made before works
    assert api.post("/me/pats/self/rotate", member.token).status == 201  # and rotates into its successor
    invited = api.post("/admin/invites", admin.token, body={"email": "new@example.com"}).body["token"]
    claimed = api.post("/auth/invites/claim", body={"token": invited})
    assert (claimed.status, claimed.body["pat"]["scope"]) == (201, "read_write")  # a first token manages tokens
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body["token"]
    assert api.post("/auth/invites/claim", body={"token": link}).body["pat"]["scope"] == "read_write"


def test_me_says_the_preset_is_refused_so_clients_offer_only_what_is_accepted(
    api: Api, accounts: Accounts, admin: Account
) -> None:
    member = accounts.create()
    assert api.get("/me", member.token).body["tokenLimits"]["read_write"]["refused"] is None
    refuse_the_preset(api, admin)
    limits = api.get("/me", member.token).body["tokenLimits"]
    assert REFUSED in limits["read_write"]["refused"]
    assert (limits["read"]["refused"], limits["admin"]["refused"] if "admin" in limits else None) == (None, None)


def test_the_preview_counts_the_broad_tokens_that_would_not_be_made_again_and_blocks_none(
    api: Api, accounts: Accounts, admin: Account, clock: FrozenClock
) -> None:
    member = accounts.create()  # its first token: made by no token, as an invite's is
    for scope in ("read_write", "read_write", "read"):
        assert create(api, member.token, scope=scope).status == 201
    create(api, member.token, permissions={"work_items": "read"})
    found = api.get(f"{POLICY}/impact?refuseReadWritePreset=true", admin.token).body
    assert (found["readWritePresetTokens"], found["tokensBlocked"], found["sample"]) == (2, 0, [])
    assert api.get(f"{POLICY}/impact", admin.token).body["readWritePresetTokens"] == 0
    assert api.get(f"{POLICY}/impact?refuseReadWritePreset=maybe", admin.token).status == 400


def test_a_client_that_does_not_know_the_rule_cannot_relax_it(api: Api, admin: Account) -> None:
    refuse_the_preset(api, admin)
    older = {key: value for key, value in OPEN.items() if key != "refuseReadWritePreset"}
    refused = api.request("PUT", POLICY, admin.token, body=older)
    assert (refused.status, refused.error_code) == (400, "invalid_request")
    assert api.get(POLICY, admin.token).body["refuseReadWritePreset"] is True


def test_oi_previews_sets_and_is_told_the_rule(
    cli: Cli, api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=30))
    member = accounts.create()
    create(api, member.token, scope="read_write")
    login(cli, admin.token)
    result = cli("admin", "token-policy", "set", "--refuse-read-write-preset", "--yes")
    assert result.exit_code == 0, result.output
    assert "refuse read_write preset:  no -> yes" in result.stdout
    assert ("1 live read_write token(s) that people made themselves (not invites' first tokens) could not be "
            "made again; they keep working.") in result.stdout
    assert api.get(POLICY, admin.token).body["refuseReadWritePreset"] is True
    login(cli, member.token)
    refused = cli("settings", "personal", "tokens", "create", "--name", "ci", "--scope", "read_write")
    assert refused.exit_code == 1
    assert one_line(refused.stderr).startswith(f"oi: Invalid request: {REFUSED}: choose read, or --permission")
