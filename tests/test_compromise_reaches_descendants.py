"""Revocation reaches what a credential made (issue 18): invites, links and tokens made by a
token revoked for cause die with it; a token made while revoke-all, deactivation or demotion
runs dies too, whatever the clocks; a rotated token never outlives its successor; and an
account is never time-bombed by the token that invited it. Each test failed before its fix."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.model import ids, token_format
from chalicelib.model.accounts import Role, UserStatus
from chalicelib.model.kinds import TokenKind
from chalicelib.services import revocation, users
from chalicelib.storage import Store

from .conftest import Account, Accounts, Api, AuditLog, DynamoCalls, FrozenClock, lands_just_before


def claim(api: Api, invite: dict[str, Any]) -> tuple[int, str | None]:
    answer = api.post("/auth/invites/claim", body={"token": invite["token"]})
    return answer.status, answer.error_code if answer.status >= 400 else None


def listed_status(api: Api, admin: Account, invite_id: str) -> str:
    return next(item["status"] for item in api.get("/admin/invites", admin.token).body["items"]
                if item["id"] == invite_id)


def make_pat(api: Api, token: str, name: str, scope: str = "read_write") -> dict[str, Any]:
    made = api.post("/me/pats", token, body={"name": name, "scope": scope})
    assert made.status == 201, made.body
    return made.body


def alive(api: Api, token: str) -> bool:
    return api.get("/me", token).status == 200


# --- 1. What a revoked credential made dies with it ---------------------------------------


def test_revoke_all_then_deactivation_kill_the_invites_and_links_the_token_made(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    alice, bob, carol = accounts.admin(), accounts.admin(), accounts.admin()
    invite = api.post("/admin/invites", alice.token, body={"email": "thief@evil.example", "role": "admin"}).body
    link = api.post(f"/admin/users/{bob.user.id}/access-links", alice.token).body
    clock.advance(seconds=1)
    assert api.post("/me/pats/revoke-all", alice.token).status == 204
    assert api.patch(f"/admin/users/{alice.user.id}", carol.token, body={"status": "deactivated"}).status == 200
    assert claim(api, invite) == (410, "invite_revoked")
    assert claim(api, link) == (410, "invite_revoked")
    assert listed_status(api, carol, invite["id"]) == "revoked"
    assert listed_status(api, carol, link["id"]) == "revoked"


def test_a_leak_report_kills_the_re_access_link_a_stolen_token_made_for_its_own_account(
    api: Api, accounts: Accounts
) -> None:
    owner = accounts.admin()
    accounts.admin()
    link = api.post(f"/admin/users/{owner.user.id}/access-links", owner.token).body
    assert api.post("/credentials/revoke", body={"credentials": [owner.token]}).status == 202
    assert not alive(api, owner.token)
    assert claim(api, link) == (410, "invite_revoked")


def test_a_demoted_admins_pending_admin_invites_make_no_admin(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    first, second = accounts.admin(), accounts.admin()
    invite = api.post("/admin/invites", second.token, body={"email": "new@example.com", "role": "admin"}).body
    clock.advance(seconds=1)
    assert api.patch(f"/admin/users/{second.user.id}", first.token, body={"role": "member"}).status == 200
    assert claim(api, invite) == (410, "invite_revoked")
    assert listed_status(api, first, invite["id"]) == "revoked"


def test_a_leak_report_revokes_what_the_token_made_through_any_chain_and_tells_which(
    api: Api, accounts: Accounts
) -> None:
    owner = accounts.create()
    laptop = make_pat(api, owner.token, "laptop")
    child = make_pat(api, laptop["token"], "ci")
    grandchild = make_pat(api, child["token"], "deploy")
    run = accounts.run_token(api, Account(owner.user, child["token"], child["id"]))
    sibling = make_pat(api, owner.token, "mine")  # made by another token: not the leak's business
    assert api.post("/credentials/revoke", body={"credentials": [laptop["token"]]}).status == 202
    assert [alive(api, made["token"]) for made in (laptop, child, grandchild, run)] == [False] * 4
    assert alive(api, sibling["token"]) and alive(api, owner.token)
    told = api.get("/me/security-events", owner.token).body["items"]
    revoked = [laptop["id"], child["id"], grandchild["id"], run["id"]]
    assert sorted(event["tokenId"] for event in told) == sorted(revoked)
    through = next(event for event in told if event["tokenId"] == grandchild["id"])
    assert "laptop" in through["detail"] and "deploy" in through["detail"]


def test_a_token_the_leaked_token_makes_while_the_report_runs_is_revoked_too(
    api: Api, accounts: Accounts, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report reads the account, then revokes: a PAT whose creating transaction commits in
    between is found by the second read and revoked in turn."""
    owner = accounts.create()
    leaked = make_pat(api, owner.token, "leaked")
    made_meanwhile: list[dict[str, Any]] = []
    original = store.tokens.account

    def racing(user_id: str) -> Any:
        found = original(user_id)
        if not made_meanwhile:
            made_meanwhile.append(make_pat(api, leaked["token"], "persist"))
        return found

    monkeypatch.setattr(store.tokens, "account", racing)
    assert api.post("/credentials/revoke", body={"credentials": [leaked["token"]]}).status == 202
    assert not alive(api, made_meanwhile[0]["token"])


