"""OpenIndex Auth, composed: the Chalice app, the bearer-token authorizer, the one access
middleware, the sweeper, and the routers bound to them.

Every route is recorded by a router in ``chalicelib/api`` with the least token it accepts (or as
public) and bound here behind the authorizer; the middleware turns the authorizer's verdict and
the route's requirement into 401/403/503 before any view runs, so no route can forget to check.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

from chalice.app import AuthRequest, AuthResponse, Chalice, CloudWatchEvent, Rate, Request, Response

from chalicelib import audit
from chalicelib.api import (
    credentials,
    health,
    invites,
    me,
    pats,
    responses,
    routing,
    run_tokens,
    token_policy,
    users,
)
from chalicelib.errors import InsufficientScope, ServiceError
from chalicelib.model.caller import Caller
from chalicelib.services import authentication, revocation, usage
from chalicelib.settings import settings
from chalicelib.storage import Store
from chalicelib.timeutil import utcnow
from chalicelib.web.routes import web

app = Chalice(app_name="openindex-auth")
app.register_blueprint(web)  # the web UI's pages and assets (public; not API)


@functools.cache
def get_store() -> Store:
    """The table client, created once per container on first use (cheap cold starts)."""
    return Store.connect(settings().table_name)


# API Gateway must not cache a verdict (ttl 0), or a deleted token would keep working.
@app.authorizer(ttl_seconds=0)
def bearer_token(auth_request: AuthRequest) -> AuthResponse:
    """Authenticate the bearer token; the verdict travels in the context (see authentication)."""
    principal, context = authentication.verdict(get_store(), auth_request.token, utcnow())
    return AuthResponse(routes=["*"], principal_id=principal, context=context)


# (path, method) -> the least token the route accepts; the middleware checks it on every request.
# The providers look this module's names up at each call: one place to make the store, the clock
# and the settings, and one place for a test or a bench to replace them.
REQUIREMENTS = routing.include(
    app, [health.router, me.router, pats.router, run_tokens.router, credentials.router, invites.router,
          users.router, token_policy.router],
    authorizer=bearer_token,
    providers=routing.Providers(store=lambda: get_store(), clock=lambda: utcnow(), settings=lambda: settings()),
)


@app.middleware("http")
def enforce_access(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Refuse what the verdict or the route's requirement refuses; record where the token is used
    and say when it expires; render every error as JSON."""
    routing.begin(event)
    caller: Caller | None = None
    try:
        route_key = (event.context.get("resourcePath"), event.method)
        requirement = REQUIREMENTS.get(route_key)  # type: ignore[arg-type]
        if requirement is not None:
            caller = routing.current_caller()
            usage.record(get_store(), caller, usage.from_request_context(event.context, utcnow()))
            try:
                requirement.check(caller)
            except InsufficientScope as refusal:
                audit.record("access.denied", audit.DENIED, caller.user_id, tokenId=caller.token_id,
                             route=f"{event.method} {route_key[0]}", requiredScope=refusal.required_scope)
                raise
        response = get_response(event)
    except ServiceError as error:
        if isinstance(error, authentication.ToldRefusal):
            get_store().events.report(error.event)
        response = responses.error_response(error)
    if caller is not None:
        responses.signal_expiry(response, caller.stops_at)
        responses.signal_rotation(response, caller.rotated_to)
    return responses.in_house_style(response)


@app.schedule(Rate(1, unit=Rate.HOURS))
def sweep_revoked_tokens(event: CloudWatchEvent) -> None:
    """Delete the items of tokens that revoke-all, deactivation or demotion revoked (off the
    request path: revoking costs two item writes, whatever the number of tokens)."""
    revocation.sweep_revoked_tokens(get_store())
