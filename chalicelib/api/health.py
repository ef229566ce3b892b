"""Liveness: the one route that touches nothing."""
from __future__ import annotations

from chalicelib.api.routing import Router

router = Router()


@router.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    """Liveness for load balancers and monitors; touches nothing and needs no token."""
    return {"status": "ok"}
