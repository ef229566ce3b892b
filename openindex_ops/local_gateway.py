"""``make run``'s API Gateway: chalice.local's, answering what the deployed Gateway Responses do.

``chalice local`` answers the requests API Gateway refuses itself in AWS's shape: 403
``Missing Authentication Token`` for an unknown path (echoing the whole ``Authorization``
header, i.e. the bearer token, when there is one) and a bare 401 without ``WWW-Authenticate``.
The deployed API answers them with the Gateway Responses of ``openindex_ops.gateway``; this
gateway renders the same ones, from the same definitions, so local runs cannot drift from them.
In front of it, as AWS WAF is in front of the deployed API, the per-client limits of the public
operations (:class:`ClientLimiter`), answering what the deployed WebACL answers.
"""
from __future__ import annotations

import functools
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from chalice.app import Chalice, ChaliceAuthorizer, CustomAuthorizer
from chalice.cli.factory import CLIFactory
from chalice.config import Config
from chalice.deploy.validate import validate_routes
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    InvalidAuthorizerError,
    LambdaContext,
    LocalChalice,
    LocalGateway,
    LocalGatewayAuthorizer,
    LocalGatewayException,
    NotAuthorizedError,
    ThreadedHTTPServer,
)

from chalicelib.api.authorizer import MAX_RESOURCE, UNAUTHORIZED
from openindex_ops import example_service
from openindex_ops.gateway import (
    CLIENT_LIMIT,
    CLIENT_LIMITED,
    GATEWAY_ERRORS,
    HTML_TEMPLATES,
    client_limit_headers,
    counts_against,
    json_template,
    public_actions,
    render,
    response_body,
    response_headers,
)


class RouteMissing(LocalGatewayException):
    """No route has this path: API Gateway's MISSING_AUTHENTICATION_TOKEN."""

    CODE = 403


class Denied(ForbiddenError):
    """The authorizer's policy does not allow the route: API Gateway's ACCESS_DENIED, whose
    template the authorizer's context fills in."""

    def __init__(self, authorizer_context: dict[str, str]) -> None:
        super().__init__({}, b"")
        self.authorizer_context = authorizer_context


class RequestAuthorizer(LocalGatewayAuthorizer):
    """API Gateway's REQUEST authorizer, as the deployed API runs it: a request without an
    ``Authorization`` header is refused without calling it (the header is its identity source);
    it is handed the whole request with the method ARN; raising ``Unauthorized`` answers 401,
    raising anything else the configuration error, and a policy that does not allow the method
    ARN answers 403 with the authorizer's context. A route of another app that attaches an
    authorizer by ARN (a ``CustomAuthorizer``) runs ``attached``, as the deployed API runs the
    exported one; with none attached it fails closed."""

    def __init__(self, app_object: Chalice, attached: ChaliceAuthorizer | None = None) -> None:
        super().__init__(app_object)
        self._attached = attached

    def authorize(self, raw_path: str, lambda_event: Any, lambda_context: LambdaContext) -> Any:
        route = self._route_for_event(lambda_event)
        authorizer: Any = route.authorizer if route is not None else None
        if isinstance(authorizer, CustomAuthorizer) and self._attached is not None:
            authorizer = self._attached
        if authorizer is None:
            return lambda_event, lambda_context
        if not isinstance(authorizer, ChaliceAuthorizer):
            raise InvalidAuthorizerError({}, b"")
        if not any(name.lower() == "authorization" for name in lambda_event.get("headers") or {}):
            raise NotAuthorizedError({}, b"")
        arn = self._arn_builder.build_arn(lambda_event["requestContext"]["httpMethod"], raw_path)
        try:
            answer = authorizer({**lambda_event, "type": "REQUEST", "methodArn": arn}, vars(lambda_context))
        except Exception as failure:  # noqa: BLE001 - API Gateway reads any failure of an authorizer
            if str(failure) == UNAUTHORIZED:
                raise NotAuthorizedError({}, b"") from None
            raise InvalidAuthorizerError({}, b"") from None
        statements = answer["policyDocument"]["Statement"]
        if any(len(resource) > MAX_RESOURCE for statement in statements for resource in statement["Resource"]):
            raise InvalidAuthorizerError({}, b"")  # API Gateway fails a policy it cannot take
        if not self._check_can_invoke_view_function(arn, answer) or any(
                statement.get("Effect") == "Deny" for statement in statements):
            raise Denied(answer.get("context") or {})
        return self._update_lambda_event(lambda_event, answer), lambda_context


