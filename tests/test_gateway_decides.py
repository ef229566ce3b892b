"""The authorizer decides every request at the gateway, for any API that attaches it: it allows
exactly the route asked about, raises ``Unauthorized`` (401) for a token that does not work,
denies (403) a route the token's grant does not cover or the route map lacks, and fails closed
(5xx) on anything else; a refused request never runs the route."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chalice.local import ARNMatcher

import app as app_module
from chalicelib.api.authorizer import UNAUTHORIZED, RouteOfArn
from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope
from openindex_ops.gateway import json_template, render

from .conftest import ARN, Accounts, Api, AuditLog, DynamoCalls, FrozenClock, effect, request


def test_a_token_that_meets_the_route_is_allowed_for_exactly_that_route(
    authorize: Callable[..., Any], accounts: Accounts
) -> None:
    owner = accounts.create()
    event = request(owner.token, "POST", "/work-items")
    answer = authorize(event)
    assert effect(answer) == ("Allow", [event["methodArn"]])
    assert answer["principalId"] == owner.user.id
    assert answer["context"]["verdict"] == "allow" and answer["context"]["tokenId"] == owner.token_id
    assert all(isinstance(value, str) for value in answer["context"].values())
    assert owner.token not in json.dumps(answer)
    # what docs/integrate.md promises another service's handler
    assert {"userId", "email", "role", "tokenId", "tokenName", "scope", "kind", "agentId", "stage", "expiresAt",
            "stopsAt"} <= set(answer["context"])


@pytest.mark.parametrize("token", [None, "oi_pat_garbage", "Basic abc"])
def test_a_token_that_does_not_work_is_unauthorized_on_any_route(
    authorize: Callable[..., Any], token: str | None
) -> None:
    for method, path in (("GET", "/work-items"), ("GET", "/not-in-the-map")):
        with pytest.raises(Exception, match=f"^{UNAUTHORIZED}$"):
            authorize(request(token, method, path))


def test_a_revoked_or_expired_token_is_unauthorized_and_the_refusal_is_audited_with_its_route(
    authorize: Callable[..., Any], accounts: Accounts, clock: FrozenClock, audit_log: AuditLog
) -> None:
    expiring = accounts.create(expires_at=clock.now())
    with pytest.raises(Exception, match=f"^{UNAUTHORIZED}$"):
        authorize(request(expiring.token, "GET", "/work-items/wi_1"))
    (line,) = audit_log.events("auth.failed")
    assert (line["reason"], line["route"]) == ("expired", "GET /work-items/wi_1")
    assert expiring.token not in json.dumps(line)


def test_a_grant_that_does_not_cover_the_route_is_denied_with_what_it_needs(
    authorize: Callable[..., Any], api: Api, accounts: Accounts, audit_log: AuditLog
) -> None:
    member = accounts.create()
    run = accounts.run_token(api, member)
    cases = {  # a family's route names the permission it needs; another, the scope
        (member.token, "DELETE", "/admin/users/usr_1"): ("insufficient_scope", "users:write"),
        (member.token, "GET", "/admin/email/templates"): ("insufficient_scope", "email:read"),
        (run["token"], "GET", "/settings/profile"): ("insufficient_scope", "read_write"),
        (run["token"], "POST", "/admin/ai-providers"): ("insufficient_scope", "ai_providers:write"),
        (member.token, "GET", "/admin/users"): ("insufficient_scope", "admin"),  # this service's own route
    }
    for (token, method, path), (code, scope) in cases.items():
        answer = authorize(request(token, method, path))
        assert effect(answer)[0] == "Deny", (method, path)
        assert (answer["context"]["errorCode"], answer["context"]["requiredScope"]) == (code, scope)
    assert len(audit_log.events("access.denied")) == len(cases)


def test_an_allow_never_carries_a_wildcard_that_would_cover_another_route(
    authorize: Callable[..., Any], api: Api, accounts: Accounts
) -> None:
    """A ``*`` in a path would be a wildcard in the policy's Resource: ``POST /workflows/*``
    allowed to a run token would cover the minting route it is denied (were any API to cache)."""
    run = accounts.run_token(api, accounts.create())
    minting = ARN.format(method="POST", path="workflows/agent-run-tokens")
    assert effect(authorize(request(run["token"], "POST", "/workflows/agent-run-tokens")))[0] == "Deny"
    for path in ("/workflows/*", "/workflows/agent-run-*", "/work-items/*"):
        answer = authorize(request(run["token"], "POST", path))
        assert effect(answer)[0] == "Deny" and answer["context"]["errorCode"] == "route_not_in_map", path
    allowed, resources = effect(authorize(request(run["token"], "POST", "/workflows/x")))
    assert allowed == "Allow" and not ARNMatcher(minting).does_any_resource_match(resources)


def test_a_route_too_long_for_a_policy_is_denied_with_a_policy_api_gateway_takes(
    authorize: Callable[..., Any], accounts: Accounts
) -> None:
    """API Gateway fails a policy whose Resource is over 512 characters (a method ARN may reach
    1600): such a route is denied, naming the API's stage, rather than failing at the gateway."""
    owner = accounts.create()
    answer = authorize(request(owner.token, "GET", "/work-items/" + "a" * 500))
    denied, (resource,) = effect(answer)
    assert (denied, resource) == ("Deny", "arn:aws:execute-api:eu-west-1:123456789012:otherapi/prod/*")
    assert answer["context"]["errorCode"] == "route_not_in_map"
    with_colon = authorize(request(owner.token, "GET", "/work-items/a:b" + "c" * 500))
    assert effect(with_colon) == ("Deny", ["arn:aws:execute-api:eu-west-1:123456789012:otherapi/prod/*"])
    fits = authorize(request(owner.token, "GET", "/work-items/" + "a" * 400))
    assert effect(fits)[0] == "Allow" and len(effect(fits)[1][0]) <= 512


