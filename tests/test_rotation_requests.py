"""What a rotation request may name and send: no variant of ``self`` or odd id reaches another
token or a 500, an upper-case id rotates the canonical token, and a bad body is a 400 that rotates nothing."""
from __future__ import annotations

from typing import Any

import pytest

from .conftest import Accounts, Api


def rotate(api: Api, token: str, ref: str = "self", **body: Any) -> Any:
    return api.post(f"/me/pats/{ref}/rotate", token, **({"body": body} if body else {}))


def test_no_self_variant_or_odd_id_reaches_another_token_or_a_500(api: Api, accounts: Accounts) -> None:
    owner, stranger = accounts.create(), accounts.create()
    for ref in ("SELF", "Self", "self%20", "%73elf", "self.", "me", "pat_" + "z" * 26, "PAT_" + "0" * 26,
                "run_" + "0" * 26, "%F0%9F%98%80", "a" * 3000, "pat_%00", "self%2Frotate",
                stranger.token_id.upper(), stranger.user.id):
        response = rotate(api, owner.token, ref)
        # refused by the view (no such token), or at the gateway for a path not written plainly
        assert (response.status, response.error_code) in ((404, "not_found"), (403, "route_not_in_map")), ref
    assert [api.get("/me", token).status for token in (owner.token, stranger.token)] == [200, 200]


@pytest.mark.parametrize("raw", [b"null", b"[]", b'"x"', b"1", b" ", b"\xff\xfe", b'{"a":' * 1000,
                                 b'{"graceSeconds": 99999999999999999999999999}', b'{"graceSeconds": true}',
                                 b'{"graceSeconds": null}', b'{"expiresAt": "9999-12-31T23:59:59Z"}',
                                 b'{"expiresAt": "2026-11-24T23:59:60Z"}', b'{"rotatedTo": "pat_x"}',
                                 b'{"scope": "admin"}'])
def test_bad_bodies_are_400_and_rotate_nothing(api: Api, accounts: Accounts, raw: bytes) -> None:
    owner = accounts.create()
    response = api.post("/me/pats/self/rotate", owner.token, raw=raw)
    assert (response.status, response.error_code) == (400, "invalid_request"), raw
    assert api.get("/me", owner.token).status == 200


def test_an_explicit_upper_case_id_rotates_the_canonical_token(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    other = api.post("/me/pats", owner.token, body={"name": "ci", "scope": "read_write"}).body
    prefix, _, body = other["id"].partition("_")
    successor = rotate(api, owner.token, f"{prefix}_{body.upper()}").body
    assert successor["rotatedFrom"] == other["id"]
