"""Narrowing never widens anything, found by an attacker's pass over PATCH /me/pats/{id} and grants
learned from use: not a custom token into a preset one, not a run token past its PAT, not through a
race with another narrowing, a rotation or a demotion, not an expiry through a self-rotation. Each
test failed before its fix."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.errors import Conflict, NotFound
from chalicelib.model.grants import Grant
from chalicelib.model.kinds import Scope
from chalicelib.model.tokens import LEFT_OUT
from chalicelib.services import authentication, narrowing, rotation
from chalicelib.storage import Store
from chalicelib.timeutil import from_iso, to_iso

from .conftest import READ_WRITE_GRANT, Accounts, Api, Cli, FrozenClock, effect, login, request
from .test_narrowing import create, narrow

ROOT = Path(__file__).resolve().parent.parent
# Everything a read_write preset may do, and one admin family read: a custom (narrowed) admin-scope grant.
RW_AND_READ_USERS = {**READ_WRITE_GRANT, "users": "read"}


# 1. Narrowing a custom token to a preset un-narrows it: routes that check "unnarrowed" open up.

def test_narrowing_never_unlocks_token_management_on_a_custom_token(
    api: Api, accounts: Accounts, authorize: Callable[..., Any]
) -> None:
    admin = accounts.admin()
    ops = create(api, admin.token, permissions=RW_AND_READ_USERS)  # custom: may not manage tokens
    assert effect(authorize(request(ops["token"], "POST", "/me/pats")))[0] == "Deny"
    assert effect(authorize(request(ops["token"], "POST", "/workflows/agent-run-tokens")))[0] == "Deny"
    narrowed = narrow(api, admin.token, ops["id"], scope="read_write")  # drops users:read: "narrower"
    assert narrowed.status == 200, narrowed.body
    # Its grant shrank, but it is now an unnarrowed read_write PAT: it may mint PATs and run tokens.
    assert effect(authorize(request(ops["token"], "POST", "/me/pats")))[0] == "Deny"
    assert effect(authorize(request(ops["token"], "POST", "/workflows/agent-run-tokens")))[0] == "Deny"


def test_narrow_to_used_never_offers_a_custom_token_a_preset_that_unlocks_routes(
    api: Api, accounts: Accounts, authorize: Callable[..., Any]
) -> None:
    admin = accounts.admin()
    ops = create(api, admin.token, permissions=RW_AND_READ_USERS)
    for family in ("work-items", "queues", "domains", "workflows", "calendar-sources", "conversations"):
        assert effect(authorize(request(ops["token"], "POST", f"/{family}")))[0] == "Allow"
    item = next(i for i in api.get("/me/pats", admin.token).body["items"] if i["id"] == ops["id"])
    assert item["usedScope"] is None  # it never managed tokens, and could not
    assert item["narrowToUsed"] != {"scope": "read_write"}  # `oi ... narrow --to-used` would un-narrow it


# 2. The run tokens of a PAT narrowed to a preset keep their own (wider) preset.

def test_run_tokens_of_a_pat_narrowed_to_the_read_preset_lose_write(
    api: Api, accounts: Accounts, authorize: Callable[..., Any]
) -> None:
    member = accounts.create()
    agent = create(api, member.token)
    run = accounts.run_token(api, agent_account(member, agent))["token"]
    assert effect(authorize(request(run, "POST", "/work-items")))[0] == "Allow"
    assert narrow(api, member.token, agent["id"], scope="read").status == 200
    assert effect(authorize(request(agent["token"], "POST", "/work-items")))[0] == "Deny"
    assert effect(authorize(request(run, "POST", "/work-items")))[0] == "Deny"  # Allow: still read_write


def agent_account(member: Any, agent: dict[str, Any]) -> Any:
    """``member``'s account, holding the ``agent`` PAT (so run tokens are minted from it)."""
    return type(member)(user=member.user, token=agent["token"], token_id=agent["id"])


# 3. Races: what the conditional write does not pin.

