"""Every error the API answers with: one class per error code, carrying its status and headers.

They subclass Chalice's ``ChaliceUnhandledError`` on purpose: Chalice turns any other exception
raised in a view into a bare 500 before middleware sees it, while this one reaches the single
error middleware in ``app.py``, which renders every error as ``{"error": {"code", "message"}}``.
Messages never carry a secret.
"""
from __future__ import annotations

from chalice.app import ChaliceUnhandledError

REALM = 'Bearer realm="openindex"'


class ServiceError(ChaliceUnhandledError):
    """An error the API answers with a JSON body."""

    status = 500
    code = "internal_error"
    default_message = "An internal error occurred."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        """Extra response headers for this error."""
        return {}


class InvalidRequest(ServiceError):
    """The request body, query or path is malformed or breaks a rule."""

    status = 400
    code = "invalid_request"


class ExpiryExceedsToken(InvalidRequest):
    """A token asked for a token that would outlive it."""

    code = "expiry_exceeds_token"


class PolicyViolation(InvalidRequest):
    """A new token would break the instance's token policy."""

    code = "policy_violation"


class InvalidToken(ServiceError):
    """Missing, malformed, unknown, revoked or expired token, or an inactive user.

    A token nobody holds gets the one generic message; ``reason`` is for logs. Once the caller
    has shown the real token (its digest matched), the message may say why it is refused
    (expired on a date, account deactivated): that tells its holder nothing they could not know.
    """

    status = 401
    code = "invalid_token"
    default_message = (
        "The access token is missing, invalid, expired or revoked. "
        "Check it with `oi auth check` or `oi profile show`."
    )

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason

    @property
    def tells_why(self) -> bool:
        """Whether the message says why (the caller showed the real token), not the generic one."""
        return self.message != self.default_message

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
        # No scope="…": a gateway's 403 cannot carry one (its header values are static), and every
        # 403 says it the same way, in the body's requiredScope.
        return {"WWW-Authenticate": f'{REALM}, error="insufficient_scope"'}


class NotNarrower(InsufficientScope):
    """A narrowing asked for more than the token has: a permission, or a later expiry."""

    code = "not_narrower"


class RouteNotInMap(InsufficientScope):
    """The route is not in the OpenIndex route map: no token may call it (never allowed by default)."""

    code = "route_not_in_map"

    def __init__(self) -> None:
        super().__init__("This route is not in the OpenIndex route map, or its path is not written plainly "
                         "(no percent-encoding, no empty, . or .. segment) or is too long: no token may call it.",
                         required_scope="")


class NotFound(ServiceError):
    """No such resource for this caller (also when it exists but belongs to someone else)."""

    status = 404
    code = "not_found"


class RouteNotFound(NotFound):
    """No route has this path (API Gateway's MISSING_AUTHENTICATION_TOKEN, answered as a 404)."""

    code = "route_not_found"
    default_message = "No such route: check the method and the path."


class InviteNotFound(ServiceError):
    status = 404
    code = "invite_not_found"
    default_message = "No invite matches this token."


class Conflict(ServiceError):
    """Someone changed the same item while this request ran; retrying may succeed."""

    status = 409
    code = "conflict"
    default_message = "The item changed while this request ran; retry it."


class AlreadyRotated(ServiceError):
    """The token was already rotated: rotate its successor instead."""

    status = 409
    code = "already_rotated"


class PolicyBlocksCaller(ServiceError):
    """The new token policy would block the very token that asks for it."""

    status = 409
    code = "policy_blocks_caller"


class AccountExists(ServiceError):
    status = 409
    code = "account_exists"
    default_message = "An account with this email already exists."


class LastAdmin(ServiceError):
    status = 409
    code = "last_admin"
    default_message = "This is the last active admin; make another user admin first."


class InviteAlreadyClaimed(ServiceError):
    status = 409
    code = "invite_already_claimed"
    default_message = "This invite has already been claimed."


class UserInactive(ServiceError):
    status = 409
    code = "user_inactive"
    default_message = "This user is deactivated; reactivate them first."


class AccessLinkUserInactive(ServiceError):
    status = 410
    code = "user_inactive"
    default_message = "This link's account was deactivated since it was sent; ask an admin for a new one."


class InviteRevoked(ServiceError):
    status = 410
    code = "invite_revoked"
    default_message = "This invite was revoked; ask an admin for a new one."


class InviteExpired(ServiceError):
    status = 410
    code = "invite_expired"
    default_message = "This invite has expired; ask an admin for a new one."


class TooManyRequests(ServiceError):
    """The stage's or the route's rate limit was exceeded."""

    status = 429
    code = "too_many_requests"
    default_message = "Too many requests; slow down and retry after a second."

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class ServiceUnavailable(ServiceError):
    """DynamoDB throttled, timed out or failed; the request was not carried out."""

    status = 503
    code = "service_unavailable"
    default_message = "The service is briefly unavailable; retry the request."

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}
