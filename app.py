"""OpenIndex Auth, composed: the Chalice app, the bearer-token authorizer, the one access
middleware, the scheduled functions (the sweeper, the expiry notices), and the routers bound to them.

The authorizer is the gate of every OpenIndex API, this one included: it decides each request
from the token and the route map, and API Gateway answers its refusals (401/403) without
running the route (see chalicelib/api/authorizer.py). Every route of this app is recorded by a
router in ``chalicelib/api`` and bound here behind the authorizer unless the route map says it is
public; the middleware hands the views the caller the authorizer allowed, checks the route's
requirement again, and renders every error as JSON.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

# First on purpose: botocore's dependencies (urllib3, html.parser, platform) compile regexes as
# they import, and imported in the middle of chalicelib's modules they took 30-40 ms longer
# (CPython 3.11, measured: docs/performance.md). Every Lambda cold start pays for the order.
import boto3  # noqa: F401
from chalice.app import Chalice, CloudWatchEvent, Cron, Rate, Request, Response

from chalicelib.api import (
    authorizer,
    credentials,
    health,
    introspection,
    invites,
    me,
    pats,
    responses,
    routing,
    run_tokens,
    token_policy,
    users,
)
from chalicelib.errors import ServiceError
from chalicelib.messaging.bus import EventBridgeBus, EventBus
from chalicelib.model.caller import Caller
from chalicelib.services import expiry_notices, revocation
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


@functools.cache
def get_bus() -> EventBus:
    """The event bus client, created once per container, by the one function that sends."""
    return EventBridgeBus.connect()


# API Gateway must not cache a verdict (ttl 0), or a deleted token would keep working.
@authorizer.whole_event
@app.authorizer(ttl_seconds=0)
def bearer_token(event: dict[str, Any]) -> dict[str, Any]:
    """Allow the request, or refuse it at the gateway (see chalicelib/api/authorizer.py)."""
    return authorizer.decide(get_store(), event, utcnow())


# (path, method) -> what the route needs of a token; the middleware checks it on every request.
# The providers look this module's names up at each call: one place to make the store, the clock
# and the settings, and one place for a test or a bench to replace them.
NEEDS = routing.include(
    app, [health.router, me.router, pats.router, run_tokens.router, credentials.router, introspection.router,
          invites.router, users.router, token_policy.router],
    authorizer=bearer_token,
    providers=routing.Providers(store=lambda: get_store(), clock=lambda: utcnow(), settings=lambda: settings()),
)


@app.middleware("http")
def enforce_access(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Hand the views the caller the authorizer allowed (refusing a guarded request it did not
    allow, and checking the route's requirement again: the gate decided, this never trusts that
    it was attached); say when the token expires; render every error as JSON."""
    routing.begin(event)
    caller: Caller | None = None
    try:
        need = NEEDS.get((event.context.get("resourcePath"), event.method))  # type: ignore[arg-type]
        if need is not None:
            caller = routing.current_caller()
            need.check(caller)
        response = get_response(event)
    except ServiceError as error:
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


@app.schedule(Cron(0, 9, "*", "*", "?", "*"))
def announce_expiring_tokens(event: CloudWatchEvent) -> None:
    """Every day at 09:00 UTC: tell the owner of each PAT that expires within a week (a week ahead,
    and the day before), in their security log and on the event bus for the mail service
    (chalicelib/services/expiry_notices.py)."""
    expiry_notices.announce_expiring_tokens(get_store(), get_bus(), utcnow())
