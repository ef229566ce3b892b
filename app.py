"""OpenIndex Auth: routes, the bearer-token authorizer and the access middleware.

Every route is declared with :func:`route` (behind the authorizer, stating the least token it
accepts) or :func:`public_route`; the one ``http`` middleware turns the authorizer's verdict
into 401/403/503 before any view runs, so no route can forget to check. Views parse the request,
call the domain in ``chalicelib`` and shape the answer; request models are imported inside the
views, so pydantic stays off the authorizer's import path.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from chalice.app import AuthRequest, AuthResponse, Chalice, CloudWatchEvent, Rate, Request, Response

from chalicelib import audit
from chalicelib.api import responses
from chalicelib.errors import InsufficientScope, ServiceError
from chalicelib.model.caller import Caller
from chalicelib.model.kinds import TokenKind
from chalicelib.model.requirements import ANY_TOKEN, HUMAN_ADMIN, HUMAN_READ_WRITE, RUN_TOKEN_MINTER, Requirement
from chalicelib.services import (
    authentication,
    invites,
    leaks,
    pats,
    revocation,
    rotation,
    run_tokens,
    security_log,
    token_policy,
    usage,
    users,
)
from chalicelib.settings import settings
from chalicelib.storage import Store
from chalicelib.timeutil import utcnow
from chalicelib.web.routes import web

if TYPE_CHECKING:  # at run time, only the views that take a body import pydantic
    from pydantic import BaseModel

    from chalicelib.api.requests import PageQuery
Model = TypeVar("Model", bound="BaseModel")

app = Chalice(app_name="openindex-auth")
app.register_blueprint(web)  # the web UI's pages and assets (public; not API)

# The request being served. Not `app.current_request`: that is one attribute of the shared app,
# and `chalice local` serves requests on concurrent threads, so a view could read another
# request's caller. Each thread (and each Lambda invocation) sees only its own value here.
_request: ContextVar[Request] = ContextVar("request")

# (path, method) -> the least token the route accepts; the middleware checks it on every request.
REQUIREMENTS: dict[tuple[str, str], Requirement] = {}


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


def route(path: str, *, methods: list[str], requirement: Requirement) -> Callable[..., Any]:
    """``app.route`` behind the bearer-token authorizer, accepting tokens that meet ``requirement``."""
    for method in methods:
        REQUIREMENTS[(path, method)] = requirement
    return app.route(path, methods=methods, authorizer=bearer_token)


def public_route(path: str, *, methods: list[str]) -> Callable[..., Any]:
    """``app.route`` that needs no bearer token."""
    return app.route(path, methods=methods)


@app.middleware("http")
def enforce_access(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Refuse what the verdict or the route's requirement refuses; record where the token is used
    and say when it expires; render every error as JSON."""
    _request.set(event)
    caller: Caller | None = None
    try:
        route_key = (event.context.get("resourcePath"), event.method)
        requirement = REQUIREMENTS.get(route_key)  # type: ignore[arg-type]
        if requirement is not None:
            caller = current_caller()
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
            security_log.report(get_store(), error.event)
        response = responses.error_response(error)
    if caller is not None:
        responses.signal_expiry(response, caller.stops_at)
        responses.signal_rotation(response, caller.rotated_to)
    return responses.in_house_style(response)


def current_caller() -> Caller:
    """The caller the authorizer allowed for this request."""
    return authentication.caller_from_verdict(_request.get().context.get("authorizer"))


def body(model: type[Model], optional: bool = False) -> Model:
    """The request body validated against ``model`` (400 with a clear message otherwise); an
    ``optional`` body may be left out, which means ``{}``."""
    from chalicelib.api.requests import parse_body

    raw = _request.get().raw_body
    return parse_body(model, b"{}" if optional and not raw else raw)


def query(model: type[Model]) -> Model:
    """The query string validated against ``model`` (400 with a clear message otherwise)."""
    from chalicelib.api.requests import parse_query

    return parse_query(model, _request.get().query_params)


def page_query() -> PageQuery:
    """The validated ``limit`` and ``cursor`` of a list request."""
    from chalicelib.api.requests import PageQuery

    return query(PageQuery)


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
    caller = current_caller()
    return responses.me(caller, pats.creation_limits(caller, utcnow()))


