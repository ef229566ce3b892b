"""Personal access tokens: a person's own, and (for admins) anyone's; rotation and revoke-all."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Response

from chalicelib.api import responses
from chalicelib.api.routing import Router, body, created, current_caller, listing, no_content, now, store
from chalicelib.model.accounts import User
from chalicelib.model.kinds import TokenKind
from chalicelib.services import narrowing, pats, revocation, rotation, users

router = Router()


@router.route("/me/pats", methods=["POST"])
def create_pat() -> Response:
    """Create a PAT; its value is in this response and never again."""
    from chalicelib.api.requests import CreatePatRequest

    request = body(CreatePatRequest)
    issued = pats.create_pat(store(), current_caller(), name=request.name, scope=request.scope,
                             expires_at=request.expires_at, now=now(), permissions=request.grant(),
                             allowed_ips=request.addresses())
    return created(responses.created_pat(issued))


@router.route("/me/pats", methods=["GET"])
def list_pats() -> dict[str, Any]:
    """The caller's PATs, newest first, without their values."""
    owner = current_caller().owner
    return _list_pats(lambda: owner)


@router.route("/me/pats/{token_id}", methods=["DELETE"])
def delete_pat(token_id: str) -> Response:
    """Revoke one of the caller's PATs; it is refused from the next request on."""
    return _delete(current_caller().user_id, token_id)


@router.route("/me/pats/{token_id}", methods=["PATCH"])
def narrow_pat(token_id: str) -> dict[str, Any]:
    """Narrow one of the caller's PATs: a smaller grant or an earlier expiry, same value; with
    ``dryRun``, only say what it would be and which of its recorded uses it would have refused."""
    from chalicelib.api.requests import NarrowPatRequest

    request = body(NarrowPatRequest)
    narrowed = narrowing.narrow_pat(store(), current_caller(), token_id, grant=request.grant(),
                                    expires_at=request.expires_at, now=now(), dry_run=request.dry_run)
    token = narrowed.token
    return {**responses.listed_pat(token, pats.why_blocked(token, current_caller().token_policy, now())),
            "refusedUses": narrowed.refused_uses}


@router.route("/me/pats/{token_id}/rotate", methods=["POST"])
def rotate_pat(token_id: str) -> Response:
    """Replace a PAT (``self``: this one) with a successor of the same name and scope; the old
    one keeps working for ``graceSeconds``. The new value is in this response and never again."""
    from chalicelib.api.requests import RotatePatRequest

    request = body(RotatePatRequest, optional=True)
    caller = current_caller()
    rotated = rotation.rotate_pat(store(), caller, token_id, expires_at=request.given("expires_at"),
                                  grace_seconds=request.grace_seconds, now=now())
    response = created(responses.created_pat(rotated.successor))
    if rotated.old_id == caller.token_id:  # the calling token now stops at the end of its window
        responses.signal_expiry(response, rotated.old_stops_at)
        responses.signal_rotation(response, rotated.successor.record.id)
    return response


@router.route("/me/pats/revoke-all", methods=["POST"])
def revoke_all_my_tokens() -> Response:
    """Revoke every PAT and run token of the caller issued up to now, this one included."""
    return _revoke_all(current_caller().user_id)


@router.route("/admin/users/{user_id}/pats", methods=["GET"])
def list_user_pats(user_id: str) -> dict[str, Any]:
    """Anyone's PATs, newest first, without their values."""
    return _list_pats(lambda: users.get_user(store(), user_id))


@router.route("/admin/users/{user_id}/pats/{token_id}", methods=["DELETE"])
def delete_user_pat(user_id: str, token_id: str) -> Response:
    """Revoke anyone's PAT."""
    return _delete(user_id, token_id)


@router.route("/admin/users/{user_id}/pats/revoke-all", methods=["POST"])
def revoke_all_user_tokens(user_id: str) -> Response:
    """Revoke every PAT and run token of a user issued up to now."""
    return _revoke_all(user_id)


def _list_pats(owner: Callable[[], User]) -> dict[str, Any]:
    """A page of ``owner``'s PATs; the owner is looked up once the query string is valid."""
    policy, moment = current_caller().token_policy, now()
    return listing(lambda limit, cursor: pats.list_pats(store(), owner(), limit=limit, cursor=cursor, now=moment),
                   lambda token: responses.listed_pat(token, pats.why_blocked(token, policy, moment)))


def _delete(owner_id: str, token_id: str) -> Response:
    caller = current_caller()
    revocation.delete_token(store(), TokenKind.PAT, owner_id, token_id, now=now(), actor_id=caller.user_id,
                            via_token_id=caller.token_id)
    return no_content()


def _revoke_all(user_id: str) -> Response:
    caller = current_caller()
    revocation.revoke_all_tokens(store(), user_id, now=now(), actor_id=caller.user_id, via_token_id=caller.token_id)
    return no_content()
