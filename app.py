"""OpenIndex Auth: routes, the bearer-token authorizer and the access middleware.

Every route is declared with :func:`route` (behind the authorizer, stating the least token it
accepts) or :func:`public_route`; the one ``http`` middleware turns the authorizer's verdict
into 401/403/503 before any view runs, so no route can forget to check.
"""
from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from contextvars import ContextVar
from types import ModuleType
from typing import Any

from chalice import AuthResponse, Chalice, Response
from chalice.app import AuthRequest, Request

from chalicelib import agent_runs, audit, authn, invites, payloads, tokens, users
from chalicelib.access import (
    ANY_TOKEN,
    HUMAN_ADMIN,
    HUMAN_READ_WRITE,
    RUN_TOKEN_MINTER,
    Caller,
    Requirement,
)
from chalicelib.errors import InsufficientScope, ServiceError
from chalicelib.http_edge import error_response, in_house_style
from chalicelib.store import Store
from chalicelib.timeutil import utcnow

app = Chalice(app_name="openindex-auth")

# The request being served. Not `app.current_request`: that is one attribute of the shared app,
# and `chalice local` serves requests on concurrent threads, so a view could read another
# request's caller. Each thread (and each Lambda invocation) sees only its own value here.
_request: ContextVar[Request] = ContextVar("request")


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


def public_route(path: str, *, methods: list[str]) -> Callable[..., Any]:
    """``app.route`` that needs no bearer token."""
    return app.route(path, methods=methods)


