"""Revocation is final, under attack: what an adversarial review of issue 12 found (each of these
failed before its fix): a request authorized just before a revocation, links sent before one,
a link outliving its creator, a cursor from before a revoke-all."""
from __future__ import annotations

from botocore.exceptions import ClientError

from chalicelib.model.accounts import Role, UserStatus
from chalicelib.model.kinds import Scope
from chalicelib.services import pats, revocation, users
from chalicelib.storage import Store

from .conftest import Accounts, Api, FrozenClock, issue_pat


def status(api: Api, token: str) -> int:
    return api.get("/me", token).status


def test_a_deactivation_revokes_the_re_access_links_sent_before_it(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    admin, member = accounts.admin(), accounts.create()
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body
    clock.advance(seconds=1)
    assert api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "deactivated"}).status == 200
    clock.advance(seconds=1)
    assert api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "active"}).status == 200
    late = api.post("/auth/invites/claim", body={"token": link["token"]})
    assert (late.status, late.body.get("error", {}).get("code")) == (410, "invite_revoked"), late.body


def test_revoke_all_revokes_pending_re_access_links(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    """A stolen admin token makes a re-access link for its own account; the victim's revoke-all
    must kill it, or the thief claims a fresh admin PAT."""
    victim = accounts.admin()
    accounts.admin()  # another admin, so the instance is not left without one
    stolen = victim.token
    link = api.post(f"/admin/users/{victim.user.id}/access-links", stolen).body
    clock.advance(seconds=1)
    assert api.post("/me/pats/revoke-all", victim.token).status == 204
    assert status(api, stolen) == 401
    clock.advance(seconds=1)
    claimed = api.post("/auth/invites/claim", body={"token": link["token"]})
    assert (claimed.status, claimed.error_code) == (410, "invite_revoked")


def test_a_link_or_invite_never_outlives_the_token_that_made_it_but_the_account_is_not_time_bombed(
    api: Api, accounts: Accounts
) -> None:
    """A link or invite made by an admin token that expires in two minutes expires with it; the
    PAT a claim gives to another account is bounded by the token policy only (none here: no
    expiry), so the account it opens is not locked out when the inviting token expires (issue
    18, item 5); a link to the maker's own account gives a PAT that expires with the maker."""
    admin, colleague = accounts.admin(), accounts.admin()
    short = api.post("/me/pats", admin.token, body={"name": "short", "scope": "admin",
                                                   "expiresAt": "2026-11-24T12:02:00Z"}).body["token"]
    own = api.post(f"/admin/users/{admin.user.id}/access-links", short).body
    assert own["expiresAt"] == "2026-11-24T12:02:00Z"
    assert api.post("/auth/invites/claim", body={"token": own["token"]}).body["pat"]["expiresAt"] == (
        "2026-11-24T12:02:00Z")
    link = api.post(f"/admin/users/{colleague.user.id}/access-links", short).body
    assert link["expiresAt"] == "2026-11-24T12:02:00Z"
    pat = api.post("/auth/invites/claim", body={"token": link["token"]}).body["pat"]
    assert pat["expiresAt"] is None
    invite = api.post("/admin/invites", short, body={"email": "new-admin@example.com", "role": "admin"}).body
    assert invite["expiresAt"] == "2026-11-24T12:02:00Z"
    first = api.post("/auth/invites/claim", body={"token": invite["token"]}).body["pat"]
    assert first["expiresAt"] is None
    later = api.post("/me/pats", first["token"], body={"name": "ci", "scope": "read_write",
                                                      "expiresAt": "2027-06-01T00:00:00Z"})
    assert later.status == 201, later.body


def _lands_between_authorizer_and_view(monkeypatch, clock: FrozenClock, concurrent) -> None:
    """Run ``concurrent`` (another request) after the authorizer allowed the caller and before the
    create-PAT view takes its clock: the window between the authorizer Lambda and the handler."""
    original = pats.create_pat

    def racing(store, caller, **kwargs):
        clock.advance(milliseconds=5)
        concurrent()
        clock.advance(milliseconds=5)
        return original(store, caller, **{**kwargs, "now": clock.now()})

    monkeypatch.setattr(pats, "create_pat", racing)


def test_a_request_authorized_just_before_revoke_all_creates_nothing(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch
) -> None:
    """TOCTOU: a thief's POST /me/pats is authorized, the victim's revoke-all lands, then the view
    writes: the write itself checks the creator against the cut-off, so nothing is left behind."""
    victim = accounts.create()
    _lands_between_authorizer_and_view(monkeypatch, clock, lambda: revocation.revoke_all_tokens(
        store, victim.user.id, now=clock.now(), actor_id=victim.user.id))
    spawned = api.post("/me/pats", victim.token, body={"name": "persist", "scope": "read_write"})
    assert (spawned.status, spawned.error_code) == (401, "invalid_token")  # nothing was created
    assert status(api, victim.token) == 401


def test_a_request_authorized_just_before_a_demotion_creates_no_admin_token(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch
) -> None:
    first, second = accounts.admin(), accounts.admin()
    _lands_between_authorizer_and_view(monkeypatch, clock, lambda: users.update_user(
        store, second.user.id, status=None, role=Role.MEMBER, actor_id=first.user.id, now=clock.now()))
    spawned = api.post("/me/pats", second.token, body={"name": "persist", "scope": "admin"})
    assert (spawned.status, spawned.error_code) == (401, "invalid_token")
    clock.advance(seconds=1)
    assert api.patch(f"/admin/users/{second.user.id}", first.token, body={"role": "admin"}).status == 200
    assert status(api, second.token) == 401  # the cut-off holds for the token that existed


def test_a_request_authorized_just_before_a_deactivation_creates_nothing(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, monkeypatch
) -> None:
    admin, member = accounts.admin(), accounts.create()
    _lands_between_authorizer_and_view(monkeypatch, clock, lambda: users.update_user(
        store, member.user.id, status=UserStatus.DEACTIVATED, role=None, actor_id=admin.user.id, now=clock.now()))
    spawned = api.post("/me/pats", member.token, body={"name": "persist", "scope": "read_write"})
    assert (spawned.status, spawned.error_code) == (401, "invalid_token")
    clock.advance(seconds=1)
    assert api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "active"}).status == 200
    assert status(api, member.token) == 401


