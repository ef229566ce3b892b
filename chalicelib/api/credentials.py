"""Credentials without a bearer token: reporting leaked ones, and checking one's own."""
from __future__ import annotations

from typing import Any

from chalice.app import Response

from chalicelib.api import responses
from chalicelib.api.routing import Router, body, now, source_address, store
from chalicelib.services import authentication, leaks

router = Router()


@router.route("/credentials/revoke", methods=["POST"])
def revoke_leaked_credentials() -> Response:
    """Revoke leaked PATs, run tokens and invites, reported by anyone: 202 whatever was found,
    so the answer never tells whether a token is live."""
    from chalicelib.api.requests import RevokeCredentialsRequest

    request = body(RevokeCredentialsRequest)
    leaks.revoke_leaked(store(), request.credentials, source=request.source, now=now())
    return Response(body={}, status_code=202)


@router.route("/auth/token-check", methods=["POST"])
def check_token() -> dict[str, Any]:
    """Whether a token works, and why not to its holder: the way to learn it when a gateway's 401
    cannot say (the token travels in the body, so no authorizer runs)."""
    from chalicelib.api.requests import TokenCheckRequest

    return responses.token_check(authentication.check(store(), body(TokenCheckRequest).token, now(),
                                                      source_address()))
