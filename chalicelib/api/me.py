"""The caller: who they are, the token in use, and their security log."""
from __future__ import annotations

from typing import Any

from chalicelib.api import responses
from chalicelib.api.routing import Router, current_caller, listing, now, store
from chalicelib.services import pats, security_log

router = Router()


@router.route("/me", methods=["GET"])
def get_me() -> dict[str, Any]:
    """The caller and the token in use (what `oi auth check` shows)."""
    caller = current_caller()
    return responses.me(caller, pats.creation_limits(caller, now()))


@router.route("/me/security-events", methods=["GET"])
def list_my_security_events() -> dict[str, Any]:
    """What happened to the caller's tokens in the last 90 days, newest first."""
    user_id, moment = current_caller().user_id, now()
    return listing(lambda limit, cursor: security_log.list_events(store(), user_id, limit=limit, cursor=cursor,
                                                                  now=moment),
                   responses.security_event)
