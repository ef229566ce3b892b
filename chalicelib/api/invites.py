"""Invites and re-access links: sent by admins, claimed without a bearer token."""
from __future__ import annotations

from typing import Any

from chalice.app import Response

from chalicelib.api import responses
from chalicelib.api.routing import Router, body, created, current_caller, listing, no_content, now, settings, store
from chalicelib.services import invites, users

router = Router()


@router.route("/auth/invites/claim", methods=["POST"])
def claim_invite() -> Response:
    """Activate an invited account; answers with the user and their first PAT."""
    from chalicelib.api.requests import ClaimInviteRequest

    request = body(ClaimInviteRequest)
    user, first_token = invites.claim_invite(store(), request.token, now=now())
    return created(responses.claimed_invite(user, first_token))


@router.route("/admin/invites", methods=["POST"])
def create_invite() -> Response:
    """Invite an email; the invite token and link are in this response and never again."""
    from chalicelib.api.requests import CreateInviteRequest

    request = body(CreateInviteRequest)
    issued = invites.create_invite(store(), email=request.email, role=request.role, expires_at=request.expires_at,
                                   maker=current_caller().maker, app_url=settings().app_url, now=now())
    return created(responses.created_invite(issued))


@router.route("/admin/invites", methods=["GET"])
def list_invites() -> dict[str, Any]:
    """Pending invites, newest first, without their tokens."""
    moment = now()
    return listing(lambda limit, cursor: invites.list_invites(store(), limit=limit, cursor=cursor, now=moment),
                   responses.listed_invite)


@router.route("/admin/invites/{invite_id}", methods=["DELETE"])
def revoke_invite(invite_id: str) -> Response:
    """Revoke a pending invite; claiming it then answers 410."""
    caller = current_caller()
    invites.revoke_invite(store(), invite_id, now=now(), actor_id=caller.user_id, via_token_id=caller.token_id)
    return no_content()


@router.route("/admin/users/{user_id}/access-links", methods=["POST"])
def create_access_link(user_id: str) -> Response:
    """A single-use link that gives an active user a new PAT (claimed like an invite)."""
    from chalicelib.api.requests import CreateAccessLinkRequest

    request = body(CreateAccessLinkRequest, optional=True)
    issued = invites.create_access_link(store(), users.get_user(store(), user_id), expires_at=request.expires_at,
                                        maker=current_caller().maker, app_url=settings().app_url, now=now())
    return created(responses.created_access_link(issued))