@route("/me/pats", methods=["POST"], requirement=HUMAN_READ_WRITE)
def create_pat() -> Response:
    """Create a PAT; its value is in this response and never again."""
    from chalicelib.api.requests import CreatePatRequest

    request = body(CreatePatRequest)
    issued = pats.create_pat(
        get_store(), current_caller(), name=request.name, scope=request.scope, expires_at=request.expires_at,
        now=utcnow(),
    )
    return created(responses.created_pat(issued))


@route("/me/pats", methods=["GET"], requirement=HUMAN_READ_WRITE)
def list_pats() -> dict[str, Any]:
    """The caller's PATs, newest first, without their values."""
    query = page_query()
    caller, now = current_caller(), utcnow()
    items, cursor = pats.list_pats(get_store(), caller.owner, limit=query.limit, cursor=query.cursor, now=now)
    return responses.page([responses.listed_pat(item, pats.why_blocked(item, caller.token_policy, now))
                           for item in items], cursor)


@route("/me/pats/{token_id}", methods=["DELETE"], requirement=HUMAN_READ_WRITE)
def delete_pat(token_id: str) -> Response:
    """Revoke one of the caller's PATs; it is refused from the next request on."""
    caller = current_caller()
    revocation.delete_token(get_store(), TokenKind.PAT, caller.user_id, token_id, now=utcnow(),
                            actor_id=caller.user_id, via_token_id=caller.token_id)
    return no_content()


@route("/me/pats/{token_id}/rotate", methods=["POST"], requirement=HUMAN_READ_WRITE)
def rotate_pat(token_id: str) -> Response:
    """Replace a PAT (``self``: this one) with a successor of the same name and scope; the old
    one keeps working for ``graceSeconds``. The new value is in this response and never again."""
    from chalicelib.api.requests import RotatePatRequest

    request = body(RotatePatRequest, optional=True)
    caller = current_caller()
    rotated = rotation.rotate_pat(
        get_store(), caller, token_id, expires_at=request.requested_expiry,
        grace_seconds=request.grace_seconds, now=utcnow(),
    )
    response = created(responses.created_pat(rotated.successor))
    if rotated.old_id == caller.token_id:  # the calling token now stops at the end of its window
        responses.signal_expiry(response, rotated.old_stops_at)
        responses.signal_rotation(response, rotated.successor.record.id)
    return response


@route("/me/pats/revoke-all", methods=["POST"], requirement=HUMAN_READ_WRITE)
def revoke_all_my_tokens() -> Response:
    """Revoke every PAT and run token of the caller issued up to now, this one included."""
    caller = current_caller()
    users.revoke_all_tokens(get_store(), caller.user_id, now=utcnow(), actor_id=caller.user_id,
                            via_token_id=caller.token_id)
    return no_content()


@route("/me/agent-run-tokens", methods=["GET"], requirement=HUMAN_READ_WRITE)
def list_my_run_tokens() -> dict[str, Any]:
    """The caller's live agent run tokens, newest first, without their values."""
    query = page_query()
    items, cursor = run_tokens.list_run_tokens(
        get_store(), current_caller().owner, limit=query.limit, cursor=query.cursor, now=utcnow()
    )
    return responses.page([responses.listed_run_token(item) for item in items], cursor)


@route("/me/agent-run-tokens/{run_id}", methods=["DELETE"], requirement=HUMAN_READ_WRITE)
def delete_my_run_token(run_id: str) -> Response:
    """Revoke one of the caller's agent run tokens; refused from the next request on."""
    caller = current_caller()
    revocation.delete_token(get_store(), TokenKind.AGENT_RUN, caller.user_id, run_id, now=utcnow(),
                            actor_id=caller.user_id, via_token_id=caller.token_id)
    return no_content()


@route("/me/security-events", methods=["GET"], requirement=HUMAN_READ_WRITE)
def list_my_security_events() -> dict[str, Any]:
    """What happened to the caller's tokens in the last 90 days, newest first."""
    query = page_query()
    items, cursor = security_log.list_events(
        get_store(), current_caller().user_id, limit=query.limit, cursor=query.cursor, now=utcnow()
    )
    return responses.page([responses.security_event(item) for item in items], cursor)


# Workflow agent run tokens