def test_the_context_hands_other_apis_nothing_of_the_tokens_earlier_uses(
    authorize: Callable[..., Any], accounts: Accounts, clock: FrozenClock
) -> None:
    owner = accounts.create()
    authorize(request(owner.token, "GET", "/work-items", ip="203.0.113.77"))
    clock.advance(minutes=1)
    context = authorize(request(owner.token, "GET", "/work-items", ip="198.51.100.9"))["context"]
    assert "203.0.113.77" not in json.dumps(context) and not {"lastUsedAt", "lastUsedIp"} & set(context)


def test_a_client_that_switches_addresses_costs_at_most_a_write_a_minute(
    authorize: Callable[..., Any], accounts: Accounts, dynamo_calls: DynamoCalls, clock: FrozenClock
) -> None:
    owner = accounts.create()
    dynamo_calls.clear()
    for number in range(10):  # a dual-stack host or a NAT pool: another address on every request
        authorize(request(owner.token, "GET", "/work-items", ip=f"198.51.100.{number % 2}"))
    assert dynamo_calls.operations.count("UpdateItem") == 1
    clock.advance(seconds=61)
    authorize(request(owner.token, "GET", "/work-items", ip="198.51.100.1"))  # the new address, within the minute
    assert dynamo_calls.operations.count("UpdateItem") == 2


def test_a_route_the_map_lacks_is_denied_whatever_the_token(authorize: Callable[..., Any], accounts: Accounts) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN)
    for method, path in (("GET", "/billing"), ("GET", "/work-items/%2e%2e/admin"), ("TRACE", "/work-items")):
        answer = authorize(request(admin.token, method, path))
        assert effect(answer)[0] == "Deny"
        assert answer["context"]["errorCode"] == "route_not_in_map"


def test_public_paths_of_this_service_are_not_public_behind_the_authorizer(
    authorize: Callable[..., Any], api: Api, accounts: Accounts
) -> None:
    """This service's UI pages are public because they carry no authorizer. Another API's route
    at the same path is judged by the convention: ``/settings/…`` is a person's only."""
    member = accounts.create()
    run = accounts.run_token(api, member)
    assert effect(authorize(request(run["token"], "GET", "/settings/admin/users")))[0] == "Deny"
    assert effect(authorize(request(member.token, "GET", "/settings/admin/users")))[0] == "Allow"
    assert authorize(request(member.token, "GET", "/health"))["context"]["errorCode"] == "route_not_in_map"


