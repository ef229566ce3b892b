"""OpenIndex Auth: routes, the bearer-token authorizer and the access middleware.

Every route is declared with :func:`route`, which attaches the authorizer and states the
least token the route accepts; the one ``http`` middleware turns the authorizer's verdict into
401/403/503 before any view runs, so no route can forget to check.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import AuthResponse, Chalice, Response
from chalice.app import AuthRequest, Request

from chalicelib import authn, payloads, tokens
from chalicelib.access import ANY_TOKEN, HUMAN_READ_WRITE, Caller, Requirement
from chalicelib.errors import ServiceError
from chalicelib.http_edge import error_response, in_house_style, lazy_import
from chalicelib.store import Store
from chalicelib.timeutil import utcnow

schemas = lazy_import("chalicelib.schemas")

app = Chalice(app_name="openindex-auth")


@functools.cache
def get_store() -> Store:
    """The table client, created once per container on first use (cheap cold starts)."""
    return Store.from_environment()


# API Gateway must not cache a verdict (ttl 0), or a deleted token would keep working.
@app.authorizer(ttl_seconds=0)
def bearer_token(auth_request: AuthRequest) -> AuthResponse:
    """Authenticate the bearer token; the verdict travels in the context (see chalicelib.authn)."""
    principal, context = authn.verdict(get_store(), auth_request.token, utcnow())
    return AuthResponse(routes=["*"], principal_id=principal, context=context)


def route(path: str, *, methods: list[str], requirement: Requirement) -> Callable[..., Any]:
    """``app.route`` behind the bearer-token authorizer, accepting tokens that meet ``requirement``."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        view.requirement = requirement  # type: ignore[attr-defined]
        return app.route(path, methods=methods, authorizer=bearer_token)(view)

    return register


@app.middleware("http")
def enforce_access(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Refuse what the verdict or the route's requirement refuses; render every error as JSON."""
    try:
        entry = app.routes.get(event.context.get("resourcePath"), {}).get(event.method)
        if entry is not None and entry.authorizer is not None:
            entry.view_function.requirement.check(current_caller(event))
        response = get_response(event)
    except ServiceError as error:
        response = error_response(error)
    response.headers.setdefault("Cache-Control", "no-store")
    return in_house_style(response)


def current_caller(request: Request | None = None) -> Caller:
    """The caller the authorizer allowed for this request."""
    request = request or app.current_request
    return authn.caller_from_verdict(request.context.get("authorizer"))


@route("/me", methods=["GET"], requirement=ANY_TOKEN)
def get_me() -> dict[str, Any]:
    """The caller and the token in use (what `oi auth check` shows)."""
    return payloads.me(current_caller())


@route("/me/pats", methods=["POST"], requirement=HUMAN_READ_WRITE)
def create_pat() -> Response:
    """Create a PAT; its value is in this response and never again."""
    body = schemas.parse_body(schemas.CreatePatRequest, app.current_request.raw_body)
    issued = tokens.create_pat(
        get_store(), current_caller(), body.name, body.scope, body.expires_at, utcnow()
    )
    return Response(body=payloads.created_pat(issued), status_code=201)


@route("/me/pats", methods=["GET"], requirement=HUMAN_READ_WRITE)
def list_pats() -> dict[str, Any]:
    """The caller's PATs, newest first, without their values."""
    query = schemas.parse_query(schemas.PageQuery, app.current_request.query_params)
    items, next_cursor = tokens.list_pats(
        get_store(), current_caller(), query.limit, query.cursor, utcnow()
    )
    return payloads.page([payloads.listed_pat(item) for item in items], next_cursor)


@route("/me/pats/{token_id}", methods=["DELETE"], requirement=HUMAN_READ_WRITE)
def delete_pat(token_id: str) -> Response:
    """Revoke one of the caller's PATs; it is refused from the next request on."""
    tokens.delete_pat(get_store(), current_caller(), token_id, utcnow())
    return Response(body="", status_code=204)
