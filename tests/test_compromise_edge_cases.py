"""Revocation reaches what a credential made, at its edges: legacy items stored without lineage,
links, claims and rotations made while revoke-all runs whatever the clocks, tokens deleted before
the report, and long chains."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.model.accounts import UserStatus
from chalicelib.services import revocation, users
from chalicelib.storage import Store
from chalicelib.storage.keys import invite_key, token_key
from chalicelib.storage.table import marshal

from .conftest import TABLE, Account, Accounts, Api, DynamoCalls, FrozenClock, lands_just_before


def claim(api: Api, token: str) -> tuple[int, str | None]:
    answer = api.post("/auth/invites/claim", body={"token": token})
    return answer.status, answer.error_code if answer.status >= 400 else None


def make_pat(api: Api, token: str, name: str, scope: str = "read_write", **extra: Any) -> dict[str, Any]:
    made = api.post("/me/pats", token, body={"name": name, "scope": scope, **extra})
    assert made.status == 201, made.body
    return made.body


def alive(api: Api, token: str) -> bool:
    return api.get("/me", token).status == 200


def listed(api: Api, admin: Account, invite_id: str) -> dict[str, Any]:
    page = api.get("/admin/invites?limit=100", admin.token)
    assert page.status == 200, page.body
    return next(item for item in page.body["items"] if item["id"] == invite_id)


def make_legacy_invite(dynamodb: Any, invite_id: str, first_token_expires_at: str | None = None) -> None:
    """Rewrite a stored invite as it was stored before lineage was recorded: no making token, no lineage,
    no maker email (and, optionally, the old cap on its first PAT)."""
    params: dict[str, Any] = {
        "TableName": TABLE, "Key": invite_key(invite_id),
        "UpdateExpression": "REMOVE createdByTokenId, createdByEmail, makerLineageIssuedAt",
    }
    if first_token_expires_at:
        params["UpdateExpression"] += " SET firstTokenExpiresAt = :cap"
        params["ExpressionAttributeValues"] = marshal({":cap": first_token_expires_at})
    dynamodb.update_item(**params)


def make_legacy_token(dynamodb: Any, user_id: str, token_id: str) -> None:
    """Rewrite a stored token as it was stored before lineage was recorded: no maker, no lineage."""
    dynamodb.update_item(TableName=TABLE, Key=token_key(user_id, token_id),
                         UpdateExpression="REMOVE lineageIssuedAt, createdByUserId, createdByTokenId, "
                                          "createdViaInviteId")


def test_a_self_link_made_by_a_short_lived_admin_token_gives_no_pat_that_outlives_it(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """A stolen one-hour admin token is stretched into a permanent
    admin token of the same account: it sends a re-access link to its own account
    (`POST /admin/users/{self}/access-links`) and claims it. The link is capped at the token's
    expiry, but the PAT the claim gives has no expiry at all, because the change that cut off descendants made every
    claimed PAT "bounded by the token policy only" and dropped the old `firstTokenExpiresAt`
    cap. That is right for an *invited* account (item 5), but a self-link's PAT lands in the
    maker's own account and descends from the making token (its lineage already includes it):
    security.md's lifetime model says "Tokens made by a token stay bounded by it ... so a stolen
    short-lived token cannot be stretched by creating and then rotating" and api.md "T also
    travels". Suggested fix: store the making token's expiry on the link (`makerExpiresAt`) and,
    when the link's user is its maker (`created_by == user_id`, the same case in which
    `_claimed_pat` already inherits the maker's lineage), cap the claimed PAT's expiry and set
    its `notAfter` to it; invites for other accounts stay bounded by the policy only."""
    admin = accounts.admin()
    accounts.admin()
    one_hour = "2026-11-24T13:00:00Z"
    short = make_pat(api, admin.token, "one hour", scope="admin", expiresAt=one_hour)
    link = api.post(f"/admin/users/{admin.user.id}/access-links", short["token"])
    assert link.status == 201, link.body
    assert link.body["expiresAt"] == one_hour  # the link itself is capped...
    claimed = api.post("/auth/invites/claim", body={"token": link.body["token"]})
    assert claimed.status == 201, claimed.body
    clock.advance(hours=2)  # the stolen token is long dead
    assert not alive(api, short["token"])
    pat = claimed.body["pat"]
    assert pat["scope"] == "admin"
    # ...but the PAT it gave is not.
    assert pat["expiresAt"] is not None and pat["expiresAt"] <= one_hour, pat["expiresAt"]
    assert not alive(api, pat["token"])


def test_a_legacy_invite_dies_with_its_makers_revoke_all(
    api: Api, accounts: Accounts, clock: FrozenClock, dynamodb: Any
) -> None:
    """Invites and re-access links
    stored before lineage was recorded have `createdBy` (the admin's user id) but no `createdByTokenId` and
    no `makerLineageIssuedAt`, so `_maker_checks` and `Invite.revoked_with_maker` skip them
    entirely: a pending invite (up to 30 days) or link (7 days) sent before the deploy by an
    admin whose account is then revoked-all, deactivated or demoted stays claimable, and the
    admin list shows it `pending`. That is exactly the window in which an operator reacts to a
    compromise found by the new audit fields. Suggested fix: for an invite without
    `makerLineageIssuedAt` whose `createdBy` is a user id, use the invite's own issue time
    (`ids.issued_at_ms(invite.id)`) as the maker lineage in both the claim's condition check and
    the list: the making token was issued before the invite, so any cut-off at or after the
    invite reaches it (the compromise-marker check needs the token id and stays skipped)."""
    alice, carol = accounts.admin(), accounts.admin()
    invite = api.post("/admin/invites", alice.token, body={"email": "thief@evil.example", "role": "admin"}).body
    make_legacy_invite(dynamodb, invite["id"], first_token_expires_at="2026-12-01T12:00:00Z")
    clock.advance(seconds=1)
    assert api.post("/me/pats/revoke-all", alice.token).status == 204
    assert listed(api, carol, invite["id"])["status"] == "revoked"
    assert claim(api, invite["token"]) == (410, "invite_revoked")


def test_a_re_access_link_sent_while_its_user_is_deactivated_stays_dead_after_reactivation(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No clock skew needed. Admin B sends a re-access link to member M
    while admin A's deactivation of M runs: the deactivation read its clock (cut-off D), B's
    request reads M (still active), stores the link (its id, hence the "issued" time the claim
    compares with, is after D), then the deactivation commits. Once M is reactivated, the link
    gives a working PAT whose lineage (the link's id) is after D. api.md: "A deactivation since
    the link was sent makes it 410", security.md: "A re-access link sent before ... a
    deactivation ... answers 410"; claim 2: once a deactivation has answered, nothing a
    concurrent request made works, also after reactivation. The link's creation is a plain
    put with no condition on its target, and the cut-off is a wall-clock instant, so this is the
    race lineage fixed for tokens, left open for links. Suggested fix: a clock-free generation:
    revoke-all / deactivation / demotion also increment a counter on the user item (still one
    write); the link records the counter it read and its creation checks it in its transaction
    (ConditionCheck on the target: active and counter unchanged); the claim's transaction checks
    the counter is still that value instead of (or as well as) comparing the link's id."""
    first, second, member = accounts.admin(), accounts.admin(), accounts.create()
    links: list[dict[str, Any]] = []

    def send_link() -> None:
        made = api.post(f"/admin/users/{member.user.id}/access-links", second.token)
        assert made.status == 201, made.body
        links.append(made.body)

    lands_just_before(monkeypatch, store.users, "change", clock, send_link, skew_ms=5)
    users.update_user(store, member.user.id, status=UserStatus.DEACTIVATED, role=None, actor_id=first.user.id,
                      now=clock.now())
    clock.advance(seconds=3)
    users.update_user(store, member.user.id, status=UserStatus.ACTIVE, role=None, actor_id=first.user.id,
                      now=clock.now())
    status, _ = claim(api, links[0]["token"])
    assert status == 410


def test_a_pat_claimed_from_a_link_while_revoke_all_runs_dies_with_it_whatever_the_clocks(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claim 2 says no token created by a request concurrent with a
    revoke-all works once it has answered, "whatever the Lambdas' clocks say (skew
    included)". Lineage makes that true for tokens made *by tokens*, but a PAT claimed from a
    re-access link takes the link's id as its lineage, and the link's id is the clock of
    whichever Lambda sent it. Here an admin's Lambda whose clock is 2 s ahead sends member M a
    link one second before M's revoke-all (real time); M claims it while the revoke-all runs.
    The revoke-all's cut-off (its own clock) is before the link's id, so neither the claim's
    transaction nor the authorizer afterwards refuses the PAT: it survives the revoke-all (and
    the link would also have been claimable after it, contrary to security.md's "A re-access
    link sent before a revoke-all ... answers 410"). Suggested fix: as for the deactivation
    race, make the link-vs-cut-off comparison clock-free (a revocation counter on the user item
    recorded by the link and checked in the claim's transaction); or at least have revoke-all
    take max(now, the latest link id it can see) — which needs a read, so the counter is better."""
    admin, member = accounts.admin(), accounts.create()
    clock.advance(seconds=2)  # the admin's Lambda runs 2 s ahead
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body
    clock.advance(seconds=-2)
    clock.advance(seconds=1)  # one second later (real time), member revokes all
    claimed: list[dict[str, Any]] = []

    def claim_now() -> None:
        answer = api.post("/auth/invites/claim", body={"token": link["token"]})
        assert answer.status == 201, answer.body
        claimed.append(answer.body["pat"])

    lands_just_before(monkeypatch, store.users, "revoke_tokens", clock, claim_now, skew_ms=5)
    assert api.post("/me/pats/revoke-all", member.token).status == 204
    clock.advance(seconds=3)
    assert not alive(api, claimed[0]["token"])


def test_a_rotated_token_stops_working_when_its_successor_is_blocked_by_the_policy(
    api: Api, accounts: Accounts
) -> None:
    """Claim 3: "A rotated token never outlives its successor" (api.md:
    "A token never works longer than its successor"). A member rotates a non-expiring PAT with
    a day of grace: the successor keeps "no expiry", the old token now expires at the end of
    its window. An admin then requires expiry. The successor is blocked at once (no expiry);
    the old token, which *has* an expiry now, passes the policy and keeps working for the rest
    of the day, while the token that replaced it does not. The attacker's angle: a holder of the
    old copy keeps access the owner cannot use from the successor. Suggested fix: judge a token
    in its rotation window by the policy as its successor would be (treat `rotatedTo` tokens as
    having their pre-rotation expiry, or refuse a windowed token whenever the policy would
    block a token with its pre-rotation lifetime), so predecessor and successor are blocked
    together."""
    admin, member = accounts.admin(), accounts.create()
    old = make_pat(api, member.token, "laptop")
    rotated = api.post(f"/me/pats/{old['id']}/rotate", member.token, body={"graceSeconds": 86400})
    assert rotated.status == 201, rotated.body
    assert rotated.body["expiresAt"] is None
    fitting = make_pat(api, admin.token, "policy", scope="admin", expiresAt="2026-12-01T12:00:00Z")
    policy = {"maxLifetimeDays": None, "requireExpiry": True, "adminMaxLifetimeDays": None,
              "runTokenMaxSeconds": 86400, "refuseReadWritePreset": False}
    changed = api.request("PUT", "/admin/settings/token-policy", fitting["token"], body=policy)
    assert changed.status == 200, changed.body
    assert not alive(api, rotated.body["token"])  # the successor is blocked
    assert not alive(api, old["token"])  # so its predecessor must not work either


def test_a_leaked_token_deleted_by_its_own_child_before_the_report_still_takes_the_child_with_it(
    api: Api, accounts: Accounts
) -> None:
    """A deleted token's item stays as a tombstone for 31 days, which the report matches.
    Claim 1 only works if the leaked token is still live when the
    report arrives ("A reported token that is already dead revokes nothing"), and the attacker
    decides when it dies. Whoever finds a PAT in a public commit makes a child with it and then
    deletes the leaked token *with that child* (`DELETE /me/pats/{leaked}`: same user, so the
    owner is not even told). When the secret scanner's report lands a second later, the leaked
    token is gone, so nothing it made is revoked: the attacker's child keeps working, and the
    only trace is a PAT in the owner's list whose `createdBy.tokenId` names a token that no
    longer exists. (Self-rotation with grace 0 evades the same way, but there the design's "an
    old secret must not take down what its owner made since" applies; a delete made *by the
    leaked token's own descendant* is not the owner's doing in any way the server can tell.)
    Suggested fix: when a token is deleted by a token made from it (the caller's `createdBy`
    chain, or its lineage and a walk of the account, leads to the deleted token), keep a
    tombstone (`DELETED#<id>` with the digest, COMPROMISE_WATCH) and let a leak report that
    matches a tombstone revoke what the token made, as if it were live; or tell the owner
    (security event) whenever a token is deleted by one of its own descendants."""
    owner = accounts.create()
    leaked = make_pat(api, owner.token, "ci secret")  # the one that lands in a public commit
    stolen_child = make_pat(api, leaked["token"], "laptop")  # the attacker's, innocently named
    assert api.delete(f"/me/pats/{leaked['id']}", stolen_child["token"]).status == 204
    assert api.post("/credentials/revoke", body={"credentials": [leaked["token"]],
                                                 "source": "https://github.com/acme/app"}).status == 202
    assert not alive(api, stolen_child["token"])


def test_legacy_items_without_the_new_attributes_are_listed_claimed_and_still_cut_off(
    api: Api, accounts: Accounts, clock: FrozenClock, dynamodb: Any, store: Store
) -> None:
    """Items stored before lineage was recorded (a token without `lineageIssuedAt`/`createdBy…`, an
    invite with `firstTokenExpiresAt` and no maker token, an operator-made invite) do not crash
    the lists or the claim; a legacy token is still reached by revoke-all (its own id is its
    lineage) and a token it makes inherits that."""
    from chalicelib.model.accounts import Role
    from chalicelib.model.invites import operator
    from chalicelib.services import invites as invite_domain

    admin, member = accounts.admin(), accounts.create()
    make_legacy_token(dynamodb, member.user.id, member.token_id)
    assert alive(api, member.token)
    child = make_pat(api, member.token, "child of legacy")
    mine = api.get("/me/pats", member.token).body["items"]
    assert {item["id"]: item["createdBy"] for item in mine}[member.token_id] is None
    legacy = api.post("/admin/invites", admin.token, body={"email": "old@example.com"}).body
    make_legacy_invite(dynamodb, legacy["id"], first_token_expires_at="2026-11-25T12:00:00Z")
    by_bootstrap = invite_domain.create_invite(store, email="boot@example.com", role=Role.MEMBER, expires_at=None,
                                               maker=operator("bootstrap"), app_url="https://x.test", now=clock.now())
    assert listed(api, admin, legacy["id"])["status"] == "pending"
    assert listed(api, admin, by_bootstrap.invite.id)["createdBy"]["tokenId"] is None
    first = api.post("/auth/invites/claim", body={"token": legacy["token"]})
    assert first.status == 201 and first.body["pat"]["expiresAt"] is None  # bounded by the policy only
    assert claim(api, by_bootstrap.token)[0] == 201
    clock.advance(seconds=1)
    assert api.post("/me/pats/revoke-all", member.token).status == 204
    assert not alive(api, member.token) and not alive(api, child["token"])


def test_a_leak_report_through_a_long_chain_terminates_with_a_bounded_cost(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls
) -> None:
    """A chain of 40 PATs, each made by the one before (and a run token at its end), is
    revoked whole by reporting its first link, with two reads of the account (one to find, one
    for what was made meanwhile), whatever the chain's depth."""
    owner = accounts.create()
    chain = [make_pat(api, owner.token, "link 0")]
    for number in range(1, 40):
        chain.append(make_pat(api, chain[-1]["token"], f"link {number}"))
    run = api.post("/workflows/agent-run-tokens", chain[-1]["token"], body={"agentId": "deep"}).body
    dynamo_calls.clear()
    assert api.post("/credentials/revoke", body={"credentials": [chain[0]["token"]]}).status == 202
    assert dynamo_calls.operations.count("Query") == 2
    assert dynamo_calls.operations.count("BatchGetItem") == 1
    assert not any(alive(api, made["token"]) for made in chain) and not alive(api, run["token"])
    assert alive(api, owner.token)


@pytest.mark.parametrize("skew_ms", [-2000, 5, 2000])
def test_a_rotation_a_run_token_and_a_self_link_claim_made_while_revoke_all_runs_die_with_it(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, skew_ms: float
) -> None:
    """The other ways a token is made, raced with a revoke-all as the revocation tests race
    `POST /me/pats`, both ways of skew: a PAT rotating itself, a run token minted, and a
    re-access link the admin sent to their own account claimed, each committing while the
    revoke-all runs. All inherit a lineage from before the cut-off and die with it."""
    admin = accounts.admin()
    accounts.admin()
    rotating = make_pat(api, admin.token, "rotating", scope="admin")
    minting = make_pat(api, admin.token, "minting")
    self_link = api.post(f"/admin/users/{admin.user.id}/access-links", admin.token).body
    clock.advance(seconds=1)
    made: list[str] = []

    def concurrently() -> None:
        rotated = api.post("/me/pats/self/rotate", rotating["token"], body={"graceSeconds": 3600})
        assert rotated.status == 201, rotated.body
        run = api.post("/workflows/agent-run-tokens", minting["token"], body={"agentId": "racer"})
        assert run.status == 201, run.body
        claimed = api.post("/auth/invites/claim", body={"token": self_link["token"]})
        assert claimed.status == 201, claimed.body
        made.extend([rotated.body["token"], run.body["token"], claimed.body["pat"]["token"]])

    lands_just_before(monkeypatch, store.users, "revoke_tokens", clock, concurrently, skew_ms)
    revocation.revoke_all_tokens(store, admin.user.id, now=clock.now(), actor_id=admin.user.id)
    clock.advance(seconds=3)
    assert [alive(api, token) for token in made] == [False, False, False]


def test_a_leak_report_in_a_rotation_window_takes_the_successor_the_leaked_token_made_but_spares_siblings(
    api: Api, accounts: Accounts
) -> None:
    """A leaked token rotated by itself (its successor is "made" by it) and reported while
    in its window: the successor and what it made die, the owner's token that rotated nothing
    lives, and a token rotated by the owner's other token (made by that one) is spared."""
    owner = accounts.create()
    leaked = make_pat(api, owner.token, "leaked")
    sibling = make_pat(api, owner.token, "sibling")
    successor = api.post("/me/pats/self/rotate", leaked["token"], body={"graceSeconds": 3600}).body
    grandchild = make_pat(api, successor["token"], "grandchild")
    sibling_next = api.post(f"/me/pats/{sibling['id']}/rotate", owner.token, body={"graceSeconds": 3600}).body
    assert api.post("/credentials/revoke", body={"credentials": [leaked["token"]]}).status == 202
    assert [alive(api, made["token"]) for made in (leaked, successor, grandchild)] == [False, False, False]
    assert alive(api, owner.token) and alive(api, sibling_next["token"]) and alive(api, sibling["token"])