# chalice.local's refusals and the Gateway Response type API Gateway answers each with.
RESPONSE_TYPES: dict[type[LocalGatewayException], str] = {
    RouteMissing: "MISSING_AUTHENTICATION_TOKEN",
    NotAuthorizedError: "UNAUTHORIZED",  # no Authorization header, or the authorizer said Unauthorized
    ForbiddenError: "ACCESS_DENIED",  # the authorizer's policy does not allow the route
    Denied: "ACCESS_DENIED",
    InvalidAuthorizerError: "AUTHORIZER_CONFIGURATION_ERROR",
}


def gateway_response(response_type: str, accept: str = "",
                     authorizer_context: dict[str, str] | None = None) -> dict[str, Any]:
    """The deployed Gateway Response of ``response_type`` as a chalice.local response, with its
    HTML template for a request that accepts HTML (a browser), as API Gateway chooses, and the
    authorizer's context filled in."""
    error = GATEWAY_ERRORS[response_type][0]  # each type above replaces API Gateway's status with its own
    html = HTML_TEMPLATES.get(response_type) if "text/html" in accept else None
    return {
        "statusCode": error.status,
        "headers": {**response_headers(error),
                    "Content-Type": "text/html; charset=utf-8" if html else "application/json"},
        "multiValueHeaders": {},
        "body": html or render(json_template(response_type), authorizer_context or {}),
    }


def client_limited_response() -> dict[str, Any]:
    """What the deployed WebACL answers a client over its limit, as a chalice.local response."""
    return {
        "statusCode": CLIENT_LIMITED.status,
        "headers": {**client_limit_headers(), "Content-Type": "application/json"},
        "multiValueHeaders": {},
        "body": response_body(CLIENT_LIMITED),
    }


