"""API Gateway's own answers, in the app's error shape.

API Gateway answers some requests before the app runs: no ``Authorization`` header, an unknown
path or method, a rate limit, an authorizer that failed, an oversized body. Its default bodies
are in AWS's shape, and for an unknown path it echoes the ``Authorization`` header (the whole
bearer token) in the message. These Gateway Responses replace every one of them with the app's
own error shape and headers, built from the app's error classes so the two cannot drift apart;
``make run`` answers the same from the same definitions (see ``openindex_ops.local_gateway``).
No template uses ``$context.error.message``, so nothing the client sent is ever echoed.

The stage's limits are here too: API Gateway's throttling (all clients together), and in front
of it the per-client limits of the public operations, a WAF web ACL generated from
``CLIENT_LIMIT`` that ``make run`` applies from the same definitions.
"""
from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from chalicelib.api import responses
from chalicelib.api.authorizer import ERROR_CODE, ERROR_MESSAGE
from chalicelib.api.responses import REQUIRED_SCOPE, SECURITY_HEADERS
from chalicelib.errors import (
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    RouteNotFound,
    ServiceError,
    ServiceUnavailable,
    TooManyRequests,
)

if TYPE_CHECKING:
    from chalice.app import Chalice

# An authorizer's 401 carries no context, so it cannot say why: its holder asks token-check.
UNAUTHORIZED_MESSAGE = ("The access token is missing, invalid, expired or revoked. "
                        "Its holder can learn why with `oi auth check` or POST /auth/token-check.")
DEFAULT_4XX_MESSAGE = "The request was refused before it reached the service."


# Each Gateway Response type, the app error it answers with, and whether that error's status
# replaces API Gateway's (the two DEFAULT_* responses keep the specific status, e.g. 413 or 504).
GATEWAY_ERRORS: dict[str, tuple[ServiceError, bool]] = {
    "UNAUTHORIZED": (InvalidToken("gateway_unauthorized", UNAUTHORIZED_MESSAGE), True),
    # its body is the authorizer's: FROM_AUTHORIZER below (the message here is never shown)
    "ACCESS_DENIED": (InsufficientScope("", required_scope=""), True),
    "MISSING_AUTHENTICATION_TOKEN": (RouteNotFound(), True),
    "THROTTLED": (TooManyRequests(), True),
    "AUTHORIZER_FAILURE": (ServiceUnavailable(), True),
    "AUTHORIZER_CONFIGURATION_ERROR": (ServiceUnavailable(), True),
    "DEFAULT_4XX": (InvalidRequest(DEFAULT_4XX_MESSAGE), False),
    "DEFAULT_5XX": (ServiceUnavailable(), False),
}


# A browser that opens an unknown page gets a small page with a way home rather than JSON: a
# Gateway Response's template is chosen by the request's Accept header (JSON when it names no
# template's type, as for API clients), and make run's gateway chooses the same way.
HTML_TEMPLATES: dict[str, str] = {
    "MISSING_AUTHENTICATION_TOKEN": (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Page not found · OpenIndex'
        '</title></head><body><main><h1>Page not found</h1><p>There is no page at this address.</p>'
        '<p><a href="/">Go to the OpenIndex home page</a></p></main></body></html>'
    ),
}


# The responses whose body the authorizer's context fills in: API Gateway pastes each
# ``$context.authorizer.<key>`` into the template (the authorizer escapes the values for JSON), and
# make run's gateway does the same (:func:`render`). A 403 so says which need the token lacks.
FROM_AUTHORIZER: dict[str, str] = {
    "ACCESS_DENIED": json.dumps({"error": {"code": f"$context.authorizer.{ERROR_CODE}",
                                           "message": f"$context.authorizer.{ERROR_MESSAGE}",
                                           REQUIRED_SCOPE: f"$context.authorizer.{REQUIRED_SCOPE}"}},
                                separators=(",", ":")),
}
_AUTHORIZER_VARIABLE = re.compile(r"\$context\.authorizer\.(\w+)")