def test_two_expiry_narrowings_of_a_token_without_expiry_never_leave_the_later_expiry(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both read the token without an expiry; the narrow write pins scope and grant, and the old
    expiry only when there was one: so the later (wider) expiry lands over the earlier one."""
    member = accounts.create()
    agent = create(api, member.token)
    caller = authentication.authenticate(store, f"Bearer {member.token}", clock.now())
    stale = store.tokens.get_many(member.user.id, [agent["id"]])
    tomorrow, next_month = clock.now() + timedelta(days=1), clock.now() + timedelta(days=30)
    with monkeypatch.context() as reads:
        reads.setattr(store.tokens, "get_many", lambda *_: stale)
        narrowing.narrow_pat(store, caller, agent["id"], grant=None, expires_at=tomorrow, now=clock.now())
        with pytest.raises(Conflict):
            narrowing.narrow_pat(store, caller, agent["id"], grant=None, expires_at=next_month, now=clock.now())
    assert api.get("/me", agent["token"]).headers["OpenIndex-Token-Expires"] == to_iso(tomorrow)


def test_a_rotation_racing_a_narrowing_never_gives_the_successor_the_wider_grant(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rotation reads the token read_write; the narrowing lands; the rotation's write pins
    only "live and not rotated", so the successor is minted with the grant read before."""
    member = accounts.create()
    agent = create(api, member.token)
    caller = authentication.authenticate(store, f"Bearer {member.token}", clock.now())
    stale = store.tokens.get_many(member.user.id, [agent["id"]])
    assert narrow(api, member.token, agent["id"], permissions={"work_items": "read"}).status == 200
    with monkeypatch.context() as reads:
        reads.setattr(store.tokens, "get_many", lambda *_: stale)
        try:
            rotated = rotation.rotate_pat(store, caller, agent["id"], expires_at=LEFT_OUT, grace_seconds=60,
                                          now=clock.now())
        except Conflict:
            return  # refused: the narrowing holds
    assert api.get("/me", rotated.successor.value).body["token"]["permissions"]["workflows"] == "none"


def test_a_narrowing_racing_a_demotion_never_revives_the_revoked_admin_token(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Demotion revokes the user's admin tokens by scope; a narrowing that read the admin token
    before it rewrites the scope to read_write (no condition on the user's item, unlike
    rotation's), and the revoked token works again."""
    alice, bob = accounts.admin(), accounts.admin()
    ops = create(api, alice.token, scope="admin")
    rw = create(api, alice.token, scope="read_write")
    caller = authentication.authenticate(store, f"Bearer {rw['token']}", clock.now())  # before the demotion
    stale = store.tokens.get_many(alice.user.id, [ops["id"]])
    assert api.patch(f"/admin/users/{alice.user.id}", bob.token, body={"role": "member"}).status == 200
    assert "admin token was revoked" in api.why_refused(ops["token"])
    with monkeypatch.context() as reads:
        reads.setattr(store.tokens, "get_many", lambda *_: stale)
        try:
            narrowing.narrow_pat(store, caller, ops["id"], grant=Grant.of_scope(Scope.READ_WRITE), expires_at=None,
                                 now=clock.now())
        except (Conflict, NotFound):
            pass
    assert api.get("/me", ops["token"]).status == 401  # 200: the revoked token is back, as read_write


# 4. An expiry brought forward is undone by the token rotating itself.

def test_a_token_whose_expiry_was_brought_forward_cannot_rotate_itself_past_it(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    member = accounts.create()
    agent = create(api, member.token)  # no expiry
    clock.advance(days=100)
    in_an_hour = clock.now() + timedelta(hours=1)
    assert narrow(api, member.token, agent["id"], expiresAt=to_iso(in_an_hour)).status == 200
    successor = api.post("/me/pats/self/rotate", agent["token"])  # its holder, say a thief
    assert successor.status == 201, successor.body
    # "lifetime" = expiresAt - createdAt = 100 days + 1 hour: the successor lives 100 days
    assert from_iso(successor.body["expiresAt"]) <= in_an_hour


# 5. Docs and CLI.

def test_oi_narrow_refusal_speaks_in_words_not_api_grant_names(cli: Cli, api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    login(cli, member.token)
    agent = create(api, member.token)
    wider = cli("settings", "personal", "tokens", "narrow", agent["id"], "--scope", "admin", "--yes")
    assert wider.exit_code != 0 and "Traceback" not in wider.output
    assert "users:write" not in wider.output, wider.output  # "may not users:write, ai_providers:write, ... now"


def test_oi_to_used_does_not_say_a_token_does_what_it_used_when_it_does_less(
    cli: Cli, api: Api, accounts: Accounts, authorize: Callable[..., Any]
) -> None:
    member = accounts.create()
    login(cli, member.token)
    agent = create(api, member.token)
    authorize(request(agent["token"], "POST", "/work-items"))
    authorize(request(agent["token"], "GET", "/me/pats"))  # preset:read_write
    assert narrow(api, member.token, agent["id"], scope="read").status == 200  # now refuses both uses
    result = cli("settings", "personal", "tokens", "narrow", agent["id"], "--to-used", "--yes")
    assert "already does only what it used" not in result.output, result.output

