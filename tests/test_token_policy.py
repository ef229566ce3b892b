"""The instance token policy (issue 15): limits at creation, blocking at use, the impact preview."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.model.accounts import Role
from chalicelib.model.expiry import span_in_words
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.token_policy import TokenPolicy
from chalicelib.services import revocation
from chalicelib.storage import Store
from chalicelib.timeutil import to_iso
from openindex_ops import bootstrap

from .conftest import TABLE, Account, Accounts, Api, AuditLog, DynamoCalls, FrozenClock

POLICY = "/admin/settings/token-policy"
DEFAULTS = {"maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
            "refuseReadWritePreset": False}


def put_policy(api: Api, admin: Account | str, **changes: Any) -> Any:
    token = admin if isinstance(admin, str) else admin.token
    return api.request("PUT", POLICY, token, body={**DEFAULTS, **changes})


@pytest.fixture
def admin(accounts: Accounts, clock: FrozenClock) -> Account:
    """An admin whose token fits any policy these tests set (it expires in a day)."""
    return accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))


def create(api: Api, owner: Account, **body: Any) -> Any:
    return api.post("/me/pats", owner.token, body={"name": "n", "scope": "read_write", **body})


def test_the_policy_starts_empty_and_is_replaced_whole(api: Api, admin: Account) -> None:
    assert api.get(POLICY, admin.token).body == DEFAULTS
    wanted = {"maxLifetimeDays": 90, "requireExpiry": True, "adminMaxLifetimeDays": 7, "runTokenMaxSeconds": 600,
              "refuseReadWritePreset": False}
    assert api.request("PUT", POLICY, admin.token, body=wanted).body == wanted
    assert api.get(POLICY, admin.token).body == wanted


@pytest.mark.parametrize("body", [
    {}, {**DEFAULTS, "maxLifetimeDays": 0}, {**DEFAULTS, "maxLifetimeDays": 3651},
    {**DEFAULTS, "runTokenMaxSeconds": 59}, {**DEFAULTS, "runTokenMaxSeconds": 86401},
    {**DEFAULTS, "requireExpiry": "true"}, {**DEFAULTS, "maxLifetimeDays": "30"},
    {k: v for k, v in DEFAULTS.items() if k != "requireExpiry"}, {**DEFAULTS, "extra": 1},
])
def test_bad_policies_are_400_and_change_nothing(api: Api, admin: Account, body: dict[str, Any]) -> None:
    response = api.request("PUT", POLICY, admin.token, body=body)
    assert response.status == 400 and response.error_code == "invalid_request"
    assert api.get(POLICY, admin.token).body == DEFAULTS


def test_only_admins_see_or_change_the_policy(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    assert api.get(POLICY, member.token).status == 403
    assert api.request("PUT", POLICY, member.token, body=DEFAULTS).status == 403
    assert api.get(f"{POLICY}/impact", member.token).status == 403


def test_a_lifetime_cap_refuses_longer_tokens_and_fills_in_a_missing_expiry(
    api: Api, admin: Account, accounts: Accounts, clock: FrozenClock
) -> None:
    put_policy(api, admin, maxLifetimeDays=30)
    member = accounts.create(expires_at=clock.now() + timedelta(days=20))
    refused = create(api, member, expiresAt=to_iso(clock.now() + timedelta(days=19)))
    assert refused.status == 201
    forever = accounts.create(expires_at=clock.now() + timedelta(days=30))
    too_long = create(api, forever, expiresAt=to_iso(clock.now() + timedelta(days=31)))
    assert too_long.status == 400 and too_long.error_code == "policy_violation"
    assert "30 days" in too_long.body["error"]["message"]
    # No expiry asked for: the longest the policy allows.
    assert create(api, forever).body["expiresAt"] == to_iso(clock.now() + timedelta(days=30))
    put_policy(api, admin, maxLifetimeDays=10)
    assert create(api, forever).status == 401  # a 30-day token breaks the new policy


def test_requiring_an_expiry_gives_a_year_when_nothing_is_capped(
    api: Api, admin: Account, accounts: Accounts, clock: FrozenClock
) -> None:
    put_policy(api, admin, requireExpiry=True)
    owner = accounts.create(expires_at=clock.now() + timedelta(days=400))
    assert create(api, owner).body["expiresAt"] == to_iso(clock.now() + timedelta(days=365))


def test_the_admin_cap_applies_to_admin_tokens_only(api: Api, admin: Account, clock: FrozenClock) -> None:
    put_policy(api, admin, adminMaxLifetimeDays=1)
    week = to_iso(clock.now() + timedelta(hours=20))
    assert create(api, admin, scope="admin", expiresAt=week).status == 201
    refused = create(api, admin, scope="admin", expiresAt=to_iso(clock.now() + timedelta(days=2)))
    assert refused.status == 400 and refused.error_code == "policy_violation"
    assert "admin tokens live at most 1 day" in refused.body["error"]["message"]
    assert create(api, admin, expiresAt=to_iso(clock.now() + timedelta(hours=23))).status == 201
    assert create(api, admin, scope="admin").body["expiresAt"] == to_iso(clock.now() + timedelta(days=1))


def test_run_tokens_follow_their_own_limit(api: Api, admin: Account, accounts: Accounts, clock: FrozenClock) -> None:
    put_policy(api, admin, runTokenMaxSeconds=600)
    member = accounts.create()
    refused = api.post("/workflows/agent-run-tokens", member.token, body={"agentId": "a", "expiresInSeconds": 900})
    assert refused.status == 400 and refused.error_code == "policy_violation"
    assert "600 seconds" in refused.body["error"]["message"]
    defaulted = accounts.run_token(api, member)  # the default hour is cut to the limit
    assert defaulted["expiresAt"] == to_iso(clock.now() + timedelta(seconds=600))


def test_rotation_follows_the_policy(api: Api, admin: Account, accounts: Accounts, clock: FrozenClock) -> None:
    member = accounts.create()
    put_policy(api, admin, maxLifetimeDays=30)
    # The old token is blocked now, so a second token made under the policy does the rotating.
    fresh = accounts.create(expires_at=clock.now() + timedelta(days=30))
    kept = api.post("/me/pats/self/rotate", fresh.token).body
    assert kept["expiresAt"] == to_iso(clock.now() + timedelta(days=30))
    refused = api.post("/me/pats/self/rotate", kept["token"],
                       body={"expiresAt": to_iso(clock.now() + timedelta(days=31))})
    assert refused.status == 400
    fitted = api.post("/me/pats/self/rotate", kept["token"], body={"expiresAt": None}).body  # null: the longest
    assert fitted["expiresAt"] == to_iso(clock.now() + timedelta(days=30))
    assert api.get("/me", member.token).status == 401


def test_a_claimed_invite_and_a_re_access_link_get_the_longest_allowed(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    admin = accounts.admin()  # no expiry: sets the policy before any rule blocks it
    forever_admin_policy = {**DEFAULTS, "maxLifetimeDays": 30}
    invite = api.post("/admin/invites", admin.token, body={"email": "new@example.com"}).body["token"]
    member = accounts.create()
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body["token"]
    fitted = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=2))
    assert api.request("PUT", POLICY, fitted.token, body=forever_admin_policy).status == 200
    for token in (invite, link):
        claimed = api.post("/auth/invites/claim", body={"token": token})
        assert claimed.body["pat"]["expiresAt"] == to_iso(clock.now() + timedelta(days=30))


def test_an_older_token_is_blocked_at_use_and_works_again_when_the_policy_is_relaxed(
    api: Api, admin: Account, accounts: Accounts, clock: FrozenClock
) -> None:
    member = accounts.create()
    run = accounts.run_token(api, member)
    put_policy(api, admin, requireExpiry=True)
    assert api.get("/me", member.token).status == 401
    why = api.why_refused(member.token)
    assert "token policy" in why and "must expire" in why
    assert api.get("/me", run["token"]).status == 401  # its parent is blocked
    put_policy(api, admin)
    assert api.get("/me", member.token).status == 200
    assert api.get("/me", run["token"]).status == 200
    events = api.get("/me/security-events", member.token).body["items"]
    assert {(event["type"], event["tokenId"]) for event in events} == {
        ("token_blocked_by_policy", member.token_id), ("token_blocked_by_policy", run["id"])}


def test_a_policy_that_would_block_the_admin_making_it_is_409(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    forever = accounts.admin()
    refused = put_policy(api, forever, requireExpiry=True)
    assert refused.status == 409 and refused.error_code == "policy_blocks_caller"
    refused = put_policy(api, forever, adminMaxLifetimeDays=90)
    assert refused.status == 409
    assert api.get(POLICY, forever.token).body == DEFAULTS
    month = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=30))
    assert put_policy(api, month, maxLifetimeDays=29).status == 409
    assert put_policy(api, month, maxLifetimeDays=30).status == 200


def test_authorization_is_still_one_read_with_a_policy_in_force(
    api: Api, admin: Account, accounts: Accounts, dynamo_calls: DynamoCalls, clock: FrozenClock
) -> None:
    put_policy(api, admin, maxLifetimeDays=30, requireExpiry=True)
    member = accounts.create(expires_at=clock.now() + timedelta(days=7))
    api.get("/me", member.token)
    dynamo_calls.clear()
    assert api.get("/me", member.token).status == 200
    assert dynamo_calls.operations == ["BatchGetItem"]


def test_the_impact_preview_counts_a_known_population_through_queries(
    api: Api, accounts: Accounts, clock: FrozenClock, dynamo_calls: DynamoCalls
) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=5))
    forever = accounts.create()  # no expiry
    year = accounts.create(expires_at=clock.now() + timedelta(days=365))
    accounts.create(expires_at=clock.now() + timedelta(days=10))  # fits every rule below
    long_admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=60))
    gone = accounts.create()
    api.patch(f"/admin/users/{gone.user.id}", admin.token, body={"status": "deactivated"})
    dynamo_calls.clear()
    found = api.get(f"{POLICY}/impact?requireExpiry=true", admin.token).body
    assert (found["tokensBlocked"], found["usersAffected"]) == (1, 1)
    assert found["sample"][0] == {"userId": forever.user.id, "email": forever.user.email,
                                  "tokenId": forever.token_id, "name": "setup", "scope": "read_write",
                                  "expiresAt": None, "reason": "tokens must expire, and this one does not"}
    assert set(dynamo_calls.operations) == {"BatchGetItem", "Query"}  # the authorizer's read, then Queries
    found = api.get(f"{POLICY}/impact?maxLifetimeDays=90&adminMaxLifetimeDays=30", admin.token).body
    blocked = {(item["tokenId"], item["reason"].split(",")[0]) for item in found["sample"]}
    assert blocked == {(forever.token_id, "tokens live at most 90 days"),
                       (year.token_id, "tokens live at most 90 days"),
                       (long_admin.token_id, "admin tokens live at most 30 days")}
    assert (found["tokensBlocked"], found["usersAffected"]) == (3, 3)
    assert api.get(f"{POLICY}/impact", admin.token).body == {"blocksCaller": None, "tokensBlocked": 0,
                                                             "usersAffected": 0, "sample": [],
                                                             "readWritePresetTokens": 0}


def test_the_sample_holds_at_most_twenty(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=5))
    owner = accounts.create()
    for _ in range(24):
        create(api, owner)
    found = api.get(f"{POLICY}/impact?requireExpiry=true", admin.token).body
    assert (found["tokensBlocked"], found["usersAffected"], len(found["sample"])) == (25, 1, 20)


@pytest.mark.parametrize("query", ["maxLifetimeDays=0", "maxLifetimeDays=abc", "maxLifetimeDays=null",
                                   "requireExpiry=maybe", "requireExpiry=1", "adminMaxLifetimeDays=4000",
                                   "runTokenMaxSeconds=60"])
def test_bad_impact_queries_are_400(api: Api, admin: Account, query: str) -> None:
    response = api.get(f"{POLICY}/impact?{query}", admin.token)
    assert response.status == 400 and response.error_code == "invalid_request"


ROOT = Path(__file__).resolve().parent.parent


def test_an_admin_cannot_lock_themselves_out_through_a_rotation_window(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """The 409 check looks only at the calling token. The only admin rotates their
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
    """Openindex-bootstrap (the recovery path when admins lost their tokens, for a new
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
    assert api.get("/me", long_admin.token).status == 401
    assert "admin tokens live at most 7 days" in api.why_refused(long_admin.token)


@pytest.mark.parametrize("query", [
    "maxLifetimeDays=", "maxLifetimeDays=null", "maxLifetimeDays=%EF%BC%93", "maxLifetimeDays=1.5",
    "maxLifetimeDays=9999999999", "requireExpiry=", "requireExpiry=TRUE", "adminMaxLifetimeDays=-1",
    "maxLifetimeDays=1&maxLifetimeDays=2", "limit=5",
])
def test_odd_impact_queries_are_never_500(api: Api, accounts: Accounts, clock: FrozenClock, query: str) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    assert api.get(f"{POLICY}/impact?{query}", admin.token).status in (200, 400)


@pytest.mark.parametrize("body", [
    {**DEFAULTS, "maxLifetimeDays": 1.5}, {**DEFAULTS, "maxLifetimeDays": True}, {**DEFAULTS, "requireExpiry": 1},
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
    assert [(line["outcome"], line["after"]) for line in lines] == [("success", "30|0||86400|0")]
    assert admin.token not in "".join(audit_log.lines)


def test_the_new_audit_events_are_documented() -> None:
    """docs/security.md's audit table lists the leak-report and token-policy events."""
    text = (ROOT / "docs" / "security.md").read_text()
    missing = [name for name in ("credential.leak_revoked", "token_policy.updated") if f"`{name}`" not in text]
    assert missing == []


