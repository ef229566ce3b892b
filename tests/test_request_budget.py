"""Each operation costs exactly the DynamoDB requests openindex_ops/request_budget.py allows."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

import app as app_module
from chalicelib.messaging.bus import BusEvent
from chalicelib.services import expiry_notices
from chalicelib.timeutil import to_iso
from openindex_ops.request_budget import REQUEST_BUDGET

from .conftest import Accounts, Api, ApiResponse, DynamoCalls, FrozenClock


def unmapped_route(token: str) -> ApiResponse:
    """A request for a route the map lacks, as another API's gateway asks the authorizer (this
    app binds no such route)."""
    event = {"type": "REQUEST", "headers": {"Authorization": f"Bearer {token}"},
             "methodArn": "arn:aws:execute-api:us-east-1:123456789012:other/api/GET/billing"}
    answer = app_module.bearer_token(event, {})
    assert answer["context"]["errorCode"] == "route_not_in_map"
    return ApiResponse(403, {}, answer["context"])


def other_api_route(token: str, method: str, path: str) -> ApiResponse:
    """A request for another API's route, as its gateway asks the authorizer."""
    event = {"type": "REQUEST", "headers": {"Authorization": f"Bearer {token}"},
             "methodArn": f"arn:aws:execute-api:us-east-1:123456789012:other/api/{method}/{path}"}
    answer = app_module.bearer_token(event, {})
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    return ApiResponse(200, {}, answer["context"])


class UnheardBus:
    """A bus that takes every event (what it costs is EventBridge's, not DynamoDB's)."""

    def publish(self, events: Sequence[BusEvent]) -> list[BusEvent]:
        return []


def announce(clock: FrozenClock) -> ApiResponse:
    """The daily run of the expiry notices, as its scheduled function makes it."""
    given = expiry_notices.announce_expiring_tokens(app_module.get_store(), UnheardBus(), clock.now())
    assert [notice.token.name for notice in given] == ["expiring"]
    return ApiResponse(200, {}, None)


def run(name: str, api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, clock: FrozenClock) -> list[str]:
    admin = accounts.admin()
    api.get("/me", admin.token)  # the first use records lastUsedAt; measure the steady state
    invite = api.post("/admin/invites", admin.token, body={"email": "new@example.com"}).body["token"]
    doomed = api.post("/me/pats", admin.token, body={"name": "doomed", "scope": "read_write"}).body["id"]
    member = accounts.create()
    api.get("/me", member.token)
    theirs = api.post("/me/pats", member.token, body={"name": "theirs", "scope": "read_write"}).body
    members_pat, members_token = theirs["id"], theirs["token"]
    runs = [accounts.run_token(api, member)["id"] for _ in range(3)]
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body["token"]
    idle = api.post("/me/pats", admin.token, body={"name": "idle", "scope": "read_write"}).body["token"]
    api.get("/me", idle)
    clock.advance(minutes=1)
    expiring = {"name": "expiring", "scope": "read_write", "expiresAt": to_iso(clock.now() + timedelta(days=7))}
    assert api.post("/me/pats", member.token, body=expiring).status == 201
    mistyped = admin.token[:-1] + ("0" if admin.token[-1] != "0" else "1")

    def introspect() -> ApiResponse:
        return api.post("/auth/introspect", admin.token, body={"token": member.token})

    requests = {
        "authorize a valid token": lambda: api.get("/me", admin.token),
        "authorize a token with a bad checksum": lambda: api.get("/me", mistyped),
        "refuse a route the token's scope does not cover": lambda: api.get("/admin/users", member.token),
        "refuse a route that is not in the route map": lambda: unmapped_route(member.token),
        "refuse a revoked token": lambda: (api.delete(f"/me/pats/{members_pat}", member.token),
                                           dynamo_calls.clear(), api.get("/me", members_token))[2],
        "create a PAT": lambda: api.post("/me/pats", admin.token, body={"name": "n", "scope": "read_write"}),
        "list one page of PATs": lambda: api.get("/me/pats?limit=1", admin.token),
        "delete a PAT": lambda: api.delete(f"/me/pats/{doomed}", admin.token),
        "an admin deletes someone's PAT": lambda: api.delete(f"/admin/users/{member.user.id}/pats/{members_pat}",
                                                             admin.token),
        "list one page of security events": lambda: api.get("/me/security-events", member.token),
        "read the token policy": lambda: api.get("/admin/settings/token-policy", admin.token),
        "replace the token policy": lambda: api.request("PUT", "/admin/settings/token-policy", admin.token, body={
            "maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None,
            "runTokenMaxSeconds": 3600, "refuseReadWritePreset": False}),
        "preview a token policy's impact": lambda: api.get("/admin/settings/token-policy/impact?requireExpiry=true",
                                                           admin.token),
        "rotate a PAT": lambda: api.post(f"/me/pats/{doomed}/rotate", admin.token),
        "preview a narrowing": lambda: api.patch(f"/me/pats/{doomed}", admin.token,
                                                 body={"scope": "read", "dryRun": True}),
        "a token's first use of a family, recorded recently": lambda: other_api_route(member.token, "GET",
                                                                                      "queues"),
        "narrow a PAT": lambda: api.patch(f"/me/pats/{doomed}", admin.token, body={"scope": "read"}),
        "first use of a token in five minutes": lambda: (clock.advance(minutes=5), api.get("/me", idle))[1],
        "claim an invite": lambda: api.post("/auth/invites/claim", body={"token": invite}),
        "list one page of invites": lambda: api.get("/admin/invites", admin.token),
        "report a leaked PAT": lambda: api.post("/credentials/revoke", body={"credentials": [idle]}),
        "report strings that are not tokens": lambda: api.post("/credentials/revoke",
                                                               body={"credentials": ["AKIA0000", "oi_pat_x"]}),
        "check a token (token-check)": lambda: api.post("/auth/token-check", body={"token": member.token}),
        "introspect a token (RFC 7662)": lambda: (introspect(), dynamo_calls.clear(), introspect())[2],
        "revoke all of the caller's tokens": lambda: api.post("/me/pats/revoke-all", member.token),
        "list one page of run tokens": lambda: api.get("/me/agent-run-tokens", member.token),
        "delete a run token": lambda: api.delete(f"/me/agent-run-tokens/{runs[0]}", member.token),
        "create a re-access link": lambda: api.post(f"/admin/users/{member.user.id}/access-links", admin.token),
        "claim a re-access link": lambda: api.post("/auth/invites/claim", body={"token": link}),
        "announce the day's expiring tokens (one due)": lambda: announce(clock),
    }
    dynamo_calls.clear()
    response = requests[name]()
    assert response.status < 500
    return list(dynamo_calls.operations)


@pytest.mark.parametrize("name", REQUEST_BUDGET)
def test_each_operation_stays_within_its_dynamodb_request_budget(
    name: str, api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, clock: FrozenClock
) -> None:
    assert run(name, api, accounts, dynamo_calls, clock) == REQUEST_BUDGET[name]
