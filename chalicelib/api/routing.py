"""Routing: routers record routes, and app.py replays them onto the one app and its authorizer.

A router is a recorder, not a Chalice Blueprint: it keeps ``(path, methods, view)``, and
:func:`include` binds each with what the route map says it needs (``app.route(...,
authorizer=...)`` unless it is public; a route the map lacks is never bound), so the Lambda handler,
the ``.chalice`` keys and the IAM policies stay those of the one app (a Blueprint's authorizer
would change the handler's path). Powertools' ``Router``/``include_router`` is the model.

Views reach the request, its caller, the store, the clock and the settings through this module,
and the storage errors no use case handled get their answer here, in one place.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from chalice.app import Chalice, ChaliceAuthorizer, Request, Response

from chalicelib import audit
from chalicelib.api import responses
from chalicelib.errors import Conflict, InvalidToken, ServiceUnavailable
from chalicelib.model import route_map
from chalicelib.model.caller import Caller
from chalicelib.services import authentication
from chalicelib.settings import Settings
from chalicelib.storage import Store
from chalicelib.storage.errors import CreatorRevoked, StoreConflict, Unavailable

if TYPE_CHECKING:  # at run time, only the views that take a body import pydantic
    from pydantic import BaseModel

    from chalicelib.api.requests import PageQuery
Model = TypeVar("Model", bound="BaseModel")
Record = TypeVar("Record")
View = Callable[..., Any]
# (path, method) -> what a protected route needs of a token (the route map's entry).
Needs = dict[tuple[str, str], route_map.Need]
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# The request being served. Not `app.current_request`: that is one attribute of the shared app,
# and `chalice local` serves requests on concurrent threads, so a view could read another
# request's caller. Each thread (and each Lambda invocation) sees only its own value here.
_request: ContextVar[Request] = ContextVar("request")


@dataclass(frozen=True)
class RouteRecord:
    """One route as a router recorded it."""

    path: str
    methods: tuple[str, ...]
    view: View
    content_types: tuple[str, ...] = (JSON,)


class Router:
    """Records routes; what each needs of a token is the route map's to say."""

    def __init__(self) -> None:
        self.routes: list[RouteRecord] = []

    def route(self, path: str, *, methods: list[str], content_types: tuple[str, ...] = (JSON,)
              ) -> Callable[[View], View]:
        def record(view: View) -> View:
            self.routes.append(RouteRecord(path, tuple(methods), view, content_types))
            return view
        return record


class NotInRouteMap(LookupError):
    """A router recorded a route the route map does not have: it would be refused at the gateway."""


@dataclass(frozen=True)
class Providers:
    """What views need from the composition root, which decides how each is made."""

    store: Callable[[], Store]
    clock: Callable[[], datetime]
    settings: Callable[[], Settings]


class _Bound:
    """The providers ``include`` bound (one app per process)."""

    providers: Providers


_bound = _Bound()


def include(app: Chalice, routers: Iterable[Router], *, authorizer: ChaliceAuthorizer,
            providers: Providers) -> Needs:
    """Bind every recorded route onto ``app``, behind ``authorizer`` unless the route map says it is
    public, and the providers the views use; what each protected route needs, for the access
    middleware (a view of the route map)."""
    needs_by_route: Needs = {}
    for router in routers:
        for record in router.routes:
            needs = [route_map.entry(method, record.path) for method in record.methods]
            found = needs[0]
            if found is None or any(other != found for other in needs):
                raise NotInRouteMap(f"{'/'.join(record.methods)} {record.path}: give it one entry in "
                                    "chalicelib/model/route_map.py")
            if not found.is_public:
                needs_by_route.update({(record.path, method): found for method in record.methods})
            app.route(record.path, methods=list(record.methods), content_types=list(record.content_types),
                      authorizer=None if found.is_public else authorizer)(_answering(record.view))
    _bound.providers = providers
    return needs_by_route


def begin(request: Request) -> None:
    """Make ``request`` the one this thread serves (the access middleware calls it first)."""
    _request.set(request)


def store() -> Store:
    return _bound.providers.store()


def now() -> datetime:
    return _bound.providers.clock()


def settings() -> Settings:
    return _bound.providers.settings()


def current_caller() -> Caller:
    """The caller the authorizer allowed for this request."""
    return authentication.caller_from_verdict(_request.get().context.get("authorizer"))


def source_address() -> str | None:
    """The address API Gateway served this request from (its request context: never a header the
    client wrote), or None when it does not say."""
    identity = (_request.get().context or {}).get("identity") or {}
    return identity.get("sourceIp") or None


def body(model: type[Model], optional: bool = False) -> Model:
    """The request body validated against ``model`` (400 with a clear message otherwise); an
    ``optional`` body may be left out, which means ``{}``."""
    from chalicelib.api.requests import parse_body

    raw = _request.get().raw_body
    return parse_body(model, b"{}" if optional and not raw else raw)


def form_or_json_body(model: type[Model]) -> Model:
    """The request body, a form or JSON as its Content-Type says, validated against ``model``."""
    from chalicelib.api.requests import parse_body, parse_form

    request = _request.get()
    content_type = (request.headers.get("content-type") or "").partition(";")[0].strip().lower()
    return (parse_form if content_type == FORM else parse_body)(model, request.raw_body)


def query(model: type[Model]) -> Model:
    """The query string validated against ``model`` (400 with a clear message otherwise)."""
    from chalicelib.api.requests import parse_query

    return parse_query(model, _request.get().query_params)


def page_query() -> PageQuery:
    """The validated ``limit`` and ``cursor`` of a list request."""
    from chalicelib.api.requests import PageQuery

    return query(PageQuery)


def listing(fetch: Callable[[int, str | None], tuple[list[Record], str | None]],
            shape: Callable[[Record], dict[str, Any]]) -> dict[str, Any]:
    """A page of a list: ``fetch(limit, cursor)`` from the query string, each item shaped."""
    page = page_query()
    items, next_cursor = fetch(page.limit, page.cursor)
    return responses.page([shape(item) for item in items], next_cursor)


def created(payload: dict[str, Any]) -> Response:
    """201 with the new resource."""
    return Response(body=payload, status_code=201)


def no_content() -> Response:
    """204, a fresh response each time (the middleware adds headers to it)."""
    return Response(body="", status_code=204)


def _answering(view: View) -> View:
    """``view``, with the storage errors no use case handled answered as the API's errors: a
    DynamoDB failure is 503, an item changed meanwhile 409, and a calling token revoked while its
    request ran 401 (audited: nothing was written)."""
    @functools.wraps(view)
    def answer(**parameters: Any) -> Any:
        try:
            return view(**parameters)
        except Unavailable as unavailable:
            raise ServiceUnavailable() from unavailable
        except CreatorRevoked as revoked:
            request, caller = _request.get(), current_caller()
            audit.record("access.denied", audit.DENIED, caller.user_id, tokenId=caller.token_id,
                         route=f"{request.method} {request.context.get('resourcePath')}", reason=revoked.reason)
            raise InvalidToken(revoked.reason, "This token was revoked while the request ran; nothing was changed.") \
                from revoked
        except StoreConflict as conflict:
            raise Conflict() from conflict
    return answer
