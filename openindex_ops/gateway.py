"""API Gateway's own answers, in the app's error shape.

API Gateway answers some requests before the app runs: no ``Authorization`` header, an unknown
path or method, a rate limit, an authorizer that failed, an oversized body. Its default bodies
are in AWS's shape, and for an unknown path it echoes the ``Authorization`` header (the whole
bearer token) in the message. These Gateway Responses replace every one of them with the app's
own error shape and headers, built from the app's error classes so the two cannot drift apart;
``make run`` answers the same from the same definitions (see ``openindex_ops.local_gateway``).
No template uses ``$context.error.message``, so nothing the client sent is ever echoed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import (
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    RouteNotFound,
    ServiceError,
    ServiceUnavailable,
    TooManyRequests,
)
from chalicelib.http import responses
from chalicelib.http.responses import SECURITY_HEADERS

ACCESS_DENIED_MESSAGE = "The token's scope or kind is not enough for this operation."
DEFAULT_4XX_MESSAGE = "The request was refused before it reached the service."


# Each Gateway Response type, the app error it answers with, and whether that error's status
# replaces API Gateway's (the two DEFAULT_* responses keep the specific status, e.g. 413 or 504).
GATEWAY_ERRORS: dict[str, tuple[ServiceError, bool]] = {
    "UNAUTHORIZED": (InvalidToken("gateway_unauthorized"), True),
    "ACCESS_DENIED": (InsufficientScope(ACCESS_DENIED_MESSAGE, required_scope=""), True),
    "MISSING_AUTHENTICATION_TOKEN": (RouteNotFound(), True),
    "THROTTLED": (TooManyRequests(), True),
    "AUTHORIZER_FAILURE": (ServiceUnavailable(), True),
    "AUTHORIZER_CONFIGURATION_ERROR": (ServiceUnavailable(), True),
    "DEFAULT_4XX": (InvalidRequest(DEFAULT_4XX_MESSAGE), False),
    "DEFAULT_5XX": (ServiceUnavailable(), False),
}


def gateway_responses() -> dict[str, dict[str, Any]]:
    """``x-amazon-apigateway-gateway-responses``: one entry per response type above."""
    return {response_type: _response(*answer) for response_type, answer in GATEWAY_ERRORS.items()}


def response_headers(error: ServiceError) -> dict[str, str]:
    """The headers a Gateway Response for ``error`` carries (the same as the app's)."""
    headers = {**SECURITY_HEADERS, **error.headers()}
    if isinstance(error, InsufficientScope):
        # API Gateway cannot tell which scope the route wanted; the app's own 403 names it.
        headers["WWW-Authenticate"] = headers["WWW-Authenticate"].replace(', scope=""', "")
    return headers


def response_body(error: ServiceError) -> str:
    """The JSON body a Gateway Response for ``error`` carries."""
    return json.dumps(responses.error(error.code, error.message), separators=(",", ":"))


def _response(error: ServiceError, replaces_status: bool) -> dict[str, Any]:
    response: dict[str, Any] = {
        # Static header values are quoted with single quotes in API Gateway mappings.
        "responseParameters": {
            f"gatewayresponse.header.{name}": f"'{value}'" for name, value in response_headers(error).items()
        },
        "responseTemplates": {"application/json": response_body(error)},
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


def public_actions() -> list[tuple[str, str]]:
    """(path, method) of every route that needs no token and is not a plain GET."""
    from app import app

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
