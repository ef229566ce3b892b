"""Rotation (issue 14): a successor of the same name and scope, and a grace window for the old one."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope
from chalicelib.model.tokens import Creator, new_token
from chalicelib.storage import Store
from chalicelib.storage.errors import RotationLost
from chalicelib.timeutil import to_iso

from .conftest import Accounts, Api, AuditLog, DynamoCalls, FrozenClock, issue_pat


def rotate(api: Api, token: str, ref: str = "self", **body: Any) -> Any:
    return api.post(f"/me/pats/{ref}/rotate", token, **({"body": body} if body else {}))


def listed(api: Api, token: str, token_id: str) -> dict[str, Any] | None:
    items = api.get("/me/pats", token).body["items"]
    return next((item for item in items if item["id"] == token_id), None)


def test_rotation_with_no_grace_refuses_the_old_token_from_the_next_request(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    response = rotate(api, owner.token)
    assert response.status == 201
    successor = response.body
    assert set(successor) == {"id", "name", "scope", "permissions", "token", "expiresAt", "createdAt", "rotatedFrom",
                              "allowedIps"}
    assert (successor["name"], successor["scope"], successor["rotatedFrom"]) == ("setup", "read_write", owner.token_id)
    assert successor["id"] != owner.token_id and successor["token"] != owner.token
    refused = api.get("/me", owner.token)
    assert refused.status == 401 and refused.error_code == "invalid_token"
    assert successor["id"] in api.why_refused(owner.token)
    assert api.get("/me", successor["token"]).body["token"]["id"] == successor["id"]
    assert listed(api, successor["token"], owner.token_id)["blocked"]["code"] == "rotated"  # type: ignore[index]
    assert listed(api, successor["token"], successor["id"])["rotatedFrom"] == owner.token_id  # type: ignore[index]


def test_the_old_token_works_inside_its_window_and_is_refused_after_it(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    owner = accounts.create()
    successor = rotate(api, owner.token, graceSeconds=3600).body
    window_end = clock.now() + timedelta(hours=1)
    old = listed(api, successor["token"], owner.token_id)
    assert old is not None and (old["expiresAt"], old["rotatedTo"]) == (to_iso(window_end), successor["id"])
    clock.advance(minutes=59, seconds=59)
    assert api.get("/me", owner.token).status == 200
    clock.advance(seconds=1)
    assert api.get("/me", owner.token).status == 401
    assert old["blocked"] is None
    assert listed(api, successor["token"], owner.token_id)["blocked"]["code"] == "rotated"  # type: ignore[index]
    assert api.get("/me", successor["token"]).status == 200


def test_another_pat_of_the_same_person_can_be_rotated_by_id(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    other = api.post("/me/pats", owner.token, body={"name": "ci", "scope": "read_write"}).body
    successor = rotate(api, owner.token, other["id"], graceSeconds=60).body
    assert (successor["name"], successor["rotatedFrom"]) == ("ci", other["id"])
    assert api.get("/me", other["token"]).status == 200  # inside its minute
    assert api.get("/me", owner.token).status == 200  # the rotating token is untouched


def test_the_successor_keeps_the_old_tokens_lifetime_length(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create(expires_at=clock.now() + timedelta(days=30))
    clock.advance(days=10)
    successor = rotate(api, owner.token).body
    assert successor["expiresAt"] == to_iso(clock.now() + timedelta(days=30))
    forever = accounts.create()
    assert rotate(api, forever.token).body["expiresAt"] is None


def test_an_explicit_expiry_is_kept_and_null_means_no_expiry(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    soon = to_iso(clock.now() + timedelta(days=7))
    first = rotate(api, owner.token, expiresAt=soon).body
    assert first["expiresAt"] == soon
    limited = accounts.create(expires_at=clock.now() + timedelta(days=30))
    refused = rotate(api, limited.token, expiresAt=None)
    assert refused.status == 400 and refused.error_code == "expiry_exceeds_token"
    assert to_iso(clock.now() + timedelta(days=30)) in refused.body["error"]["message"]


def test_a_token_rotating_itself_renews_its_lifetime_but_cannot_lengthen_it(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    owner = accounts.create(expires_at=clock.now() + timedelta(days=1))
    refused = rotate(api, owner.token, expiresAt=to_iso(clock.now() + timedelta(days=2)))
    assert refused.status == 400 and refused.error_code == "expiry_exceeds_token"
    assert api.get("/me", owner.token).status == 200  # nothing was rotated


def test_the_lifetime_caps_apply_when_another_token_rotates(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    short = api.post("/me/pats", owner.token, body={
        "name": "short", "scope": "read_write", "expiresAt": to_iso(clock.now() + timedelta(hours=1))}).body
    kept = rotate(api, short["token"], owner.token_id)  # the forever token would get a forever successor
    assert kept.status == 400 and kept.error_code == "expiry_exceeds_token"
    capped = rotate(api, short["token"], owner.token_id, expiresAt=to_iso(clock.now() + timedelta(minutes=30)))
    assert capped.status == 201
    assert api.get("/me", owner.token).status == 401


def test_a_second_rotation_is_409_and_leaves_the_first_successor_alone(
    api: Api, accounts: Accounts, audit_log: AuditLog
) -> None:
    owner = accounts.create()
    successor = rotate(api, owner.token, graceSeconds=600).body
    again = rotate(api, owner.token, graceSeconds=600)
    assert again.status == 409 and again.error_code == "already_rotated"
    assert successor["id"] in again.body["error"]["message"]
    assert api.get("/me", successor["token"]).status == 200
    assert [len(api.get("/me/pats", successor["token"]).body["items"])] == [2]  # old (in window) and successor
    denied = [event for event in audit_log.events("token.rotated") if event["outcome"] == "denied"]
    assert denied[0]["reason"] == "already_rotated"


def test_use_after_the_window_is_refused_and_logged_and_the_successor_is_unharmed(
    api: Api, accounts: Accounts, clock: FrozenClock, audit_log: AuditLog
) -> None:
    owner = accounts.create()
    successor = rotate(api, owner.token, graceSeconds=60).body
    clock.advance(days=20)  # long after the window, but the old item is kept to recognise reuse
    assert api.get("/me", owner.token).status == 401
    (event,) = audit_log.events("token.used_after_rotation")
    assert (event["tokenId"], event["successorId"], event["actor"]) == (owner.token_id, successor["id"], owner.user.id)
    assert api.get("/me", successor["token"]).status == 200
    assert rotate(api, successor["token"]).status == 201  # nor is its family blocked


def test_run_tokens_cannot_rotate(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    run = accounts.run_token(api, owner)
    for ref in ("self", owner.token_id, run["id"]):
        refused = rotate(api, run["token"], ref)
        assert refused.status == 403 and refused.error_code == "insufficient_scope"


def test_run_tokens_minted_by_a_rotated_pat_die_with_its_window(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    owner = accounts.create()
    run = accounts.run_token(api, owner)
    rotate(api, owner.token, graceSeconds=300)
    assert api.get("/me", run["token"]).status == 200
    clock.advance(minutes=5)
    assert api.get("/me", run["token"]).status == 401


def test_someone_elses_token_and_unknown_ids_are_404(api: Api, accounts: Accounts) -> None:
    owner, stranger = accounts.create(), accounts.create()
    for ref in (stranger.token_id, "pat_nope", "usr_x", "-"):
        response = rotate(api, owner.token, ref)
        assert response.status == 404 and response.error_code == "not_found", ref
    assert api.get("/me", stranger.token).status == 200


def test_a_read_write_token_cannot_rotate_an_admin_token(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    member_scope = api.post("/me/pats", admin.token, body={"name": "rw", "scope": "read_write"}).body
    refused = rotate(api, member_scope["token"], admin.token_id)
    assert refused.status == 403 and refused.error_code == "insufficient_scope"
    assert rotate(api, admin.token, member_scope["id"]).status == 201


def test_an_admin_token_rotates_into_an_admin_token(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    successor = rotate(api, admin.token).body
    assert successor["scope"] == "admin"
    assert api.get("/admin/users", successor["token"]).status == 200


@pytest.mark.parametrize("body", [
    {"graceSeconds": 86401}, {"graceSeconds": -1}, {"graceSeconds": "60"}, {"graceSeconds": 1.5},
    {"expiresAt": "tomorrow"}, {"expiresAt": 1893456000}, {"grace": 60},
])
def test_bad_bodies_are_400_and_rotate_nothing(api: Api, accounts: Accounts, body: dict[str, Any]) -> None:
    owner = accounts.create()
    response = rotate(api, owner.token, **body)
    assert response.status == 400 and response.error_code == "invalid_request"
    assert api.get("/me", owner.token).status == 200


def test_the_largest_grace_is_a_day(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    assert rotate(api, owner.token, graceSeconds=86400).status == 201
    clock.advance(hours=23, minutes=59)
    assert api.get("/me", owner.token).status == 200


def test_the_window_never_outlasts_the_old_tokens_own_expiry(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create(expires_at=clock.now() + timedelta(minutes=10))
    rotate(api, owner.token, graceSeconds=3600)
    clock.advance(minutes=10)
    assert api.get("/me", owner.token).status == 401


def test_two_rotations_of_one_token_make_one_successor(store: Store, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    (old,) = store.tokens.get_many(owner.user.id, [owner.token_id]).values()
    first, second = (new_token(old.kind, user_id=old.user_id, name=old.name, scope=old.scope, now=clock.now(),
                               rotated_from=old.id) for _ in range(2))
    itself = Creator(token_id=old.id, scope=Scope.READ_WRITE, expires_at=None, lineage_issued_ms=old.line_issued_ms)
    store.tokens.rotate(old, first.record, window_end=clock.now(), now=clock.now(), creator=itself)
    with pytest.raises(RotationLost):
        store.tokens.rotate(old, second.record, window_end=clock.now(), now=clock.now(), creator=itself)
    assert store.tokens.get_many(owner.user.id, [second.record.id]) == {}


def test_a_token_revoked_by_revoke_all_cannot_be_rotated(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    spare = api.post("/me/pats", owner.token, body={"name": "spare", "scope": "read_write"}).body
    api.post("/me/pats/revoke-all", owner.token)
    clock.advance(seconds=1)
    assert rotate(api, spare["token"]).status == 401


def test_a_demoted_admins_admin_token_cannot_be_rotated_back(api: Api, accounts: Accounts) -> None:
    admin, other = accounts.admin(), accounts.admin()
    rw = api.post("/me/pats", admin.token, body={"name": "rw", "scope": "read_write"}).body
    api.patch(f"/admin/users/{admin.user.id}", other.token, body={"role": Role.MEMBER.value})
    assert rotate(api, rw["token"], admin.token_id).status == 404


def test_a_token_never_works_longer_than_its_successor(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    second = rotate(api, owner.token, graceSeconds=3600).body
    rotate(api, second["token"])  # the successor stops at once: so does the token it replaced
    assert api.get("/me", owner.token).status == 401
    other = accounts.create()
    successor = rotate(api, other.token, graceSeconds=3600).body
    assert api.delete(f"/me/pats/{successor['id']}", successor["token"]).status == 204
    assert api.get("/me", other.token).status == 401  # deleting the successor ends the old one's window


def test_ending_a_window_only_ever_shortens_it(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    second = rotate(api, owner.token, graceSeconds=60).body
    rotate(api, second["token"], graceSeconds=3600)  # a longer window for the second does not lengthen the first
    clock.advance(seconds=60)
    assert api.get("/me", owner.token).status == 401
    assert api.get("/me", second["token"]).status == 200


def test_a_late_use_after_the_successor_was_deleted_is_not_told_to_use_the_new_token(
    api: Api, accounts: Accounts, clock: FrozenClock, store: Store
) -> None:
    owner = accounts.create()
    kept = rotate(api, owner.token, graceSeconds=60).body
    clock.advance(seconds=61)
    assert api.get("/me", owner.token).status == 401
    switched = api.why_refused(owner.token)
    assert kept["id"] in switched and "Use the new token" in switched  # the successor works: use it
    other = accounts.create()
    doomed = rotate(api, other.token, graceSeconds=3600).body
    assert api.delete(f"/me/pats/{doomed['id']}", other.token).status == 204
    assert api.get("/me", other.token).status == 401
    refused = api.why_refused(other.token)
    assert "deleted or revoked since" in refused and "Use the new token" not in refused
    reader = issue_pat(store, user_id=other.user.id, name="reader", scope=Scope.READ_WRITE, expires_at=None,
                            now=clock.now())
    (told,) = api.get("/me/security-events", reader.value).body["items"]
    assert "deleted or revoked since" in told["detail"] and "grace period ended" not in told["detail"]
    admin = accounts.admin()
    listed = next(item for item in api.get(f"/admin/users/{other.user.id}/pats", admin.token).body["items"]
                  if item["id"] == other.token_id)
    assert "Create a new token" in listed["blocked"]["message"]


EXPIRES = "OpenIndex-Token-Expires"


def test_a_sub_second_expiry_does_not_make_a_dead_successor_and_kill_the_old_token(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """expiresAt is checked to the microsecond (after now) but stored to the second, truncated:
    12:00:00.5Z at 12:00:00.2 passes, is stored as 12:00:00Z, and the successor is dead on
    arrival. With the default graceSeconds 0 the old token dies too: the caller is locked out
    by a 201."""
    owner = accounts.create()
    clock.advance(milliseconds=200)
    response = rotate(api, owner.token, expiresAt="2026-11-24T12:00:00.5Z")
    if response.status == 201:
        assert api.get("/me", response.body["token"]).status == 200, response.body
    else:
        assert (response.status, response.error_code) == (400, "invalid_request")
        assert api.get("/me", owner.token).status == 200


def test_a_token_on_its_way_out_cannot_leave_a_token_that_outlives_it(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """security.md: "A token never outlives the token that made it" (expiry contains a stolen
    token). The owner rotates a leaked token with an hour of grace; within the hour its holder
    makes a PAT capped at the end of the window (allowed), then has that PAT rotate itself before
    it expires, again and again ("renew, not lengthen"): a token the leaked one made lives on
    after the leaked one died, for as long as it is renewed. api.md documents renewal, but
    security.md still promises the cap and the chain defeats it."""
    owner = accounts.create()
    rotate(api, owner.token, graceSeconds=3600)  # the owner moves CI to the successor
    window_end = clock.now() + timedelta(hours=1)
    leaked = owner.token  # still works for the hour
    child = api.post("/me/pats", leaked, body={"name": "innocuous", "scope": "read_write",
                                               "expiresAt": to_iso(window_end)}).body
    held = child["token"]
    for _ in range(3):
        clock.advance(minutes=50)
        renewed = rotate(api, held)
        if renewed.status != 201:
            break
        held = renewed.body["token"]
    assert clock.now() > window_end and api.get("/me", leaked).status == 401
    assert api.get("/me", held).status == 401, "a descendant of the rotated token outlived it"


def test_the_response_to_a_self_rotation_says_when_the_calling_token_now_stops(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """api.md: every response to a request made with a token that expires carries
    OpenIndex-Token-Expires. A token rotating itself now expires at the end of its window, but
    the header is taken from what the authorizer read before the rotation: none at all for a
    token that did not expire, so the client is not told its token stops in a minute."""
    owner = accounts.create()
    response = rotate(api, owner.token, graceSeconds=60)
    assert response.status == 201
    assert response.headers.get(EXPIRES) == to_iso(clock.now() + timedelta(seconds=60)), response.headers


def test_a_rotation_that_would_hand_out_an_admin_token_is_audited_like_a_create(
    api: Api, accounts: Accounts, audit_log: AuditLog
) -> None:
    """security.md audits `token.create` (denied) when "a token asked for a token of a higher
    scope". Rotating an admin PAT is asking for a fresh admin token; a read_write token doing so
    gets 403 and leaves no audit line at all (create_pat audits scope_escalation; rotate_pat
    raises InsufficientScope without recording)."""
    admin = accounts.admin()
    lesser = api.post("/me/pats", admin.token, body={"name": "rw", "scope": "read_write"}).body
    audit_log.lines.clear()
    assert rotate(api, lesser["token"], admin.token_id).status == 403
    denied = [event for event in audit_log.events() if event["outcome"] == "denied"]
    assert [event.get("reason") for event in denied] == ["scope_escalation"], audit_log.lines


def test_revoke_all_after_a_rotation_takes_the_successor_and_the_old_token_in_its_window(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    owner = accounts.create()
    successor = rotate(api, owner.token, graceSeconds=3600).body
    clock.advance(seconds=1)
    assert api.post("/me/pats/revoke-all", successor["token"]).status == 204
    assert [api.get("/me", token).status for token in (owner.token, successor["token"])] == [401, 401]


def test_a_run_token_minted_inside_the_window_dies_with_it(api: Api, accounts: Accounts, clock: FrozenClock) -> None:
    owner = accounts.create()
    rotate(api, owner.token, graceSeconds=600)
    run = accounts.run_token(api, owner, expiresInSeconds=86400)
    assert run["expiresAt"] == to_iso(clock.now() + timedelta(minutes=10))
    created = api.post("/me/pats", owner.token, body={"name": "x", "scope": "read_write"})
    assert (created.status, created.error_code) == (400, "expiry_exceeds_token")
    clock.advance(minutes=10)
    assert api.get("/me", run["token"]).status == 401


def test_the_old_token_in_its_window_cannot_rotate_its_successor_into_a_longer_lived_one(
    api: Api, accounts: Accounts
) -> None:
    owner = accounts.create()
    successor = rotate(api, owner.token, graceSeconds=600).body
    for body in ({}, {"expiresAt": None}, {"expiresAt": "2027-01-01T00:00:00Z"}):
        refused = rotate(api, owner.token, successor["id"], **body)
        assert (refused.status, refused.error_code) == (400, "expiry_exceeds_token"), body
    assert api.get("/me", successor["token"]).status == 200


def test_use_after_rotation_costs_the_authorizer_one_read_and_the_handler_one_told_event(
    api: Api, accounts: Accounts, clock: FrozenClock, dynamo_calls: DynamoCalls
) -> None:
    owner = accounts.create()
    rotate(api, owner.token)
    clock.advance(seconds=1)
    dynamo_calls.clear()
    assert api.get("/me", owner.token).status == 401
    assert dynamo_calls.operations == ["BatchGetItem", "TransactWriteItems"]  # the owner's security event
    dynamo_calls.clear()
    assert api.get("/me", owner.token).status == 401
    assert dynamo_calls.operations == ["BatchGetItem"]  # told within the hour: the item says so
