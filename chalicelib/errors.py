"""Domain errors, each carrying the HTTP status and error code it is answered with.

They subclass Chalice's ``ChaliceUnhandledError`` on purpose: Chalice turns any other exception
raised in a view into a bare 500 before middleware sees it, while this one reaches the single
error middleware in ``app.py``, which renders every error as ``{"error": {"code", "message"}}``.
"""
from __future__ import annotations

from chalice import ChaliceUnhandledError

REALM = 'Bearer realm="openindex"'


class ServiceError(ChaliceUnhandledError):
    """An error the API answers with a JSON body; never carries a secret in its message."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def headers(self) -> dict[str, str]:
        """Extra response headers for this error."""
        return {}


class InvalidRequest(ServiceError):
    """The request body, query or path is malformed or breaks a rule."""

    status = 400
    code = "invalid_request"


class InvalidToken(ServiceError):
    """Missing, malformed, unknown, revoked or expired token, or an inactive user.

    A token nobody holds gets the one generic message; ``reason`` is for logs. Once the caller
    has shown the real token (its digest matched), the message may say why it is refused
    (expired on a date, account deactivated): that tells its holder nothing they could not know.
    """

    status = 401
    code = "invalid_token"
    MESSAGE = (
        "The access token is missing, invalid, expired or revoked. "
        "Check it with `oi auth check` or `oi profile show`."
    )

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or self.MESSAGE)
        self.reason = reason

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'{REALM}, error="invalid_token"'}


class InsufficientScope(ServiceError):
    """The token is valid but its scope or kind does not allow this operation."""

    status = 403
    code = "insufficient_scope"

    def __init__(self, message: str, required_scope: str) -> None:
        super().__init__(message)
        self.required_scope = required_scope

    def headers(self) -> dict[str, str]:
        return {
            "WWW-Authenticate": (
                f'{REALM}, error="insufficient_scope", scope="{self.required_scope}"'
            )
        }


class NotFound(ServiceError):
    """No such resource for this caller (also when it exists but belongs to someone else)."""

    status = 404
    code = "not_found"


class Conflict(ServiceError):
    """The request conflicts with the current state (an email already taken, the last admin)."""

    status = 409
    code = "conflict"


class Gone(ServiceError):
    """The resource existed but can no longer be used (an expired or revoked invite)."""

    status = 410
    code = "gone"


class RouteNotFound(ServiceError):
    """No route has this path (API Gateway's MISSING_AUTHENTICATION_TOKEN, answered as a 404)."""

    status = 404
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("No such route: check the method and the path.")


class TooManyRequests(ServiceError):
    """The stage's or the route's rate limit was exceeded."""

    status = 429
    code = "too_many_requests"

    def __init__(self) -> None:
        super().__init__("Too many requests; slow down and retry after a second.")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class StorageUnavailable(ServiceError):
    """DynamoDB throttled, timed out or failed; the request was not carried out."""

    status = 503
    code = "service_unavailable"

    def __init__(self) -> None:
        super().__init__("The service is briefly unavailable; retry the request.")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}
