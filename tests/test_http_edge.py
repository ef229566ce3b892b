"""Headers every response carries, whoever answers: a view, the access middleware or Chalice itself."""
from __future__ import annotations

import pytest

from .conftest import Accounts, Api


@pytest.mark.parametrize(
    ("method", "path", "with_token", "body", "status"),
    [
        ("GET", "/health", False, None, 200),
        ("GET", "/me", True, None, 200),
        ("POST", "/me/pats", True, {"name": "x", "scope": "read_write"}, 201),
        ("POST", "/me/pats", True, {"name": "\u200b", "scope": "read_write"}, 400),
        ("GET", "/me", False, None, 401),
        ("GET", "/admin/users", True, None, 403),
        ("DELETE", "/me/pats/pat_01jdx7k2m3n4p5q6r7s8t9v0wx", True, None, 404),
        ("PUT", "/me/pats", True, {}, 405),
    ],
)
def test_every_response_is_uncached_and_never_sniffed(
    api: Api, accounts: Accounts, method: str, path: str, with_token: bool, body: object, status: int
) -> None:
    token = accounts.create().token if with_token else "oi_pat_x"
    response = api.request(method, path, token, body=body)
    assert response.status == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
