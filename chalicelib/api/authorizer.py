"""The gate of every OpenIndex API: API Gateway's Lambda authorizer, deciding each request whole.

It is a REQUEST authorizer: it sees the ``Authorization`` header, the route it is asked about
(``methodArn``: the API, the method and the path within the API) and the address API Gateway
served. From those and one ``BatchGetItem`` it answers:

- **allow** (an Allow policy for exactly this method ARN, and the caller in the context), when
  the token works and meets what the route map says the route needs;
- **401** (it raises ``Unauthorized``; API Gateway answers its ``UNAUTHORIZED`` Gateway Response),
  for a missing, malformed, unknown, revoked, expired, rotated-away or policy-blocked token. A
  401 from an authorizer carries no context, so the holder learns why from
  ``POST /auth/token-check``;
- **403** (a Deny policy; the ``ACCESS_DENIED`` Gateway Response renders the context's
  ``errorCode`` and ``errorMessage``), for a token that does not meet the route's need, or a
  route the map does not have: nothing is allowed by default;
- **503** (any other exception, which API Gateway answers with its ``AUTHORIZER_CONFIGURATION_ERROR``
  Gateway Response), when DynamoDB did not answer or the event is not API Gateway's: it fails closed.

A refused request never reaches the integration of the API that attached the authorizer. The
authorizer writes only what a use must leave behind, and rarely: the token's last use (at most
once per five minutes, or when the address changes) and the refusals its owner is told about (at
most once an hour per kind). Either is best effort: failing to record never refuses a request.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalice.app import ChaliceAuthorizer

from chalicelib import audit
from chalicelib.api.responses import REQUIRED_SCOPE
from chalicelib.errors import InsufficientScope, InvalidToken, RouteNotInMap
from chalicelib.model import route_map
from chalicelib.model.caller import Caller
from chalicelib.services import authentication, usage
from chalicelib.storage import Store

# What API Gateway needs to hear from a Lambda authorizer to answer its UNAUTHORIZED response.
UNAUTHORIZED = "Unauthorized"
# API Gateway fails a request whose policy names a Resource longer than this: a longer route is
# denied, and the denial names the API's stage instead.
MAX_RESOURCE = 512
# The context keys the ACCESS_DENIED Gateway Response's template reads (JSON-escaped text), and
# the scope the route needs (a word), as in the app's own 403s.
ERROR_CODE = "errorCode"
ERROR_MESSAGE = "errorMessage"


class WholeEventAuthorizer(ChaliceAuthorizer):
    """Chalice's built-in authorizer, handed API Gateway's whole event rather than Chalice's
    ``AuthRequest`` (token and ARN only): a REQUEST authorizer needs the headers and the
    request context too."""

    def _transform_event(self, event: dict[str, Any]) -> Any:
        return event


def whole_event(authorizer: ChaliceAuthorizer) -> ChaliceAuthorizer:
    """``@app.authorizer``'s registration, its function called with the whole event."""
    authorizer.__class__ = WholeEventAuthorizer
    return authorizer


@dataclass(frozen=True)
class RouteOfArn:
    """The API, stage, method and path of an execute-api method ARN."""

    api_id: str
    stage: str
    method: str
    path: str
    arn: str

    @classmethod
    def parse(cls, method_arn: str) -> RouteOfArn:
        """``arn:aws:execute-api:region:account:api-id/stage/METHOD/path`` (``…/GET/`` is the
        root); ValueError for anything else, which fails the request closed."""
        fields = method_arn.split(":", 5)
        parts = fields[-1].split("/", 3)
        if len(fields) != 6 or fields[2] != "execute-api" or len(parts) != 4:
            raise ValueError("not an execute-api method ARN")
        api_id, stage, method, rest = parts
        return cls(api_id, stage, method, "/" if rest in ("", "/") else "/" + rest, method_arn)

    @property
    def stage_arn(self) -> str:
        """Every route of the API's stage (what a denial names when the route's ARN is too long)."""
        return ":".join(self.arn.split(":", 5)[:5]) + f":{self.api_id}/{self.stage}/*"


def decide(store: Store, event: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """API Gateway's answer for the request ``event`` describes (see the module's docstring)."""
    route = RouteOfArn.parse(str(event.get("methodArn", "")))
    authorization = _authorization(event)
    use = usage.from_request_context(event.get("requestContext") or {}, now)
    try:
        caller = authentication.authenticate(store, authorization, now, use.ip)
    except InvalidToken as refusal:
        audit.record("auth.failed", audit.FAILURE, authentication.ANONYMOUS, reason=refusal.reason,
                     route=f"{route.method} {route.path}", **authentication.claimed_ids(authorization))
        if isinstance(refusal, authentication.ToldRefusal):
            store.events.report(refusal.event)
        raise Exception(UNAUTHORIZED) from None  # noqa: TRY002 - the exact exception API Gateway reads
    # where the token was used, rarely, and what it used (see usage); recording never refuses a request
    try:
        need = _check_route(caller, route)
    except InsufficientScope as refusal:
        usage.record(store, caller, use)
        audit.record("access.denied", audit.DENIED, caller.user_id, tokenId=caller.token_id,
                     route=f"{route.method} {route.path}", requiredScope=refusal.required_scope)
        resource = route.arn if len(route.arn) <= MAX_RESOURCE else route.stage_arn
        return _policy("Deny", caller.user_id, resource, {ERROR_CODE: refusal.code,
                                                          ERROR_MESSAGE: _json_text(refusal.message),
                                                          REQUIRED_SCOPE: refusal.required_scope})
    usage.record(store, caller, use, need.use)
    return _policy("Allow", caller.user_id, route.arn, authentication.allowed_context(caller))


def _check_route(caller: Caller, route: RouteOfArn) -> route_map.Need:
    """The route's need, which the caller's token meets; InsufficientScope unless the route map
    has the route and the caller's token meets its need (a family's route by the token's grant).
    A route the map marks public is judged as if it were not listed: public routes carry no
    authorizer, so one asked about a public path serves another API, where it is not public."""
    need = route_map.guarded_need(route.method, route.path)
    if need is None or len(route.arn) > MAX_RESOURCE:
        raise RouteNotInMap()
    need.check(caller)
    return need


def _authorization(event: Mapping[str, Any]) -> str:
    """The ``Authorization`` header of a REQUEST event (any case), or a TOKEN event's token."""
    headers = event.get("headers") or {}
    found = next((value for name, value in headers.items() if name.lower() == "authorization"), None)
    return str(found if found is not None else event.get("authorizationToken") or "")


def _policy(effect: str, principal: str, resource: str, context: dict[str, str]) -> dict[str, Any]:
    """An IAM policy for ``resource``: exactly the method ARN asked about when it allows (its path
    holds no wildcard: the route map has none), and the answer is never cached."""
    return {
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": [resource]}]},
        "context": context,
    }


def _json_text(text: str) -> str:
    """``text`` escaped for a JSON string: API Gateway pastes context values into the Gateway
    Response's template as they are."""
    return json.dumps(text, ensure_ascii=False)[1:-1]
