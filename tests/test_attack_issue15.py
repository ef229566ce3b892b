"""Attacks on issue 15's server side: public leaked-credential revocation, security events, token policy.

Failing tests are findings (the product is not fixed here); passing tests add coverage beyond
tests/test_security_events.py, tests/test_leaked_credentials.py and tests/test_token_policy.py.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.model import token_format
from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.services import revocation
from chalicelib.storage import Store
from chalicelib.timeutil import to_iso
from openindex_ops import bootstrap

from .conftest import TABLE, Account, Accounts, Api, AuditLog, DynamoCalls, FrozenClock

ROOT = Path(__file__).resolve().parent.parent
POLICY = "/admin/settings/token-policy"
DEFAULTS = {"maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400}


def put_policy(api: Api, admin: Account | str, **changes: Any) -> Any:
    token = admin if isinstance(admin, str) else admin.token
    return api.request("PUT", POLICY, token, body={**DEFAULTS, **changes})


def report(api: Api, *credentials: str, **extra: Any) -> Any:
    return api.post("/credentials/revoke", body={"credentials": list(credentials), **extra})


def events(api: Api, token: str, query: str = "") -> list[dict[str, Any]]:
    response = api.get(f"/me/security-events{query}", token)
    assert response.status == 200, response.body
    return list(response.body["items"])


# --- POST /credentials/revoke ---------------------------------------------------------------


def test_a_forged_twin_in_the_same_report_does_not_save_a_leaked_invite(api: Api, accounts: Accounts) -> None:
    """FINDING: _revoke_invites keys the reported digests by invite id, so a second string naming
    the same invite (valid checksum, another secret) replaces the real digest and the leaked
    invite, reported in the same body, stays claimable."""
    admin = accounts.admin()
    leaked = api.post("/admin/invites", admin.token, body={"email": "new@example.com"}).body
    twin = token_format.mint(TokenKind.INVITE.spec, token_id=leaked["id"]).value
    assert report(api, leaked["token"], twin).status == 202
    assert api.post("/auth/invites/claim", body={"token": leaked["token"]}).status == 410


def test_a_forged_twin_in_the_same_report_does_not_save_a_leaked_pat(api: Api, accounts: Accounts) -> None:
    """Holds for PATs and run tokens: each reported string is compared on its own."""
    member = accounts.create()
    twin = token_format.mint(TokenKind.PAT.spec, token_id=member.token_id, user_id=member.user.id).value
    assert report(api, member.token, twin).status == 202
    assert api.get("/me", member.token).status == 401


def test_reporting_a_run_token_that_was_already_dead_tells_its_owner_nothing(
    api: Api, accounts: Accounts, audit_log: AuditLog
) -> None:
    """FINDING: a run token whose parent PAT was deleted is already refused, but the leak path
    never looks at the parent: it deletes the item, audits a revocation and tells the owner
    \"your agent run token was reported leaked and was revoked\" for a token that was not live."""
    member = accounts.create()
    parent = api.post("/me/pats", member.token, body={"name": "ci", "scope": "read_write"}).body
    run = api.post("/workflows/agent-run-tokens", parent["token"], body={"agentId": "bot"}).body
    assert api.delete(f"/me/pats/{parent['id']}", member.token).status == 204
    assert api.get("/me", run["token"]).status == 401  # dead already
    assert report(api, run["token"]).status == 202
    assert events(api, member.token) == []
    assert audit_log.events("credential.leak_revoked") == []


def test_a_reported_token_blocked_by_policy_is_revoked_for_good(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """Holds: a leak report of a token the policy blocks deletes it, so relaxing the policy
    does not bring a leaked token back."""
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    member = accounts.create()
    assert put_policy(api, admin, requireExpiry=True).status == 200
    assert api.get("/me", member.token).status == 401
    assert report(api, member.token).status == 202
    assert put_policy(api, admin).status == 200
    assert api.get("/me", member.token).status == 401


def test_the_source_cannot_disguise_the_host_it_names(api: Api, accounts: Accounts) -> None:
    """FINDING (low): the source is shown to the owner as \"reported leaked at <source>\"; the
    pattern allows userinfo, so https://github.com@evil.example/... reads as GitHub but is
    another host (and quotes let it imitate the sentence around it)."""
    member = accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "s", "scope": "read_write"}).body
    response = report(api, spare["token"], source="https://github.com@evil.example/reset-your-tokens-here")
    assert response.status == 400


@pytest.mark.parametrize("source", [
    "https://example.com/" + "a" * 2030 + " ", "http://" + "!" * 2041, "https://" + "@" * 2040,
])
def test_hostile_sources_are_400_quickly(api: Api, source: str) -> None:
    """Holds: the source pattern is linear enough at its 2,048-character ceiling; never 500."""
    response = report(api, "x", source=source[:2048] if len(source) > 2048 else source)
    assert response.status in (202, 400)


