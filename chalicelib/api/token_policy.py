"""The instance's token policy, as admins read, preview and replace it."""
from __future__ import annotations

from typing import Any

from chalicelib.api import responses
from chalicelib.api.routing import Router, body, current_caller, now, query, store
from chalicelib.services import token_policy

router = Router()


@router.route("/admin/settings/token-policy", methods=["GET"])
def get_token_policy() -> dict[str, Any]:
    """The instance's token policy (the defaults until an admin sets one)."""
    return responses.token_policy(token_policy.get_policy(store()))


@router.route("/admin/settings/token-policy", methods=["PUT"])
def put_token_policy() -> dict[str, Any]:
    """Replace the token policy; 409 if it would block the token making the change."""
    from chalicelib.api.requests import TokenPolicyRequest

    policy = body(TokenPolicyRequest).policy()
    return responses.token_policy(token_policy.set_policy(store(), current_caller(), policy, now()))


@router.route("/admin/settings/token-policy/impact", methods=["GET"])
def preview_token_policy() -> dict[str, Any]:
    """What a proposed policy would block, before it is saved."""
    from chalicelib.api.requests import ImpactQuery

    proposed = query(ImpactQuery).policy()
    return responses.policy_impact(token_policy.impact(store(), proposed, now(), current_caller()))