def _reject_start_keys_outside_the_key_condition(client) -> None:
    """What DynamoDB does and moto does not: a Query whose ExclusiveStartKey lies outside its key
    condition is a 400 ValidationException ("The provided starting key is outside query
    boundaries based on provided condition"); see aws/aws-sdk-ruby#2456, floci-io/floci#3389."""
    def check(params, **_):
        start, values = params.get("ExclusiveStartKey"), params.get("ExpressionAttributeValues", {})
        if start and "BETWEEN :first AND :last" in params.get("KeyConditionExpression", ""):
            if not values[":first"]["S"] <= start["sk"]["S"] <= values[":last"]["S"]:
                raise ClientError({"Error": {"Code": "ValidationException", "Message": "The provided starting key "
                                   "is outside query boundaries based on provided condition"}}, "Query")
    client.meta.events.register("provide-client-params.dynamodb.Query", check)


def test_a_cursor_from_before_revoke_all_is_not_a_500(
    api: Api, accounts: Accounts, store: Store, store_client, clock: FrozenClock
) -> None:
    _reject_start_keys_outside_the_key_condition(store_client)
    admin, member = accounts.admin(), accounts.create()
    for number in range(3):
        clock.advance(milliseconds=1)
        issue_pat(store, user_id=member.user.id, name=f"t{number}", scope=Scope.READ_WRITE, expires_at=None,
                       now=clock.now())
    cursor = api.get(f"/admin/users/{member.user.id}/pats?limit=1", admin.token).body["nextCursor"]
    assert api.get(f"/admin/users/{member.user.id}/pats?limit=1&cursor={cursor}", admin.token).status == 200
    clock.advance(seconds=1)
    assert api.post(f"/admin/users/{member.user.id}/pats/revoke-all", admin.token).status == 204
    after = api.get(f"/admin/users/{member.user.id}/pats?limit=1&cursor={cursor}", admin.token)
    assert after.status in (200, 400), (after.status, after.body)
    # The same with a forged cursor, by the user themselves, once any cut-off exists:
    clock.advance(seconds=1)
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body
    fresh = api.post("/auth/invites/claim", body={"token": link["token"]}).body["pat"]["token"]
    forged = api.get("/me/agent-run-tokens?cursor=run_00000000000000000000000000", fresh)
    assert forged.status in (200, 400), (forged.status, forged.body)