@app.middleware("http")
def enforce_access(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Refuse what the verdict or the route's requirement refuses; render every error as JSON."""
    _request.set(event)
    try:
        entry = app.routes.get(event.context.get("resourcePath"), {}).get(event.method)
        if entry is not None and entry.authorizer is not None:
            caller = current_caller()
            try:
                entry.view_function.requirement.check(caller)
            except InsufficientScope as refusal:
                audit.record("access.denied", audit.DENIED, caller.user_id, tokenId=caller.token_id,
                             route=f"{event.method} {entry.uri_pattern}", requiredScope=refusal.required_scope)
                raise
        response = get_response(event)
    except ServiceError as error:
        response = error_response(error)
    return in_house_style(response)


def current_caller() -> Caller:
    """The caller the authorizer allowed for this request."""
    return authn.caller_from_verdict(_request.get().context.get("authorizer"))


def schemas() -> ModuleType:
    """``chalicelib.schemas``, imported on first use: both Lambdas import this file, and pydantic
    is slow to import and never needed by the authorizer. (``import_module`` holds the import
    lock, unlike ``importlib.util.LazyLoader``, which is not thread-safe before Python 3.12.)"""
    return importlib.import_module("chalicelib.schemas")


def body(model_name: str) -> Any:
    """The request body validated against ``chalicelib.schemas.<model_name>``."""
    models = schemas()
    return models.parse_body(getattr(models, model_name), _request.get().raw_body)


def page_query() -> Any:
    """The validated ``limit`` and ``cursor`` of a list request."""
    models = schemas()
    return models.parse_query(models.PageQuery, _request.get().query_params)


def created(payload: dict[str, Any]) -> Response:
    """201 with the new resource."""
    return Response(body=payload, status_code=201)


def no_content() -> Response:
    """204, a fresh response each time (the middleware adds headers to it)."""
    return Response(body="", status_code=204)


@public_route("/health", methods=["GET"])
def health() -> dict[str, str]:
    """Liveness for load balancers and monitors; touches nothing and needs no token."""
    return {"status": "ok"}


# The caller and their own tokens


@route("/me", methods=["GET"], requirement=ANY_TOKEN)
def get_me() -> dict[str, Any]:
    """The caller and the token in use (what `oi auth check` shows)."""
    return payloads.me(current_caller())


@route("/me/pats", methods=["POST"], requirement=HUMAN_READ_WRITE)
def create_pat() -> Response:
    """Create a PAT; its value is in this response and never again."""
    request = body("CreatePatRequest")
    issued = tokens.create_pat(
        get_store(), current_caller(), request.name, request.scope, request.expires_at, utcnow()
    )
    return created(payloads.created_pat(issued))


@route("/me/pats", methods=["GET"], requirement=HUMAN_READ_WRITE)
def list_pats() -> dict[str, Any]:
    """The caller's PATs, newest first, without their values."""
    query = page_query()
    items, cursor = tokens.list_pats(
        get_store(), current_caller().user_id, query.limit, query.cursor, utcnow()
    )
    return payloads.page([payloads.listed_pat(item) for item in items], cursor)


@route("/me/pats/{token_id}", methods=["DELETE"], requirement=HUMAN_READ_WRITE)
def delete_pat(token_id: str) -> Response:
    """Revoke one of the caller's PATs; it is refused from the next request on."""
    caller = current_caller()
    tokens.delete_pat(get_store(), caller.user_id, token_id, utcnow(), actor_id=caller.user_id)
    return no_content()


# Workflow agent run tokens


@route("/workflows/agent-run-tokens", methods=["POST"], requirement=RUN_TOKEN_MINTER)
def create_agent_run_token() -> Response:
    """Mint a short-lived read_write token for one workflow agent run."""
    request = body("CreateRunTokenRequest")
    issued = agent_runs.mint_run_token(
        get_store(), current_caller(), request.agent_id, request.stage,
        request.expires_in_seconds, utcnow(),
    )
    return created(payloads.created_run_token(issued))


# Invites


@public_route("/auth/invites/claim", methods=["POST"])
def claim_invite() -> Response:
    """Activate an invited account; answers with the user and their first PAT."""
    request = body("ClaimInviteRequest")
    user, first_token = invites.claim_invite(get_store(), request.token, utcnow())
    return created(payloads.claimed_invite(user, first_token))


@route("/admin/invites", methods=["POST"], requirement=HUMAN_ADMIN)
def create_invite() -> Response:
    """Invite an email; the invite token and link are in this response and never again."""
    request = body("CreateInviteRequest")
    issued = invites.create_invite(
        get_store(), request.email, request.role, request.expires_at,
        created_by=current_caller().user_id, app_url=os.environ["APP_URL"], now=utcnow(),
    )
    return created(payloads.created_invite(issued))


@route("/admin/invites", methods=["GET"], requirement=HUMAN_ADMIN)
def list_invites() -> dict[str, Any]:
    """Pending invites, newest first, without their tokens."""
    query = page_query()
    items, cursor = invites.list_invites(get_store(), query.limit, query.cursor, utcnow())
    return payloads.page([payloads.listed_invite(item) for item in items], cursor)


@route("/admin/invites/{invite_id}", methods=["DELETE"], requirement=HUMAN_ADMIN)
def revoke_invite(invite_id: str) -> Response:
    """Revoke a pending invite; claiming it then answers 410."""
    invites.revoke_invite(get_store(), invite_id, utcnow(), actor_id=current_caller().user_id)
    return no_content()


# Users


@route("/admin/users", methods=["GET"], requirement=HUMAN_ADMIN)
def list_users() -> dict[str, Any]:
    """All users, newest first."""
    query = page_query()
    items, cursor = users.list_users(get_store(), query.limit, query.cursor)
    return payloads.page([payloads.user(item) for item in items], cursor)


@route("/admin/users/{user_id}", methods=["GET"], requirement=HUMAN_ADMIN)
def get_user(user_id: str) -> dict[str, Any]:
    """One user."""
    return payloads.user(users.get_user(get_store(), user_id))


@route("/admin/users/{user_id}", methods=["PATCH"], requirement=HUMAN_ADMIN)
def update_user(user_id: str) -> dict[str, Any]:
    """Activate, deactivate, promote or demote a user; never the last active admin away."""
    request = body("UpdateUserRequest")
    updated = users.update_user(get_store(), user_id, request.status, request.role, current_caller().user_id)
    return payloads.user(updated)


@route("/admin/users/{user_id}/pats", methods=["GET"], requirement=HUMAN_ADMIN)
def list_user_pats(user_id: str) -> dict[str, Any]:
    """Anyone's PATs, newest first, without their values."""
    query = page_query()
    owner = users.get_user(get_store(), user_id)
    items, cursor = tokens.list_pats(get_store(), owner.id, query.limit, query.cursor, utcnow())
    return payloads.page([payloads.listed_pat(item) for item in items], cursor)


@route("/admin/users/{user_id}/pats/{token_id}", methods=["DELETE"], requirement=HUMAN_ADMIN)
def delete_user_pat(user_id: str, token_id: str) -> Response:
    """Revoke anyone's PAT."""
    tokens.delete_pat(get_store(), user_id, token_id, utcnow(), actor_id=current_caller().user_id)
    return no_content()