def json_template(response_type: str) -> str:
    """The JSON body template of the Gateway Response of ``response_type``."""
    return FROM_AUTHORIZER.get(response_type) or response_body(GATEWAY_ERRORS[response_type][0])


def render(template: str, authorizer_context: dict[str, str]) -> str:
    """``template`` as API Gateway renders it: each authorizer variable replaced by its value in
    the context, or by nothing."""
    return _AUTHORIZER_VARIABLE.sub(lambda found: str(authorizer_context.get(found[1], "")), template)


def gateway_responses() -> dict[str, dict[str, Any]]:
    """``x-amazon-apigateway-gateway-responses``: one entry per response type above."""
    return {response_type: _response(response_type, *answer) for response_type, answer in GATEWAY_ERRORS.items()}


def response_headers(error: ServiceError) -> dict[str, str]:
    """The headers a Gateway Response for ``error`` carries (the same as the app's)."""
    return {**SECURITY_HEADERS, **error.headers()}


def response_body(error: ServiceError) -> str:
    """The JSON body a Gateway Response for ``error`` carries."""
    return json.dumps(responses.error(error.code, error.message), separators=(",", ":"))


def _response(response_type: str, error: ServiceError, replaces_status: bool) -> dict[str, Any]:
    templates = {"application/json": json_template(response_type)}  # first: what a client naming no type gets
    if response_type in HTML_TEMPLATES:
        templates["text/html"] = HTML_TEMPLATES[response_type]
    response: dict[str, Any] = {
        # Static header values are quoted with single quotes in API Gateway mappings.
        "responseParameters": {
            f"gatewayresponse.header.{name}": f"'{value}'" for name, value in response_headers(error).items()
        },
        "responseTemplates": templates,
    }
    if replaces_status:
        response["statusCode"] = str(error.status)
    return response


@dataclass(frozen=True)
class Throttle:
    """An API Gateway rate limit: steady requests per second, and the burst it absorbs."""

    rate: float
    burst: int


# The whole stage: generous for people and scripts, a ceiling for a runaway client or a flood.
STAGE_THROTTLE = Throttle(rate=100, burst=200)
# Public routes that act (claiming an invite, and later revoking leaked tokens) answer anyone
# without a token, so they get a limit near what a person needs: guessing costs real time.
PUBLIC_ACTION_THROTTLE = Throttle(rate=2, burst=10)


def public_actions(app: Chalice | None = None) -> list[tuple[str, str]]:
    """(path, method) of every route of ``app`` (app.py's by default) that needs no token and is
    not a plain GET."""
    if app is None:
        from app import app as app_py

        app = app_py
    return sorted(
        (path, method)
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if entry.authorizer is None and method != "GET"
    )


def method_settings() -> list[dict[str, Any]]:
    """``MethodSettings`` of the stage: the stage's limit, then each public action's."""
    settings = [_throttled("/*", "*", STAGE_THROTTLE)]
    settings += [_throttled(_escaped(path), method, PUBLIC_ACTION_THROTTLE) for path, method in public_actions()]
    return settings


def throttle_patches() -> list[dict[str, str]]:
    """The same limits as ``update_stage`` patch operations, for the `chalice deploy` path."""
    return [
        {"op": "replace", "path": f"{setting['ResourcePath']}/{setting['HttpMethod']}/throttling/{field}",
         "value": str(setting[key])}
        for setting in method_settings()
        for field, key in (("rateLimit", "ThrottlingRateLimit"), ("burstLimit", "ThrottlingBurstLimit"))
    ]


def _throttled(resource_path: str, method: str, throttle: Throttle) -> dict[str, Any]:
    return {"ResourcePath": resource_path, "HttpMethod": method,
            "ThrottlingRateLimit": throttle.rate, "ThrottlingBurstLimit": throttle.burst}


def _escaped(path: str) -> str:
    """API Gateway's spelling of a resource path in method settings: '/' inside it is '~1'."""
    return "/" + path.replace("/", "~1")


@dataclass(frozen=True)
class ClientLimit:
    """At most ``requests`` from one source address to one public action in any
    ``window_seconds``: an AWS WAF rate-based rule (its limit is at least 10, its window 60,
    120, 300 or 600 seconds)."""

    requests: int
    window_seconds: int


