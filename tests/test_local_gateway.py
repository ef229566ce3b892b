"""The local gateway answers chalice.local's own refusals with the deployed Gateway Responses."""
from __future__ import annotations

import inspect
import json
from typing import Any

from chalice import Chalice
from chalice import local as chalice_local
from chalice.config import Config

from chalicelib.api.authorizer import whole_event
from openindex_ops.gateway import GATEWAY_ERRORS, json_template, render, response_headers
from openindex_ops.local_gateway import RESPONSE_TYPES, Denied, GatewayWithResponses, RouteMissing

SECRET = "oi_pat_not-a-real-token"


def test_every_refusal_of_chalice_local_has_a_gateway_response_with_its_status() -> None:
    refusals = {
        cls for _, cls in inspect.getmembers(chalice_local, inspect.isclass)
        if issubclass(cls, chalice_local.LocalGatewayException) and cls is not chalice_local.LocalGatewayException
    }
    assert refusals | {RouteMissing, Denied} == set(RESPONSE_TYPES)
    # The local status is the app error's: right only for types whose status replaces API Gateway's.
    assert all(GATEWAY_ERRORS[response_type][1] for response_type in RESPONSE_TYPES.values())


def gateway(allow: bool) -> GatewayWithResponses:
    app = Chalice(app_name="gateway-test")

    @whole_event
    @app.authorizer()
    def bearer(event: dict[str, Any]) -> dict[str, Any]:
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [event["methodArn"]]}
        return {"principalId": "someone", "context": {},
                "policyDocument": {"Version": "2012-10-17", "Statement": [statement] if allow else []}}

    @app.route("/private", authorizer=bearer)
    def private() -> dict[str, str]:
        return {"ok": "yes"}

    return GatewayWithResponses(app, Config.create(app_name="gateway-test"))


def answers(response: dict[str, Any], response_type: str, context: dict[str, str] | None = None) -> bool:
    """Whether ``response`` is the deployed Gateway Response of ``response_type`` (its template
    filled in with the authorizer's ``context``)."""
    error = GATEWAY_ERRORS[response_type][0]
    same_body = json.loads(response["body"]) == json.loads(render(json_template(response_type), context or {}))
    return response["statusCode"] == error.status and same_body and (
        response_headers(error).items() <= response["headers"].items())


def test_a_policy_that_denies_the_route_answers_access_denied() -> None:
    response = gateway(allow=False).handle_request("GET", "/private", {"authorization": f"Bearer {SECRET}"}, None)
    assert answers(response, "ACCESS_DENIED") and SECRET not in json.dumps(response)


def test_a_policy_api_gateway_cannot_take_fails_as_it_does() -> None:
    """API Gateway fails a request whose policy names a Resource over 512 characters."""
    app = Chalice(app_name="gateway-test")

    @whole_event
    @app.authorizer()
    def bearer(event: dict[str, Any]) -> dict[str, Any]:
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [event["methodArn"]]}
        return {"principalId": "someone", "context": {}, "policyDocument": {"Statement": [statement]}}

    @app.route("/items/{name}", authorizer=bearer)
    def item(name: str) -> dict[str, str]:
        return {"name": name}

    local = GatewayWithResponses(app, Config.create(app_name="gateway-test"))
    headers = {"authorization": f"Bearer {SECRET}"}
    assert local.handle_request("GET", "/items/" + "a" * 400, headers, None)["statusCode"] == 200
    assert answers(local.handle_request("GET", "/items/" + "a" * 500, headers, None), "AUTHORIZER_CONFIGURATION_ERROR")


def test_unknown_paths_and_missing_headers_answer_like_the_deployed_api() -> None:
    local = gateway(allow=True)
    unknown = local.handle_request("GET", "/nope", {"authorization": f"Bearer {SECRET}"}, None)
    assert answers(unknown, "MISSING_AUTHENTICATION_TOKEN") and SECRET not in json.dumps(unknown)
    assert answers(local.handle_request("GET", "/private", {}, None), "UNAUTHORIZED")
    assert local.handle_request("GET", "/private", {"authorization": "Bearer x"}, None)["statusCode"] == 200


def test_the_request_context_carries_the_user_agent_as_api_gateway_records_it() -> None:
    app = Chalice(app_name="gateway-test")

    @app.route("/who")
    def who() -> dict[str, Any]:
        return dict(app.current_request.context["identity"])  # type: ignore[union-attr]

    local = GatewayWithResponses(app, Config.create(app_name="gateway-test"))
    response = local.handle_request("GET", "/who", {"User-Agent": "oi/1.4"}, None)
    assert json.loads(response["body"]) == {"sourceIp": "127.0.0.1", "userAgent": "oi/1.4"}


def test_a_browser_opening_an_unknown_page_gets_a_page_with_a_link_home_and_api_clients_json() -> None:
    browser = gateway(allow=True).handle_request(
        "GET", "/nonexistent", {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, None)
    assert browser["statusCode"] == 404
    assert browser["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert '<a href="/">' in browser["body"] and "Page not found" in browser["body"]
    for accept in ("application/json", "*/*", ""):
        client = gateway(allow=True).handle_request("GET", "/nonexistent", {"Accept": accept}, None)
        assert answers(client, "MISSING_AUTHENTICATION_TOKEN")
        assert client["headers"]["Content-Type"] == "application/json"


def test_the_deployed_not_found_response_offers_json_first_and_the_same_page_for_html() -> None:
    from openindex_ops.gateway import HTML_TEMPLATES, gateway_responses

    templates = gateway_responses()["MISSING_AUTHENTICATION_TOKEN"]["responseTemplates"]
    assert list(templates) == ["application/json", "text/html"]
    assert templates["text/html"] == HTML_TEMPLATES["MISSING_AUTHENTICATION_TOKEN"]