@pytest.mark.parametrize("raw", [
    b'{"credentials": [null]}', b'{"credentials": ["x"], "source": null}', b'{"credentials": [["x"]]}',
    b'[]', b'null', b'{"credentials": ["' + b"\\ud800" + b'"]}', b'{"credentials": {"a": "b"}}',
])
def test_odd_bodies_are_never_500(api: Api, raw: bytes) -> None:
    assert api.post("/credentials/revoke", raw=raw).status in (202, 400)


def test_a_thousand_distinct_forged_users_stay_within_ten_reads_and_no_writes(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, clock: FrozenClock
) -> None:
    """Holds: the worst unauthenticated body (1,000 forged PATs, each naming another user) is
    10 BatchGetItems of 100 keys (a user is read only for a token whose digest matched) and no
    write; forged invites 10 reads."""
    from chalicelib.model import ids

    forged = [token_format.mint(TokenKind.PAT.spec, token_id=ids.new_id("pat", clock.now()),
                                user_id=ids.new_id("usr", clock.now())).value for _ in range(1000)]
    dynamo_calls.clear()
    assert report(api, *forged).status == 202
    assert dynamo_calls.operations == ["BatchGetItem"] * 10
    invites = [token_format.mint(TokenKind.INVITE.spec, token_id=ids.new_id("inv", clock.now())).value
               for _ in range(1000)]
    dynamo_calls.clear()
    assert report(api, *invites).status == 202
    assert dynamo_calls.operations == ["BatchGetItem"] * 10


# --- Security events ------------------------------------------------------------------------


def test_events_are_newest_first_even_with_a_repeatable_event(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """FINDING: a repeatable event's id starts with the start of its hour window, not its time,
    so an event at 12:50 sorts below one at 12:10 and the log is not newest first (and a page
    boundary can fall between them in the wrong order)."""
    admin, member = accounts.admin(), accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "spare", "scope": "read_write"}).body
    successor = api.post("/me/pats/self/rotate", member.token).body  # grace 0: the old one stops now
    clock.advance(minutes=10)
    assert api.delete(f"/admin/users/{member.user.id}/pats/{spare['id']}", admin.token).status == 204
    clock.advance(minutes=40)
    assert api.get("/me", member.token).status == 401  # use after rotation, told at 12:50
    found = events(api, successor["token"])
    assert [event["type"] for event in found] == ["token_used_after_rotation", "token_revoked_by_admin"]
    ats = [event["at"] for event in found]
    assert ats == sorted(ats, reverse=True)


def test_a_users_cursor_never_reaches_another_users_events(api: Api, accounts: Accounts) -> None:
    """Holds: a cursor is a position inside the caller's own partition, whoever's event id it names."""
    admin, victim, snoop = accounts.admin(), accounts.create(), accounts.create()
    for _ in range(3):
        api.post(f"/admin/users/{victim.user.id}/access-links", admin.token)
    theirs = events(api, victim.token)
    for event in theirs:
        assert events(api, snoop.token, f"?cursor={event['id']}") == []
    upper = theirs[-1]["id"].upper().replace("EVT_", "evt_")
    assert events(api, snoop.token, f"?cursor={upper}") == []


@pytest.mark.parametrize("query", [
    "?limit=", "?limit=-1", "?limit=1e2", "?limit=%EF%BC%91", "?cursor=", "?cursor=evt_" + "z" * 26,
    "?cursor=evt_" + "7" + "z" * 25, "?cursor=usr_01jdx7k2m3n4p5q6r7s8t9v0wx", "?other=1",
])
def test_odd_event_queries_are_never_500(api: Api, accounts: Accounts, query: str) -> None:
    member = accounts.create()
    assert api.get(f"/me/security-events{query}", member.token).status in (200, 400)


def test_a_repeated_refused_use_costs_no_write_within_the_hour(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, clock: FrozenClock
) -> None:
    """FINDING (low): once the hour's event is stored, every further use of a blocked (or
    rotated-away) token still sends a conditional PutItem that fails: a write, billed, per
    refused request, by anyone holding such a token. The event id is deterministic, so its key
    could ride in the authorizer's one BatchGetItem and the handler write only when absent."""
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    member = accounts.create()
    put_policy(api, admin, requireExpiry=True)
    assert api.get("/me", member.token).status == 401
    dynamo_calls.clear()
    assert api.get("/me", member.token).status == 401
    assert dynamo_calls.operations == ["BatchGetItem"]