def test_the_policy_routes_are_in_openapi() -> None:
    """The token-policy routes answer but openapi.yaml does not describe them."""
    spec = (ROOT / "openapi.yaml").read_text()
    paths = set(re.findall(r"^  (/[^:]+):", spec, flags=re.MULTILINE))
    assert {"/admin/settings/token-policy", "/admin/settings/token-policy/impact"} <= paths


def test_requiring_an_expiry_does_not_cap_an_asked_expiry_that_use_would_allow(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """With requireExpiry alone, a token made before the policy that
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


@pytest.mark.parametrize(("lifetime", "words"), [
    (timedelta(days=96.5), "96 days"), (timedelta(hours=25), "1 day"), (timedelta(days=1), "1 day"),
    (timedelta(hours=1), "3600 seconds"),
])
def test_lifetimes_are_said_in_whole_days_or_in_seconds(lifetime: timedelta, words: str) -> None:
    assert span_in_words(lifetime) == words


def test_a_policy_breach_says_how_long_the_token_lives() -> None:
    policy, start = TokenPolicy(max_lifetime_days=1), datetime(2026, 12, 1, tzinfo=UTC)
    assert policy.breach(TokenKind.PAT, Scope.READ_WRITE, start, start + timedelta(days=96.5)) == \
        "tokens live at most 1 day, and this one lives 96 days"


def test_a_whole_number_written_with_a_zero_fraction_is_that_number(api: Api, admin: Account, accounts: Accounts
                                                                    ) -> None:
    """JSON Schema, which openapi.yaml is written in, counts 531.0 as an integer: so does the API."""
    saved = put_policy(api, admin, maxLifetimeDays=90.0, runTokenMaxSeconds=600.0)
    assert saved.status == 200 and (saved.body["maxLifetimeDays"], saved.body["runTokenMaxSeconds"]) == (90, 600)
    assert put_policy(api, admin).status == 200  # back to no limit, for the member's token below
    member = accounts.create()
    rotated = api.post(f"/me/pats/{member.token_id}/rotate", member.token, body={"graceSeconds": 531.0})
    assert rotated.status == 201, rotated.body
    minted = api.post("/workflows/agent-run-tokens", rotated.body["token"],
                      body={"agentId": "a", "expiresInSeconds": 300.0})
    assert minted.status == 201, minted.body
    for bad in (531.5, float("1e30")):
        refused = api.post(f"/me/pats/{rotated.body['id']}/rotate", rotated.body["token"], body={"graceSeconds": bad})
        assert (refused.status, refused.error_code) == (400, "invalid_request"), bad