@route("/workflows/agent-run-tokens", methods=["POST"], requirement=RUN_TOKEN_MINTER)
def create_agent_run_token() -> Response:
    """Mint a short-lived read_write token for one workflow agent run."""
    from chalicelib.api.requests import CreateRunTokenRequest

    request = body(CreateRunTokenRequest)
    issued = run_tokens.mint_run_token(
        get_store(), current_caller(), agent_id=request.agent_id, stage=request.stage,
        lifetime_seconds=request.expires_in_seconds, now=utcnow(),
        lifetime_asked="expires_in_seconds" in request.model_fields_set,
    )
    return created(responses.created_run_token(issued))


# Leaked credentials


@public_route("/credentials/revoke", methods=["POST"])
def revoke_leaked_credentials() -> Response:
    """Revoke leaked PATs, run tokens and invites, reported by anyone: 202 whatever was found,
    so the answer never tells whether a token is live."""
    from chalicelib.api.requests import RevokeCredentialsRequest

    request = body(RevokeCredentialsRequest)
    leaks.revoke_leaked(get_store(), request.credentials, source=request.source, now=utcnow())
    return Response(body={}, status_code=202)


# Invites


@public_route("/auth/invites/claim", methods=["POST"])
def claim_invite() -> Response:
    """Activate an invited account; answers with the user and their first PAT."""
    from chalicelib.api.requests import ClaimInviteRequest

    request = body(ClaimInviteRequest)
    user, first_token = invites.claim_invite(get_store(), request.token, now=utcnow())
    return created(responses.claimed_invite(user, first_token))


@route("/admin/invites", methods=["POST"], requirement=HUMAN_ADMIN)
def create_invite() -> Response:
    """Invite an email; the invite token and link are in this response and never again."""
    from chalicelib.api.requests import CreateInviteRequest

    request = body(CreateInviteRequest)
    issued = invites.create_invite(
        get_store(), email=request.email, role=request.role, expires_at=request.expires_at,
        maker=current_caller().maker, app_url=settings().app_url, now=utcnow(),
    )
    return created(responses.created_invite(issued))


@route("/admin/invites", methods=["GET"], requirement=HUMAN_ADMIN)
def list_invites() -> dict[str, Any]:
    """Pending invites, newest first, without their tokens."""
    query = page_query()
    items, cursor = invites.list_invites(get_store(), limit=query.limit, cursor=query.cursor, now=utcnow())
    return responses.page([responses.listed_invite(item) for item in items], cursor)


@route("/admin/invites/{invite_id}", methods=["DELETE"], requirement=HUMAN_ADMIN)
def revoke_invite(invite_id: str) -> Response:
    """Revoke a pending invite; claiming it then answers 410."""
    caller = current_caller()
    invites.revoke_invite(get_store(), invite_id, now=utcnow(), actor_id=caller.user_id, via_token_id=caller.token_id)
    return no_content()


# Users


@route("/admin/users", methods=["GET"], requirement=HUMAN_ADMIN)
def list_users() -> dict[str, Any]:
    """All users, newest first."""
    query = page_query()
    items, cursor = users.list_users(get_store(), limit=query.limit, cursor=query.cursor)
    return responses.page([responses.user(item) for item in items], cursor)


@route("/admin/users/{user_id}", methods=["GET"], requirement=HUMAN_ADMIN)
def get_user(user_id: str) -> dict[str, Any]:
    """One user."""
    return responses.user(users.get_user(get_store(), user_id))


@route("/admin/users/{user_id}", methods=["PATCH"], requirement=HUMAN_ADMIN)
def update_user(user_id: str) -> dict[str, Any]:
    """Activate, deactivate, promote or demote a user; never the last active admin away."""
    from chalicelib.api.requests import UpdateUserRequest

    request = body(UpdateUserRequest)
    caller = current_caller()
    updated = users.update_user(
        get_store(), user_id, status=request.status, role=request.role, actor_id=caller.user_id,
        via_token_id=caller.token_id, now=utcnow(),
    )
    return responses.user(updated)


@route("/admin/users/{user_id}/pats", methods=["GET"], requirement=HUMAN_ADMIN)
def list_user_pats(user_id: str) -> dict[str, Any]:
    """Anyone's PATs, newest first, without their values."""
    query = page_query()
    policy, now = current_caller().token_policy, utcnow()
    owner = users.get_user(get_store(), user_id)
    items, cursor = pats.list_pats(get_store(), owner, limit=query.limit, cursor=query.cursor, now=now)
    return responses.page([responses.listed_pat(item, pats.why_blocked(item, policy, now)) for item in items],
                          cursor)