def test_deleting_or_rotating_the_making_token_revokes_nothing_it_made(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    accounts.admin()
    sender = make_pat(api, admin.token, "sender", scope="admin")
    invite = api.post("/admin/invites", sender["token"], body={"email": "colleague@example.com"}).body
    child = make_pat(api, sender["token"], "child")
    rotated = api.post(f"/me/pats/{sender['id']}/rotate", admin.token).body
    assert api.delete(f"/me/pats/{rotated['id']}", admin.token).status == 204
    assert alive(api, child["token"])
    assert listed_status(api, admin, invite["id"]) == "pending"
    assert claim(api, invite) == (201, None)


def test_who_made_a_token_or_invite_is_recorded_listed_and_audited(
    api: Api, accounts: Accounts, audit_log: AuditLog, clock: FrozenClock
) -> None:
    """A responder answers "what did this stolen token make?" from the audit log alone."""
    admin, member = accounts.admin(), accounts.create()
    accounts.admin()
    made = make_pat(api, admin.token, "made")
    listed = next(item for item in api.get("/me/pats", admin.token).body["items"] if item["id"] == made["id"])
    assert listed["createdBy"] == {"userId": admin.user.id, "tokenId": admin.token_id, "inviteId": None}
    invite = api.post("/admin/invites", admin.token, body={"email": "new@example.com"}).body
    listed_invite = api.get("/admin/invites", admin.token).body["items"][0]
    assert listed_invite["createdBy"] == {"userId": admin.user.id, "tokenId": admin.token_id,
                                          "email": admin.user.email}
    claimed = api.post("/auth/invites/claim", body={"token": invite["token"]}).body
    first = next(item for item in api.get("/me/pats", claimed["pat"]["token"]).body["items"])
    assert first["createdBy"] == {"userId": admin.user.id, "tokenId": admin.token_id, "inviteId": invite["id"]}
    api.post(f"/admin/users/{member.user.id}/access-links", admin.token)
    second = api.post("/admin/invites", admin.token, body={"email": "other@example.com"}).body
    api.delete(f"/admin/invites/{second['id']}", admin.token)
    api.patch(f"/admin/users/{member.user.id}", admin.token, body={"role": "admin"})
    api.delete(f"/me/pats/{made['id']}", admin.token)
    clock.advance(seconds=1)
    api.post(f"/admin/users/{member.user.id}/pats/revoke-all", admin.token)
    lines = [json.loads(line) for line in audit_log.lines]
    with_token = {line["audit"] for line in lines if line.get("viaTokenId") == admin.token_id}
    assert {"token.created", "invite.created", "access_link.created", "invite.revoked", "user.updated",
            "token.deleted", "tokens.revoked_all"} <= with_token
    claimed_line = next(line for line in lines if line["audit"] == "invite.claimed")
    assert claimed_line["inviteCreatedByTokenId"] == admin.token_id


# --- 2. A token created while a revocation runs does not survive it -------------------------


@pytest.mark.parametrize("skew_ms", [5, 2000])
def test_a_pat_made_while_revoke_all_runs_dies_with_it(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, skew_ms: float
) -> None:
    victim = accounts.create()
    spawned: list[dict[str, Any]] = []
    lands_just_before(monkeypatch, store.users, "revoke_tokens", clock,
                       lambda: spawned.append(make_pat(api, victim.token, "persist")), skew_ms)
    revocation.revoke_all_tokens(store, victim.user.id, now=clock.now(), actor_id=victim.user.id)
    clock.advance(seconds=3)
    assert not alive(api, spawned[0]["token"])
    assert spawned[0]["id"] not in [item["id"] for item in _pats_of(api, accounts, victim)]


@pytest.mark.parametrize("skew_ms", [5, 2000])
def test_a_pat_made_while_a_deactivation_runs_stays_dead_after_reactivation(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, skew_ms: float
) -> None:
    admin, member = accounts.admin(), accounts.create()
    spawned: list[dict[str, Any]] = []
    lands_just_before(monkeypatch, store.users, "change", clock,
                       lambda: spawned.append(make_pat(api, member.token, "persist")), skew_ms)
    users.update_user(store, member.user.id, status=UserStatus.DEACTIVATED, role=None, actor_id=admin.user.id,
                      now=clock.now())
    clock.advance(seconds=3)
    users.update_user(store, member.user.id, status=UserStatus.ACTIVE, role=None, actor_id=admin.user.id,
                      now=clock.now())
    assert not alive(api, spawned[0]["token"])


@pytest.mark.parametrize("skew_ms", [5, 2000])
def test_an_admin_pat_made_while_a_demotion_runs_stays_dead_after_promotion(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, skew_ms: float
) -> None:
    first, second = accounts.admin(), accounts.admin()
    spawned: list[dict[str, Any]] = []
    lands_just_before(monkeypatch, store.users, "change", clock,
                       lambda: spawned.append(make_pat(api, second.token, "persist", scope="admin")), skew_ms)
    users.update_user(store, second.user.id, status=None, role=Role.MEMBER, actor_id=first.user.id, now=clock.now())
    clock.advance(seconds=3)
    users.update_user(store, second.user.id, status=None, role=Role.ADMIN, actor_id=first.user.id, now=clock.now())
    assert not alive(api, spawned[0]["token"])


def _pats_of(api: Api, accounts: Accounts, owner: Account) -> list[dict[str, Any]]:
    admin = accounts.admin()
    return list(api.get(f"/admin/users/{owner.user.id}/pats", admin.token).body["items"])


# --- 3. A rotated token never outlives its successor ----------------------------------------


def _rotate(api: Api, caller: str, token_id: str, **body: Any) -> dict[str, Any]:
    rotated = api.post(f"/me/pats/{token_id}/rotate", caller, body=body)
    assert rotated.status == 201, rotated.body
    return rotated.body


def test_deleting_the_end_of_a_rotation_chain_ends_every_window_before_it(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    a = make_pat(api, owner.token, "a")
    b = _rotate(api, owner.token, a["id"], graceSeconds=86400)
    c = _rotate(api, owner.token, b["id"], graceSeconds=86400)
    assert alive(api, a["token"]) and alive(api, b["token"])
    assert api.delete(f"/me/pats/{c['id']}", owner.token).status == 204
    assert not alive(api, b["token"]) and not alive(api, a["token"])


def test_a_leak_report_ends_the_windows_of_the_leaked_tokens_predecessors(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    a = make_pat(api, owner.token, "a")
    b = _rotate(api, owner.token, a["id"], graceSeconds=86400)
    assert api.post("/credentials/revoke", body={"credentials": [b["token"]]}).status == 202
    assert not alive(api, b["token"]) and not alive(api, a["token"])


def test_a_window_never_ends_after_its_successors_expiry(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    old = make_pat(api, owner.token, "old")
    soon = "2026-11-24T12:01:10Z"  # 70 s from the frozen clock
    rotated = api.post("/me/pats/self/rotate", old["token"], body={"expiresAt": soon, "graceSeconds": 86400})
    assert rotated.status == 201, rotated.body
    assert rotated.headers["OpenIndex-Token-Expires"] == soon
    clock.advance(seconds=70)
    assert not alive(api, rotated.body["token"]) and not alive(api, old["token"])


# --- 4. A leak report costs one read per hundred strings of any kind --------------------------


def test_a_report_of_forged_strings_of_every_kind_costs_one_read_per_hundred(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, clock: FrozenClock
) -> None:
    owner = accounts.create()
    forged = [token_format.mint(TokenKind.AGENT_RUN.spec, token_id=ids.new_id("run", clock.now()),
                                user_id=owner.user.id, parent_id=owner.token_id).value for _ in range(400)]
    forged += [token_format.mint(TokenKind.PAT.spec, token_id=ids.new_id("pat", clock.now()),
                                 user_id=ids.new_id("usr", clock.now())).value for _ in range(300)]
    forged += [token_format.mint(TokenKind.INVITE.spec, token_id=ids.new_id("inv", clock.now())).value
               for _ in range(300)]
    dynamo_calls.clear()
    assert api.post("/credentials/revoke", body={"credentials": forged}).status == 202
    assert dynamo_calls.operations == ["BatchGetItem"] * 10
    assert alive(api, owner.token)


# --- 5. An account is not time-bombed by the token that invited it ----------------------------


def test_under_a_required_expiry_an_invited_accounts_first_pat_follows_the_policy_not_the_inviter(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    admin = accounts.admin()
    policy = {"maxLifetimeDays": 90, "requireExpiry": True, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
              "refuseReadWritePreset": False}
    inviter = api.post("/me/pats", admin.token, body={"name": "30 days", "scope": "admin",
                                                     "expiresAt": "2026-12-24T12:00:00Z"}).body["token"]
    assert api.request("PUT", "/admin/settings/token-policy", inviter, body=policy).status == 200
    invite = api.post("/admin/invites", inviter, body={"email": "new@example.com"}).body
    first = api.post("/auth/invites/claim", body={"token": invite["token"]}).body["pat"]
    assert first["expiresAt"] == "2027-02-22T12:00:00Z"  # 90 days: the policy, not the inviter's 30
    clock.advance(days=60)  # the inviting token is long dead; the account renews within the policy
    renewed = api.post("/me/pats/self/rotate", first["token"])
    assert renewed.status == 201, renewed.body
    assert renewed.body["expiresAt"] == "2027-04-23T12:00:00Z"


def test_an_invite_revoked_with_its_maker_can_be_cleared_from_the_list(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    first, second = accounts.admin(), accounts.admin()
    invite = api.post("/admin/invites", second.token, body={"email": "new@example.com"}).body
    clock.advance(seconds=1)
    assert api.patch(f"/admin/users/{second.user.id}", first.token, body={"role": "member"}).status == 200
    assert listed_status(api, first, invite["id"]) == "revoked"
    assert api.delete(f"/admin/invites/{invite['id']}", first.token).status == 204
    assert invite["id"] not in [item["id"] for item in api.get("/admin/invites", first.token).body["items"]]


def test_a_deleted_token_is_gone_for_every_reader_but_a_leak_report_still_reaches_what_it_made(
    api: Api, accounts: Accounts
) -> None:
    owner = accounts.create()
    deleted = make_pat(api, owner.token, "deleted")
    child = make_pat(api, deleted["token"], "child")
    assert api.delete(f"/me/pats/{deleted['id']}", owner.token).status == 204
    assert not alive(api, deleted["token"])
    assert api.get("/me", deleted["token"]).error_code == "invalid_token"
    assert deleted["id"] not in [item["id"] for item in api.get("/me/pats", owner.token).body["items"]]
    assert api.delete(f"/me/pats/{deleted['id']}", owner.token).status == 404
    assert api.post(f"/me/pats/{deleted['id']}/rotate", owner.token).status == 404
    assert alive(api, child["token"])  # a delete revokes nothing it made...
    assert api.post("/credentials/revoke", body={"credentials": [deleted["token"]]}).status == 202
    assert not alive(api, child["token"])  # ...a leak report of it does