def test_a_leaked_bootstrap_invite_is_told_to_someone_who_can_read_it(
    store: Store, api: Api, capsys: pytest.CaptureFixture[str], clock: FrozenClock
) -> None:
    """FINDING (low): an invite or re-access link made by openindex-bootstrap has
    created_by="bootstrap"; when it is reported leaked the event is written to the partition
    USER#bootstrap, which no one can ever read."""
    argv = ["--email", "root@example.com", "--table", TABLE, "--invite", "--app-url", "https://x.test"]
    assert bootstrap.main(argv) == 0
    invite = [line for line in capsys.readouterr().out.splitlines()
              if line.startswith("OPENINDEX_ADMIN_INVITE=")][0].partition("=")[2]
    assert report(api, invite).status == 202
    orphaned = store.events.page("bootstrap", 10, None, clock.now())[0]
    assert orphaned == []


# --- Token policy ---------------------------------------------------------------------------


def test_an_admin_cannot_lock_themselves_out_through_a_rotation_window(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """FINDING: the 409 check looks only at the calling token. The only admin rotates their
    non-expiring token (successor: no expiry), then, from the old token during its grace window
    (it now expires, so it fits), requires expiry: 200. The successor is blocked, and everything
    the old token can still make dies with it, so when the window ends no admin token works."""
    admin = accounts.admin()
    successor = api.post("/me/pats/self/rotate", admin.token, body={"graceSeconds": 3600}).body
    assert successor["expiresAt"] is None
    response = put_policy(api, admin, requireExpiry=True)
    if response.status == 200:  # show the lockout before failing on the status
        assert api.get("/me", successor["token"]).status == 401
        made = api.post("/me/pats", admin.token, body={"name": "rescue", "scope": "admin", "expiresAt":
                                                      to_iso(clock.now() + timedelta(minutes=30))}).body
        clock.advance(seconds=3601)
        assert api.get("/me", admin.token).status == 401
        assert api.get("/me", made["token"]).status == 401
    assert response.status == 409 and response.error_code == "policy_blocks_caller"


def test_the_bootstrap_admin_token_fits_the_policy_in_force(
    store: Store, api: Api, accounts: Accounts, capsys: pytest.CaptureFixture[str], clock: FrozenClock
) -> None:
    """FINDING: openindex-bootstrap (the recovery path when admins lost their tokens, for a new
    email) writes an admin PAT without expiry, ignoring the token policy: under requireExpiry it
    is printed and then refused at once (401 blocked_by_policy)."""
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    assert put_policy(api, admin, requireExpiry=True).status == 200
    assert bootstrap.main(["--email", "rescue@example.com", "--table", TABLE]) == 0
    token = [line for line in capsys.readouterr().out.splitlines()
             if line.startswith("OPENINDEX_ADMIN_TOKEN=")][0].partition("=")[2]
    assert api.get("/me", token).status == 200


@pytest.mark.parametrize(("days", "lifetime", "status"), [
    (30, timedelta(days=30), 201), (30, timedelta(days=30, seconds=1), 400),
])
def test_the_cap_is_inclusive_to_the_second_with_a_sub_second_clock(
    api: Api, accounts: Accounts, clock: FrozenClock, days: int, lifetime: timedelta, status: int
) -> None:
    """Holds: with the clock at .999999 s, a token asked to live exactly the cap is made and
    works; one second more is 400; the filled-in expiry works at use."""
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    put_policy(api, admin, maxLifetimeDays=days)
    owner = accounts.create(expires_at=clock.now() + timedelta(days=days))
    clock.advance(seconds=5, microseconds=999_999)
    asked = api.post("/me/pats", owner.token, body={"name": "n", "scope": "read_write",
                                                   "expiresAt": to_iso(clock.now() + lifetime)})
    if asked.status != 201:
        assert asked.status == 400 and asked.error_code in ("policy_violation", "expiry_exceeds_token")
        return
    assert api.get("/me", asked.body["token"]).status == 200
    run = api.post("/workflows/agent-run-tokens", asked.body["token"], body={"agentId": "a"}).body
    assert api.get("/me", run["token"]).status == 200


def test_a_run_token_at_exactly_the_run_limit_works_with_a_sub_second_clock(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    put_policy(api, admin, runTokenMaxSeconds=600)
    member = accounts.create()
    clock.advance(microseconds=999_999)
    run = api.post("/workflows/agent-run-tokens", member.token, body={"agentId": "a", "expiresInSeconds": 600})
    assert run.status == 201
    assert api.get("/me", run.body["token"]).status == 200
    clock.advance(seconds=599)
    assert api.get("/me", run.body["token"]).status == 200


def test_blocking_deletes_nothing_even_after_a_sweep(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock
) -> None:
    """Holds: a blocked token's item and its run tokens survive refusals and the sweeper."""
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    member = accounts.create()
    run = accounts.run_token(api, member)
    put_policy(api, admin, maxLifetimeDays=7)
    for _ in range(3):
        assert api.get("/me", member.token).status == 401
        assert api.get("/me", run["token"]).status == 401
    revocation.sweep_revoked_tokens(store)
    clock.advance(minutes=5)
    put_policy(api, admin)
    assert api.get("/me", member.token).status == 200
    assert api.get("/me", run["token"]).status == 200


def test_an_admin_read_write_token_is_not_held_to_the_admin_cap_but_its_admin_token_is(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """Holds: the admin cap follows the token's scope, not its owner's role."""
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    other = accounts.create(Role.ADMIN, Scope.READ_WRITE, expires_at=clock.now() + timedelta(days=30))
    long_admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=30))
    assert put_policy(api, admin, adminMaxLifetimeDays=7).status == 200
    assert api.get("/me", other.token).status == 200
    refused = api.get("/me", long_admin.token)
    assert refused.status == 401 and "admin tokens live at most 7 days" in refused.body["error"]["message"]


@pytest.mark.parametrize("query", [
    "maxLifetimeDays=", "maxLifetimeDays=null", "maxLifetimeDays=%EF%BC%93", "maxLifetimeDays=1.5",
    "maxLifetimeDays=9999999999", "requireExpiry=", "requireExpiry=TRUE", "adminMaxLifetimeDays=-1",
    "maxLifetimeDays=1&maxLifetimeDays=2", "limit=5",
])
def test_odd_impact_queries_are_never_500(api: Api, accounts: Accounts, clock: FrozenClock, query: str) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    assert api.get(f"{POLICY}/impact?{query}", admin.token).status in (200, 400)


@pytest.mark.parametrize("body", [
    {**DEFAULTS, "maxLifetimeDays": 1.0}, {**DEFAULTS, "maxLifetimeDays": True}, {**DEFAULTS, "requireExpiry": 1},
    {**DEFAULTS, "runTokenMaxSeconds": 600.5}, {**DEFAULTS, "adminMaxLifetimeDays": 10**30}, [], None,
])
def test_odd_policy_bodies_are_400(api: Api, accounts: Accounts, clock: FrozenClock, body: Any) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    raw = b"null" if body is None else None
    response = api.request("PUT", POLICY, admin.token, body=body if body is not None else None, raw=raw)
    assert response.status == 400
    assert api.get(POLICY, admin.token).body == DEFAULTS


def test_policy_changes_are_audited_without_secrets(
    api: Api, accounts: Accounts, clock: FrozenClock, audit_log: AuditLog
) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    forever = accounts.admin()
    assert put_policy(api, admin, maxLifetimeDays=30).status == 200
    assert put_policy(api, forever, requireExpiry=True).status == 401  # blocked already
    clock.advance(seconds=1)
    lines = audit_log.events("token_policy.updated")
    assert [(line["outcome"], line["after"]) for line in lines] == [("success", "30|0||86400")]
    assert admin.token not in "".join(audit_log.lines)


def test_the_new_audit_events_are_documented() -> None:
    """FINDING (docs): docs/security.md's audit table lists every event but the two issue 15 adds."""
    text = (ROOT / "docs" / "security.md").read_text()
    missing = [name for name in ("credential.leak_revoked", "token_policy.updated") if f"`{name}`" not in text]
    assert missing == []


def test_the_policy_routes_are_in_openapi() -> None:
    """FINDING (docs): the token-policy routes answer but openapi.yaml does not describe them."""
    spec = (ROOT / "openapi.yaml").read_text()
    paths = set(re.findall(r"^  (/[^:]+):", spec, flags=re.MULTILINE))
    assert {"/admin/settings/token-policy", "/admin/settings/token-policy/impact"} <= paths


def test_requiring_an_expiry_does_not_cap_an_asked_expiry_that_use_would_allow(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """FINDING (low, consistency): with requireExpiry alone, a token made before the policy that
    lives 400 days works at use (breach() sees no cap), but asking for the same 400 days now is
    400 policy_violation "the instance's token policy says tokens must expire" although it does
    expire: the 365-day default meant for a missing expiry is applied as a cap."""
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    before = accounts.create(expires_at=clock.now() + timedelta(days=400))
    assert put_policy(api, admin, requireExpiry=True).status == 200
    assert api.get("/me", before.token).status == 200
    owner = accounts.create(expires_at=clock.now() + timedelta(days=500))
    asked = api.post("/me/pats", owner.token, body={"name": "n", "scope": "read_write",
                                                   "expiresAt": to_iso(clock.now() + timedelta(days=400))})
    assert asked.status == 201, asked.body
