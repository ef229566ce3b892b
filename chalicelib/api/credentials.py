"""Leaked credentials, reported by anyone."""
from __future__ import annotations

from chalice.app import Response

from chalicelib.api.routing import Router, body, now, store
from chalicelib.services import leaks

router = Router()


@router.route("/credentials/revoke", methods=["POST"])
def revoke_leaked_credentials() -> Response:
    """Revoke leaked PATs, run tokens and invites, reported by anyone: 202 whatever was found,
    so the answer never tells whether a token is live."""
    from chalicelib.api.requests import RevokeCredentialsRequest

    request = body(RevokeCredentialsRequest)
    leaks.revoke_leaked(store(), request.credentials, source=request.source, now=now())
    return Response(body={}, status_code=202)
