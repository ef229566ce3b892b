"""API Gateway's own 401/403 answers, in the app's error shape.

API Gateway answers some requests before the app runs (no Authorization header at all, or an
authorizer policy that denies). These Gateway Responses make those answers look exactly like
the app's own 401/403: built from the same error classes, so the two cannot drift apart.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib import payloads
from chalicelib.errors import REALM, InsufficientScope, InvalidToken

ACCESS_DENIED_MESSAGE = "The token's scope or kind is not enough for this operation."


def gateway_responses() -> dict[str, dict[str, Any]]:
    """``x-amazon-apigateway-gateway-responses`` for UNAUTHORIZED and ACCESS_DENIED."""
    return {
        "UNAUTHORIZED": _response(
            401, payloads.error(InvalidToken.code, InvalidToken.MESSAGE), f'{REALM}, error="invalid_token"'
        ),
        "ACCESS_DENIED": _response(
            403,
            payloads.error(InsufficientScope.code, ACCESS_DENIED_MESSAGE),
            f'{REALM}, error="insufficient_scope"',
        ),
    }


def _response(status: int, body: dict[str, Any], www_authenticate: str) -> dict[str, Any]:
    return {
        "statusCode": str(status),
        # Static header values are quoted with single quotes in API Gateway mappings.
        "responseParameters": {"gatewayresponse.header.WWW-Authenticate": f"'{www_authenticate}'"},
        "responseTemplates": {"application/json": json.dumps(body, separators=(",", ":"))},
    }