# API Gateway's limits above are not per client: one client holding a public action at its
# 2 requests a second starves everyone else. WAF runs before API Gateway, so a client over this
# limit is refused there and leaves the action's limit to the others. A person claims an invite
# in a request or two, and a scanner reports up to 1,000 strings a request.
CLIENT_LIMIT = ClientLimit(requests=10, window_seconds=60)
CLIENT_LIMITED = TooManyRequests(
    f"Too many requests from your address to this operation; retry in {CLIENT_LIMIT.window_seconds} seconds."
)
_CLIENT_LIMITED_BODY = "too_many_requests"
# How WAF reads the path before matching it: decoded, and without '//', '/./' or '/../'.
_PATH_TRANSFORMATIONS = ("URL_DECODE", "NORMALIZE_PATH")


def client_limit_headers() -> dict[str, str]:
    """The headers of a per-client 429: the app's 429's, with ``Retry-After`` the whole window.

    WAF blocks a client while its requests over the last window exceed the limit, and every
    retry counts: a client that came back after a second would stay blocked."""
    return {**response_headers(CLIENT_LIMITED), "Retry-After": str(CLIENT_LIMIT.window_seconds)}


def counts_against(method: str, path: str, action: tuple[str, str]) -> bool:
    """Whether a request counts against the public action's per-client limit, as the WebACL's
    scope-down matches it: the same method, and the action's path within the decoded,
    normalized request path (whatever prefix the stage or a custom domain adds before it)."""
    action_path, action_method = action
    return method == action_method and action_path in posixpath.normpath(unquote(urlsplit(path).path))


def client_limits_web_acl(name: str) -> dict[str, Any]:
    """The per-client limits as a WAFv2 WebACL: ``AWS::WAFv2::WebACL`` properties, which are also
    the parameters of WAFv2's ``CreateWebACL``. One rate-based rule per public action, counting
    per source address, answering 429 with the app's error body and headers."""
    return {
        "Name": name,
        "Scope": "REGIONAL",
        "Description": "OpenIndex Auth: per-client limits of the public operations",
        "DefaultAction": {"Allow": {}},
        "CustomResponseBodies": {_CLIENT_LIMITED_BODY: {
            "ContentType": "APPLICATION_JSON", "Content": response_body(CLIENT_LIMITED),
        }},
        "Rules": [_client_limit_rule(priority, action) for priority, action in enumerate(public_actions())],
        "VisibilityConfig": _visibility(name),
    }


def _client_limit_rule(priority: int, action: tuple[str, str]) -> dict[str, Any]:
    path, method = action
    name = f"client-limit-{method.lower()}{path.replace('/', '-')}"
    return {
        "Name": name,
        "Priority": priority,
        "Action": {"Block": {"CustomResponse": {
            "ResponseCode": CLIENT_LIMITED.status,
            "CustomResponseBodyKey": _CLIENT_LIMITED_BODY,
            "ResponseHeaders": [{"Name": header, "Value": value} for header, value in client_limit_headers().items()],
        }}},
        "Statement": {"RateBasedStatement": {
            "Limit": CLIENT_LIMIT.requests,
            "EvaluationWindowSec": CLIENT_LIMIT.window_seconds,
            "AggregateKeyType": "IP",
            "ScopeDownStatement": {"AndStatement": {"Statements": [
                _byte_match({"Method": {}}, method, "EXACTLY", ("NONE",)),
                _byte_match({"UriPath": {}}, path, "CONTAINS", _PATH_TRANSFORMATIONS),
            ]}},
        }},
        "VisibilityConfig": _visibility(name),
    }


def _byte_match(field: dict[str, Any], value: str, position: str, transformations: tuple[str, ...]) -> dict[str, Any]:
    return {"ByteMatchStatement": {
        "FieldToMatch": field,
        "SearchString": value,
        "PositionalConstraint": position,
        "TextTransformations": [{"Priority": n, "Type": kind} for n, kind in enumerate(transformations)],
    }}


def _visibility(name: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}
