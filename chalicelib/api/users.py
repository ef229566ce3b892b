"""Users, as admins manage them."""
from __future__ import annotations

from typing import Any

from chalicelib.api import responses
from chalicelib.api.routing import Router, body, current_caller, listing, now, store
from chalicelib.services import users

router = Router()


@router.route("/admin/users", methods=["GET"])
def list_users() -> dict[str, Any]:
    """All users, newest first."""
    return listing(lambda limit, cursor: users.list_users(store(), limit=limit, cursor=cursor), responses.user)


@router.route("/admin/users/{user_id}", methods=["GET"])
def get_user(user_id: str) -> dict[str, Any]:
    """One user."""
    return responses.user(users.get_user(store(), user_id))


@router.route("/admin/users/{user_id}", methods=["PATCH"])
def update_user(user_id: str) -> dict[str, Any]:
    """Activate, deactivate, promote or demote a user; never the last active admin away."""
    from chalicelib.api.requests import UpdateUserRequest

    request = body(UpdateUserRequest)
    caller = current_caller()
    return responses.user(users.update_user(store(), user_id, status=request.status, role=request.role,
                                            actor_id=caller.user_id, via_token_id=caller.token_id, now=now()))