def test_a_token_authorizer_event_is_decided_the_same(
    authorize: Callable[..., Any], accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    """The TOKEN event API Gateway sends while a deploy has not yet made the authorizer a REQUEST
    one: decided the same, and its use recorded without erasing the last address seen."""
    owner = accounts.create()
    authorize(request(owner.token, "GET", "/work-items", ip="203.0.113.5"))
    clock.advance(minutes=6)
    arn = ARN.format(method="GET", path="work-items")
    assert effect(authorize({"type": "TOKEN", "authorizationToken": f"Bearer {owner.token}",
                             "methodArn": arn}))[0] == "Allow"
    with pytest.raises(Exception, match=f"^{UNAUTHORIZED}$"):
        authorize({"type": "TOKEN", "authorizationToken": "Bearer oi_pat_nope", "methodArn": arn})
    (listed,) = [item for item in api.get("/me/pats", owner.token).body["items"] if item["id"] == owner.token_id]
    assert (listed["lastUsedAt"], listed["lastUsedIp"], listed["lastUsedUserAgent"]) == (
        "2026-11-24T12:06:00Z", "203.0.113.5", "svc/1")


@pytest.mark.parametrize("arn", ["", "arn:aws:s3:::bucket/x", "arn:aws:execute-api:r:1:api/stage"])
def test_an_event_without_an_execute_api_route_fails_closed(
    authorize: Callable[..., Any], accounts: Accounts, arn: str
) -> None:
    owner = accounts.create()
    with pytest.raises(ValueError):  # not "Unauthorized": API Gateway answers it with a 5xx
        authorize({"type": "REQUEST", "methodArn": arn, "headers": {"Authorization": f"Bearer {owner.token}"}})


def test_the_method_arn_names_the_route_within_the_api() -> None:
    route = RouteOfArn.parse("arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/PATCH/work-items/wi_1")
    assert (route.api_id, route.stage, route.method, route.path) == ("a1b2c3", "prod", "PATCH", "/work-items/wi_1")
    assert RouteOfArn.parse("arn:aws:execute-api:us-east-1:1:a1b2c3/prod/GET/").path == "/"


def test_a_denial_renders_as_the_apis_error_whatever_its_message_holds() -> None:
    context = {"errorCode": "insufficient_scope", "requiredScope": "admin",
               "errorMessage": json.dumps('Say "no" \\ then\nstop', ensure_ascii=False)[1:-1]}
    body = json.loads(render(json_template("ACCESS_DENIED"), context))
    assert body == {"error": {"code": "insufficient_scope", "message": 'Say "no" \\ then\nstop',
                              "requiredScope": "admin"}}


def test_a_refused_request_never_runs_the_route(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = accounts.create()
    run = accounts.run_token(api, member)
    ran: list[str] = []
    handler = type(app_module.app).__call__

    def spy(self: Any, event: dict[str, Any], context: Any) -> Any:
        ran.append(event["requestContext"]["resourcePath"])
        return handler(self, event, context)

    monkeypatch.setattr(type(app_module.app), "__call__", spy)
    dynamo_calls.clear()
    refused = [api.get("/admin/users", member.token), api.get("/me/pats", run["token"]),
               api.get("/me", "oi_pat_garbage"), api.post("/me/pats", None, body={"name": "x"})]
    assert [response.status for response in refused] == [403, 403, 401, 401]
    # the authorizer's reads (and the run token's first use recorded), nothing of any route
    assert ran == [] and dynamo_calls.operations == ["BatchGetItem", "BatchGetItem", "UpdateItem"]
    denied = refused[0].body["error"]
    assert (denied["code"], denied["requiredScope"]) == ("insufficient_scope", "admin")
    assert "admin scope" in denied["message"]
    assert api.get("/me", member.token).status == 200 and ran == ["/me"]
