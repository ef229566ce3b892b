"""Every route against every kind of token, as one table.

Kinds: a member's read_write PAT, an admin's read_write PAT, an admin PAT, and an agent run
token (minted from the member's PAT). Success codes assume a valid body; ids that do not exist
give 404 once access is granted.
"""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope

from .conftest import Accounts, Api

KINDS = ("member_rw", "admin_rw", "admin", "agent_run")
UNKNOWN_PAT = "pat_01jdx7k2m3n4p5q6r7s8t9v0wx"
UNKNOWN_INVITE = "inv_01jdx7k2m3n4p5q6r7s8t9v0wx"
UNKNOWN_RUN = "run_01jdx7k2m3n4p5q6r7s8t9v0wx"

# (method, path, body, expected status per kind in KINDS order)
ROUTES: list[tuple[str, str, Any, tuple[int, int, int, int]]] = [
    ("GET", "/me", None, (200, 200, 200, 200)),
    ("GET", "/me/pats", None, (200, 200, 200, 403)),
    ("POST", "/me/pats", {"name": "m", "scope": "read_write"}, (201, 201, 201, 403)),
    ("POST", "/me/pats", {"name": "m", "scope": "admin"}, (403, 403, 201, 403)),
    ("DELETE", f"/me/pats/{UNKNOWN_PAT}", None, (404, 404, 404, 403)),
    ("PATCH", f"/me/pats/{UNKNOWN_PAT}", {"scope": "read"}, (404, 404, 404, 403)),
    ("POST", "/me/pats/revoke-all", None, (204, 204, 204, 403)),
    ("POST", "/me/pats/self/rotate", None, (201, 201, 201, 403)),
    ("POST", f"/me/pats/{UNKNOWN_PAT}/rotate", {"graceSeconds": 60}, (404, 404, 404, 403)),
    ("GET", "/me/agent-run-tokens", None, (200, 200, 200, 403)),
    ("DELETE", f"/me/agent-run-tokens/{UNKNOWN_RUN}", None, (404, 404, 404, 403)),
    ("POST", "/workflows/agent-run-tokens", {"agentId": "a"}, (201, 201, 403, 403)),
    ("POST", "/admin/invites", {"email": "new@example.com"}, (403, 403, 201, 403)),
    ("GET", "/admin/invites", None, (403, 403, 200, 403)),
    ("DELETE", f"/admin/invites/{UNKNOWN_INVITE}", None, (403, 403, 404, 403)),
    ("GET", "/admin/users", None, (403, 403, 200, 403)),
    ("GET", "/admin/users/{member}", None, (403, 403, 200, 403)),
    ("PATCH", "/admin/users/{member}", {"role": "member"}, (403, 403, 200, 403)),
    ("GET", "/admin/users/{member}/pats", None, (403, 403, 200, 403)),
    ("DELETE", f"/admin/users/{{member}}/pats/{UNKNOWN_PAT}", None, (403, 403, 404, 403)),
    ("POST", "/admin/users/{member}/pats/revoke-all", None, (403, 403, 204, 403)),
    ("GET", "/admin/users/{member}/agent-run-tokens", None, (403, 403, 200, 403)),
    ("DELETE", f"/admin/users/{{member}}/agent-run-tokens/{UNKNOWN_RUN}", None, (403, 403, 404, 403)),
    ("POST", "/admin/users/{member}/access-links", None, (403, 403, 201, 403)),
    ("GET", "/me/security-events", None, (200, 200, 200, 403)),
    ("GET", "/admin/settings/token-policy", None, (403, 403, 200, 403)),
    ("PUT", "/admin/settings/token-policy", {"maxLifetimeDays": None, "requireExpiry": False,
                                             "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
                                             "refuseReadWritePreset": False},
     (403, 403, 200, 403)),
    ("GET", "/admin/settings/token-policy/impact", None, (403, 403, 200, 403)),
    ("POST", "/auth/introspect", {"token": "oi_pat_unknown"}, (403, 403, 200, 403)),
    ("POST", "/auth/invites/claim", {"token": "oi_inv_unknown"}, (404, 404, 404, 404)),
    ("POST", "/credentials/revoke", {"credentials": ["oi_pat_unknown"]}, (202, 202, 202, 202)),
]

PUBLIC = {"/auth/invites/claim", "/credentials/revoke"}  # no token needed, so none refused

CASES = [
    pytest.param(method, path, body, kind, statuses[i], id=f"{method} {path} {body or ''} as {kind}")
    for method, path, body, statuses in ROUTES
    for i, kind in enumerate(KINDS)
]


@pytest.mark.parametrize(("method", "path", "body", "kind", "expected"), CASES)
def test_route_answers_each_kind_of_token(
    api: Api, accounts: Accounts, method: str, path: str, body: Any, kind: str, expected: int
) -> None:
    member = accounts.create()
    admin_user = accounts.admin()
    admin_rw = accounts.create(Role.ADMIN, Scope.READ_WRITE)
    tokens = {
        "member_rw": member.token,
        "admin_rw": admin_rw.token,
        "admin": admin_user.token,
        "agent_run": accounts.run_token(api, member)["token"],
    }
    response = api.request(method, path.format(member=member.user.id), tokens[kind], body=body)
    assert response.status == expected, response.body
    if expected == 403:
        assert response.error_code == "insufficient_scope"
        assert "insufficient_scope" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(("method", "path", "body"), [(m, p, b) for m, p, b, _ in ROUTES if p not in PUBLIC])
def test_every_protected_route_refuses_a_bad_token_with_401(
    api: Api, accounts: Accounts, method: str, path: str, body: Any
) -> None:
    member = accounts.create()
    response = api.request(method, path.format(member=member.user.id), "oi_pat_nope", body=body)
    assert response.status == 401
    assert response.error_code == "invalid_token"


def test_only_the_claim_token_check_leak_report_and_health_routes_are_public() -> None:
    """Of the API; the web UI's pages and assets (chalicelib.web, tests/test_web_routes.py) are
    public GETs that carry no data."""
    import app as app_module
    from chalicelib.web.routes import is_web_route

    public = sorted(
        f"{method} {path}"
        for path, methods in app_module.app.routes.items()
        for method, entry in methods.items()
        if entry.authorizer is None and not is_web_route(entry)
    )
    assert public == ["GET /health", "POST /auth/invites/claim", "POST /auth/token-check", "POST /credentials/revoke"]