class ClientLimiter:
    """The deployed WebACL's per-client limits, in memory: for each source address and public
    operation, the times of its requests in the last window (at most one more than the limit).

    A request counts whether or not it is let through, as in WAF: a client that keeps flooding
    stays refused. WAF only estimates the rate and reacts within seconds; this is exact."""

    def __init__(self, actions: list[tuple[str, str]], clock: Callable[[], float] = time.monotonic) -> None:
        self._actions = actions
        self._clock = clock
        self._recent: dict[tuple[str, str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def allows(self, address: str, method: str, path: str) -> bool:
        """Whether this request from ``address`` is within its limit (it counts either way)."""
        action = next((action for action in self._actions if counts_against(method, path, action)), None)
        if action is None:
            return True
        now = self._clock()
        with self._lock:
            recent = self._recent.setdefault((address, *action), deque(maxlen=CLIENT_LIMIT.requests + 1))
            while recent and recent[0] <= now - CLIENT_LIMIT.window_seconds:
                recent.popleft()
            recent.append(now)
            return len(recent) <= CLIENT_LIMIT.requests


class GatewayWithResponses(LocalGateway):
    """chalice.local's gateway, with its own refusals replaced by the deployed Gateway Responses,
    behind the per-client limits when given a ``limiter`` (``client`` is the source address)."""

    def __init__(self, app_object: Chalice, config: Config, limiter: ClientLimiter | None = None,
                 client: str = "127.0.0.1", attached: ChaliceAuthorizer | None = None) -> None:
        super().__init__(app_object, config)
        self._authorizer = RequestAuthorizer(app_object, attached)
        self._limiter = limiter
        self._client = client
        self._mounts: dict[str, GatewayWithResponses] = {}

    def mount(self, prefix: str, gateway: GatewayWithResponses) -> None:
        """Serve the paths under ``prefix`` with another API's ``gateway``, at the same address: the
        other API's routes keep the prefix (its families' paths), nothing is stripped."""
        self._mounts[prefix] = gateway

    def handle_request(self, method: str, path: str, headers: dict[str, Any], body: bytes | None) -> Any:
        bare = path.split("?", 1)[0]
        for prefix, gateway in self._mounts.items():
            if bare == prefix or bare.startswith(prefix + "/"):
                return gateway.handle_request(method, path, headers, body)
        if self._limiter is not None and not self._limiter.allows(self._client, method, path):
            return client_limited_response()  # WAF answers before API Gateway does anything
        try:
            return super().handle_request(method, path, headers, body)
        except LocalGatewayException as refusal:
            accept = next((value for name, value in headers.items() if name.lower() == "accept"), "")
            return gateway_response(RESPONSE_TYPES[type(refusal)], accept, getattr(refusal, "authorizer_context", None))

    def _generate_lambda_event(self, method: str, path: str, headers: dict[str, Any], body: bytes | None) -> Any:
        # chalice.local builds its echoing 403 when route matching raises ValueError; raising
        # our own refusal here, before that, keeps the header out of every answer.
        try:
            event = super()._generate_lambda_event(method, path, headers, body)
        except ValueError:
            raise RouteMissing({}) from None
        # API Gateway records the client's user agent in the request context; chalice.local does not.
        user_agent = next((value for name, value in headers.items() if name.lower() == "user-agent"), None)
        if user_agent is not None:
            event["requestContext"]["identity"]["userAgent"] = user_agent
        return event


def as_deployed(http: Any, app_object: Chalice, attached: ChaliceAuthorizer | None = None) -> Any:
    """A ``chalice.test`` client's HTTP client, answering through this gateway: the authorizer
    run as API Gateway runs it, its refusals the deployed Gateway Responses, as make run answers."""
    http._local_gateway = GatewayWithResponses(app_object, http._config, attached=attached)
    return http


def own_authorizer(app_object: Chalice) -> ChaliceAuthorizer:
    """The one authorizer ``app_object``'s routes run: what it exports for other APIs."""
    authorizers: dict[str, ChaliceAuthorizer] = {}
    for methods in app_object.routes.values():
        for entry in methods.values():
            authorizer: Any = entry.authorizer  # chalice types a ChaliceAuthorizer as no Authorizer
            if isinstance(authorizer, ChaliceAuthorizer):
                authorizers[authorizer.name] = authorizer
    (only,) = authorizers.values()
    return only


class GatewayRequestHandler(ChaliceRequestHandler):
    """chalice.local's HTTP handler, serving this app through :class:`GatewayWithResponses`, and
    the example service under its prefix, behind this app's authorizer."""

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Chalice, config: Config,
                 limiter: ClientLimiter | None = None, example: GatewayWithResponses | None = None) -> None:
        self.local_gateway = GatewayWithResponses(app_object, config, limiter, client_address[0])
        if example is not None:
            self.local_gateway.mount(example_service.PREFIX, example)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)


class ListenerServer(ThreadedHTTPServer):
    """chalice.local's threaded server on a socket that is already listening (bound by the
    parent process, so restarting the server never races another process for the port)."""

    def __init__(self, listener: socket.socket, handler: Any) -> None:
        super().__init__(listener.getsockname()[:2], handler, bind_and_activate=False)
        self.socket.close()  # type: ignore[has-type]  # chalice.local is untyped here
        self.socket = listener


def create_server(project_dir: Path, stage: str, listener: socket.socket, client_limits: bool = True) -> ListenerServer:
    """The app of ``project_dir`` with ``stage``'s config, as ``chalice local`` loads it, behind
    the per-client limits unless ``client_limits`` is false."""
    # os.environ, as `chalice local` passes: the stage's variables (TABLE_NAME) reach the app.
    factory = CLIFactory(str(project_dir), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    served_at = os.environ.get("APP_URL")
    app = config.chalice_app  # loading it applies the stage's variables to os.environ
    if served_at:  # the address this run serves on wins over the stage's default (PORT=…)
        os.environ["APP_URL"] = served_at
    validate_routes(app.routes)  # as `chalice local` does: what `chalice deploy` would refuse
    # As chalice.local.create_local_server: Chalice's current_request becomes per thread.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    limiter = ClientLimiter(public_actions(app)) if client_limits else None
    example = example_service.load_app()
    example.__class__ = CustomLocalChalice
    example_gateway = GatewayWithResponses(example, Config.create(app_name=example.app_name),
                                           attached=own_authorizer(app))
    return ListenerServer(listener, functools.partial(GatewayRequestHandler, app_object=app, config=config,
                                                      limiter=limiter, example=example_gateway))