@route("/admin/users/{user_id}/pats/{token_id}", methods=["DELETE"], requirement=HUMAN_ADMIN)
def delete_user_pat(user_id: str, token_id: str) -> Response:
    """Revoke anyone's PAT."""
    caller = current_caller()
    revocation.delete_token(get_store(), TokenKind.PAT, user_id, token_id, now=utcnow(), actor_id=caller.user_id,
                            via_token_id=caller.token_id)
    return no_content()


@route("/admin/users/{user_id}/pats/revoke-all", methods=["POST"], requirement=HUMAN_ADMIN)
def revoke_all_user_tokens(user_id: str) -> Response:
    """Revoke every PAT and run token of a user issued up to now."""
    caller = current_caller()
    users.revoke_all_tokens(get_store(), user_id, now=utcnow(), actor_id=caller.user_id, via_token_id=caller.token_id)
    return no_content()


@route("/admin/users/{user_id}/agent-run-tokens", methods=["GET"], requirement=HUMAN_ADMIN)
def list_user_run_tokens(user_id: str) -> dict[str, Any]:
    """Anyone's live agent run tokens, newest first, without their values."""
    query = page_query()
    owner = users.get_user(get_store(), user_id)
    items, cursor = run_tokens.list_run_tokens(
        get_store(), owner, limit=query.limit, cursor=query.cursor, now=utcnow()
    )
    return responses.page([responses.listed_run_token(item) for item in items], cursor)


@route("/admin/users/{user_id}/agent-run-tokens/{run_id}", methods=["DELETE"], requirement=HUMAN_ADMIN)
def delete_user_run_token(user_id: str, run_id: str) -> Response:
    """Revoke anyone's agent run token."""
    caller = current_caller()
    revocation.delete_token(get_store(), TokenKind.AGENT_RUN, user_id, run_id, now=utcnow(), actor_id=caller.user_id,
                            via_token_id=caller.token_id)
    return no_content()


@route("/admin/settings/token-policy", methods=["GET"], requirement=HUMAN_ADMIN)
def get_token_policy() -> dict[str, Any]:
    """The instance's token policy (the defaults until an admin sets one)."""
    return responses.token_policy(get_store().policy.get())


@route("/admin/settings/token-policy", methods=["PUT"], requirement=HUMAN_ADMIN)
def put_token_policy() -> dict[str, Any]:
    """Replace the token policy; 409 if it would block the token making the change."""
    from chalicelib.api.requests import TokenPolicyRequest

    request = body(TokenPolicyRequest)
    policy = token_policy.set_policy(get_store(), current_caller(), request.policy(), utcnow())
    return responses.token_policy(policy)


@route("/admin/settings/token-policy/impact", methods=["GET"], requirement=HUMAN_ADMIN)
def preview_token_policy() -> dict[str, Any]:
    """What a proposed policy would block, before it is saved."""
    from chalicelib.api.requests import ImpactQuery

    proposed = query(ImpactQuery).policy()
    return responses.policy_impact(token_policy.impact(get_store(), proposed, utcnow(), current_caller()))


@route("/admin/users/{user_id}/access-links", methods=["POST"], requirement=HUMAN_ADMIN)
def create_access_link(user_id: str) -> Response:
    """A single-use link that gives an active user a new PAT (claimed like an invite)."""
    from chalicelib.api.requests import CreateAccessLinkRequest

    request = body(CreateAccessLinkRequest, optional=True)
    caller = current_caller()
    issued = invites.create_access_link(
        get_store(), user_id, expires_at=request.expires_at, maker=caller.maker, app_url=settings().app_url,
        now=utcnow(),
    )
    return created(responses.created_access_link(issued))


@app.schedule(Rate(1, unit=Rate.HOURS))
def sweep_revoked_tokens(event: CloudWatchEvent) -> None:
    """Delete the items of tokens that revoke-all, deactivation or demotion revoked (off the
    request path: revoking costs two item writes, whatever the number of tokens)."""
    revocation.sweep_revoked_tokens(get_store())
