"""Workflow agent run tokens: minted from a person's PAT, listed and revoked like PATs."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Response

from chalicelib.api import responses
from chalicelib.api.routing import Router, body, created, current_caller, listing, no_content, now, store
from chalicelib.model.accounts import User
from chalicelib.model.kinds import TokenKind
from chalicelib.services import revocation, run_tokens, users

router = Router()


@router.route("/workflows/agent-run-tokens", methods=["POST"])
def create_agent_run_token() -> Response:
    """Mint a short-lived read_write token for one workflow agent run."""
    from chalicelib.api.requests import CreateRunTokenRequest

    request = body(CreateRunTokenRequest)
    issued = run_tokens.mint_run_token(store(), current_caller(), agent_id=request.agent_id, stage=request.stage,
                                       lifetime_seconds=request.given("expires_in_seconds"), now=now(),
                                       permissions=request.grant())
    return created(responses.created_run_token(issued))


@router.route("/me/agent-run-tokens", methods=["GET"])
def list_my_run_tokens() -> dict[str, Any]:
    """The caller's live agent run tokens, newest first, without their values."""
    owner = current_caller().owner
    return _list_run_tokens(lambda: owner)


@router.route("/me/agent-run-tokens/{run_id}", methods=["DELETE"])
def delete_my_run_token(run_id: str) -> Response:
    """Revoke one of the caller's agent run tokens; refused from the next request on."""
    return _delete(current_caller().user_id, run_id)


@router.route("/admin/users/{user_id}/agent-run-tokens", methods=["GET"])
def list_user_run_tokens(user_id: str) -> dict[str, Any]:
    """Anyone's live agent run tokens, newest first, without their values."""
    return _list_run_tokens(lambda: users.get_user(store(), user_id))


@router.route("/admin/users/{user_id}/agent-run-tokens/{run_id}", methods=["DELETE"])
def delete_user_run_token(user_id: str, run_id: str) -> Response:
    """Revoke anyone's agent run token."""
    return _delete(user_id, run_id)


def _list_run_tokens(owner: Callable[[], User]) -> dict[str, Any]:
    """A page of ``owner``'s run tokens; the owner is looked up once the query string is valid."""
    moment = now()
    return listing(lambda limit, cursor: run_tokens.list_run_tokens(store(), owner(), limit=limit, cursor=cursor,
                                                                    now=moment),
                   responses.listed_run_token)


def _delete(owner_id: str, run_id: str) -> Response:
    caller = current_caller()
    revocation.delete_token(store(), TokenKind.AGENT_RUN, owner_id, run_id, now=now(), actor_id=caller.user_id,
                            via_token_id=caller.token_id)
    return no_content()
