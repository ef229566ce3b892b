"""What clients need to show people the truth before they act (issue 19): listed tokens say why
they are blocked, `GET /me` says what a new token may be, and a policy preview says when saving
it would lock the previewing token out."""
from __future__ import annotations

from typing import Any

from .conftest import Accounts, Api, FrozenClock

POLICY = "/admin/settings/token-policy"
OPEN = {"maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
        "refuseReadWritePreset": False}


def listed(api: Api, token: str, token_id: str) -> dict[str, Any]:
    return next(item for item in api.get("/me/pats", token).body["items"] if item["id"] == token_id)


def set_policy(api: Api, token: str, **changes: Any) -> None:
    response = api.request("PUT", POLICY, token, body={**OPEN, **changes})
    assert response.status == 200, response.body


def test_a_token_the_policy_blocks_is_listed_as_blocked_and_unblocked_when_relaxed(
    api: Api, accounts: Accounts
) -> None:
    admin = accounts.admin()
    short = api.post("/me/pats", admin.token, body={"name": "short", "scope": "admin",
                                                   "expiresAt": "2026-12-01T12:00:00Z"}).body
    forever = api.post("/me/pats", admin.token, body={"name": "forever", "scope": "read_write"}).body
    set_policy(api, short["token"], maxLifetimeDays=30)
    blocked = listed(api, short["token"], forever["id"])["blocked"]
    assert blocked["code"] == "blocked_by_policy"
    assert "tokens live at most 30 days" in blocked["message"] and "expiresAt" not in blocked["message"]
    assert listed(api, short["token"], short["id"])["blocked"] is None
    set_policy(api, short["token"])
    assert listed(api, short["token"], forever["id"])["blocked"] is None


def test_a_rotated_token_past_its_window_is_listed_as_rotated_and_can_be_deleted(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    owner = accounts.create()
    successor = api.post("/me/pats/self/rotate", owner.token, body={"graceSeconds": 60}).body
    clock.advance(seconds=61)
    old = listed(api, successor["token"], owner.token_id)
    assert old["blocked"]["code"] == "rotated" and successor["id"] in old["blocked"]["message"]
    admin = accounts.admin()
    assert owner.token_id in [item["id"] for item in api.get(f"/admin/users/{owner.user.id}/pats",
                                                               admin.token).body["items"]]
    assert api.delete(f"/me/pats/{owner.token_id}", successor["token"]).status == 204
    assert owner.token_id not in [item["id"] for item in api.get("/me/pats", successor["token"]).body["items"]]


def test_me_says_what_a_new_token_may_be_and_the_server_holds_to_it(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    expiring = api.post("/me/pats", admin.token, body={"name": "60 days", "scope": "admin",
                                                      "expiresAt": "2027-01-23T12:00:00Z"}).body["token"]
    set_policy(api, expiring, maxLifetimeDays=90, adminMaxLifetimeDays=60)
    limits = api.get("/me", expiring).body["tokenLimits"]
    assert limits["admin"] == {"latestExpiresAt": "2027-01-23T12:00:00Z", "noExpiryAllowed": False,
                               "leftOut": "latest", "leftOutExpiresAt": "2027-01-23T12:00:00Z", "refused": None}
    assert limits["read_write"] == {"latestExpiresAt": "2027-01-23T12:00:00Z", "noExpiryAllowed": False,
                                    "leftOut": "refused", "leftOutExpiresAt": None, "refused": None}
    made = api.post("/me/pats", expiring, body={"name": "at the limit", "scope": "read_write",
                                               "expiresAt": limits["read_write"]["latestExpiresAt"]})
    assert made.status == 201, made.body
    beyond = api.post("/me/pats", expiring, body={"name": "beyond", "scope": "admin",
                                                 "expiresAt": "2027-01-23T12:00:01Z"})
    assert beyond.status == 400
    left_out = api.post("/me/pats", expiring, body={"name": "left out", "scope": "read_write"})
    assert left_out.status == 400  # "refused", as /me said
    set_policy(api, expiring, requireExpiry=True)  # no cap: a missing expiry is filled with a year
    assert api.get("/me", admin.token).status == 401  # no expiry: blocked now
    required = api.get("/me", expiring).body["tokenLimits"]["read_write"]
    assert (required["noExpiryAllowed"], required["leftOut"]) == (False, "refused")  # a year outlives the caller


def test_me_of_a_member_offers_read_and_read_write_and_a_run_token_nothing(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    assert set(api.get("/me", member.token).body["tokenLimits"]) == {"read", "read_write"}
    run = accounts.run_token(api, member)
    assert api.get("/me", run["token"]).body["tokenLimits"] == {}


def test_the_policy_preview_says_when_saving_it_would_lock_the_previewing_token_out(
    api: Api, accounts: Accounts
) -> None:
    admin = accounts.admin()
    preview = api.get(f"{POLICY}/impact?requireExpiry=true", admin.token).body
    refusal = api.request("PUT", POLICY, admin.token, body={**OPEN, "requireExpiry": True})
    assert refusal.status == 409
    assert preview["blocksCaller"] == {"message": refusal.body["error"]["message"]}
    assert api.get(f"{POLICY}/impact?maxLifetimeDays=90", admin.token).body["blocksCaller"] is not None
    assert api.get(f"{POLICY}/impact", admin.token).body["blocksCaller"] is None
