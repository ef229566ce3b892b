"""Introspection (RFC 7662) for services outside API Gateway: whether a token is live."""
from __future__ import annotations

from typing import Any

from chalicelib.api import responses
from chalicelib.api.routing import FORM, JSON, Router, current_caller, form_or_json_body, now, store
from chalicelib.services import authentication

router = Router()


@router.route("/auth/introspect", methods=["POST"], content_types=(FORM, JSON))
def introspect_token() -> dict[str, Any]:
    """Whether a token is live, for a service holding token_introspection:read: its owner, kind,
    grant and times, or only ``{"active": false}``."""
    from chalicelib.api.requests import IntrospectionRequest

    request = form_or_json_body(IntrospectionRequest)
    return responses.introspection(authentication.introspect(store(), current_caller(), request.token, now(),
                                                             request.client_ip))
