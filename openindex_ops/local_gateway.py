"""``make run``'s API Gateway: chalice.local's, answering what the deployed Gateway Responses do.

``chalice local`` answers the requests API Gateway refuses itself in AWS's shape: 403
``Missing Authentication Token`` for an unknown path (echoing the whole ``Authorization``
header, i.e. the bearer token, when there is one) and a bare 401 without ``WWW-Authenticate``.
The deployed API answers them with the Gateway Responses of ``openindex_ops.gateway``; this
gateway renders the same ones, from the same definitions, so local runs cannot drift from them.
"""
from __future__ import annotations

import functools
import os
import socket
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from chalice.app import Chalice
from chalice.cli.factory import CLIFactory
from chalice.config import Config
from chalice.deploy.validate import validate_routes
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    InvalidAuthorizerError,
    LocalChalice,
    LocalGateway,
    LocalGatewayException,
    NotAuthorizedError,
    ThreadedHTTPServer,
)

from openindex_ops.gateway import GATEWAY_ERRORS, response_body, response_headers


class RouteMissing(LocalGatewayException):
    """No route has this path: API Gateway's MISSING_AUTHENTICATION_TOKEN."""

    CODE = 403


# chalice.local's refusals and the Gateway Response type API Gateway answers each with.
RESPONSE_TYPES: dict[type[LocalGatewayException], str] = {
    RouteMissing: "MISSING_AUTHENTICATION_TOKEN",
    NotAuthorizedError: "UNAUTHORIZED",  # no Authorization header on a route with the authorizer
    ForbiddenError: "ACCESS_DENIED",  # the authorizer's policy does not allow the route
    InvalidAuthorizerError: "AUTHORIZER_CONFIGURATION_ERROR",
}


def gateway_response(response_type: str) -> dict[str, Any]:
    """The deployed Gateway Response of ``response_type`` as a chalice.local response."""
    error = GATEWAY_ERRORS[response_type][0]  # each type above replaces API Gateway's status with its own
    return {
        "statusCode": error.status,
        "headers": {**response_headers(error), "Content-Type": "application/json"},
        "multiValueHeaders": {},
        "body": response_body(error),
    }


class GatewayWithResponses(LocalGateway):
    """chalice.local's gateway, with its own refusals replaced by the deployed Gateway Responses."""

    def handle_request(self, method: str, path: str, headers: dict[str, Any], body: bytes | None) -> Any:
        try:
            return super().handle_request(method, path, headers, body)
        except LocalGatewayException as refusal:
            return gateway_response(RESPONSE_TYPES[type(refusal)])

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


class GatewayRequestHandler(ChaliceRequestHandler):
    """chalice.local's HTTP handler, serving through :class:`GatewayWithResponses`."""

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Chalice, config: Config) -> None:
        self.local_gateway = GatewayWithResponses(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)


class ListenerServer(ThreadedHTTPServer):
    """chalice.local's threaded server on a socket that is already listening (bound by the
    parent process, so restarting the server never races another process for the port)."""

    def __init__(self, listener: socket.socket, handler: Any) -> None:
        super().__init__(listener.getsockname()[:2], handler, bind_and_activate=False)
        self.socket.close()  # type: ignore[has-type]  # chalice.local is untyped here
        self.socket = listener


def create_server(project_dir: Path, stage: str, listener: socket.socket) -> ListenerServer:
    """The app of ``project_dir`` with ``stage``'s config, as ``chalice local`` loads it."""
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
    return ListenerServer(listener, functools.partial(GatewayRequestHandler, app_object=app, config=config))
