"""POST/GET/DELETE /me/pats through the Chalice test client (the same gateway as chalice local)."""
from __future__ import annotations

import pytest

from chalicelib.model import token_format
from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope

from .conftest import READ_WRITE_GRANT, Accounts, Api, FrozenClock

FUTURE = "2027-01-01T00:00:00Z"


def names(api: Api, token: str) -> list[str]:
    response = api.get("/me/pats", token)
    assert response.status == 200
    return [item["name"] for item in response.body["items"]]


def test_create_returns_the_token_once_with_the_documented_fields(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    response = api.post(
        "/me/pats", owner.token, body={"name": "agent-alpha", "scope": "read_write", "expiresAt": FUTURE}
    )
    assert response.status == 201
    body = response.body
    assert set(body) == {"id", "name", "scope", "permissions", "token", "expiresAt", "createdAt", "allowedIps"}
    assert body["permissions"] == READ_WRITE_GRANT
    assert body["id"].startswith("pat_01")
    assert (body["name"], body["scope"], body["expiresAt"]) == ("agent-alpha", "read_write", FUTURE)
    assert body["createdAt"] == "2026-11-24T12:00:00Z"
    assert token_format.parse(body["token"]) is not None
    assert response.headers["Cache-Control"] == "no-store"
    me = api.get("/me", body["token"])
    assert me.status == 200 and me.body["token"]["id"] == body["id"]


def test_expiry_is_optional_and_null_when_omitted(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    response = api.post("/me/pats", owner.token, body={"name": "local cli", "scope": "read_write"})
    assert response.status == 201
    assert response.body["expiresAt"] is None


def test_a_new_token_is_listed_at_once_and_never_with_its_value(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    created = api.post("/me/pats", owner.token, body={"name": "ci", "scope": "read_write"}).body
    listed = api.get("/me/pats", owner.token)
    assert listed.status == 200
    assert listed.body["nextCursor"] is None
    item = next(i for i in listed.body["items"] if i["id"] == created["id"])
    assert set(item) == {"id", "name", "scope", "expiresAt", "createdAt", "lastUsedAt", "lastUsedIp",
                         "lastUsedUserAgent", "rotatedTo", "rotatedFrom", "createdBy", "blocked", "permissions",
                         "usedPermissions", "usedScope", "usedSince", "narrowToUsed", "allowedIps"}
    assert created["token"] not in str(listed.body)


def test_list_is_newest_first_and_pages_cover_every_token_once(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    owner = accounts.create()
    for number in range(7):
        clock.advance(seconds=1)
        assert api.post("/me/pats", owner.token, body={"name": f"t{number}", "scope": "read_write"}).status == 201
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get("/me/pats" + query, owner.token)
        assert page.status == 200 and len(page.body["items"]) <= 3
        seen += [item["name"] for item in page.body["items"]]
        cursor = page.body["nextCursor"]
        if cursor is None:
            break
    assert seen == [f"t{n}" for n in reversed(range(7))] + ["setup"]


@pytest.mark.parametrize(
    "query",
    [
        "?limit=0", "?limit=101", "?limit=ten", "?limit=5.0", "?limit=%205%20", "?limit=%2B5",
        "?cursor=nonsense", "?cursor=usr_01jdx7k2m3n4p5q6r7s8t9v0wx", "?page=2",
    ],
)
def test_bad_list_queries_are_400(api: Api, accounts: Accounts, query: str) -> None:
    response = api.get("/me/pats" + query, accounts.create().token)
    assert response.status == 400
    assert response.error_code == "invalid_request"


def test_users_see_only_their_own_tokens(api: Api, accounts: Accounts) -> None:
    alice, bob = accounts.create(), accounts.create()
    api.post("/me/pats", alice.token, body={"name": "alice-only", "scope": "read_write"})
    assert "alice-only" not in names(api, bob.token)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "must be a JSON object"),
        (b"[]", "must be a JSON object"),
        (b'"read_write"', "must be a JSON object"),
        (b'{"scope": "read_write"}', "name: required"),
        (b'{"name": "x"}', "give scope or permissions"),
        (b'{"name": "x", "scope": "root"}', "scope"),
        (b'{"name": "x", "scope": "read_write", "admin": true}', "admin: unknown field"),
        (b'{"name": 7, "scope": "read_write"}', "name"),
        (b'{"name": ["x"], "scope": "read_write"}', "name"),
        (b'{"name": "x", "scope": 1}', "scope"),
        (b'{"name": "", "scope": "read_write"}', "name"),
        (b'{"name": "   ", "scope": "read_write"}', "name"),
        (b'{"name": "' + b"n" * 101 + b'", "scope": "read_write"}', "name"),
        (b'{"name": "line\\nbreak", "scope": "read_write"}', "control"),
        (b'{"name": "nul\\u0000", "scope": "read_write"}', "control"),
        (b'{"name": "evil\\u202etxt", "scope": "read_write"}', "control"),
        (b'{"name": "x", "scope": "read_write", "expiresAt": "2027-01-01T00:00:00"}', "time zone"),
        (b'{"name": "x", "scope": "read_write", "expiresAt": "1900000000"}', "RFC 3339"),
        (b'{"name": "x", "scope": "read_write", "expiresAt": "2027-01-01 00:00:00Z"}', "RFC 3339"),
        (b'{"name": "x", "scope": "read_write", "expiresAt": "2027-01-01"}', "expiresAt"),
        (b'{"name": "x", "scope": "read_write", "expiresAt": "tomorrow"}', "expiresAt"),
        (b'{"name": "x", "scope": "read_write", "expiresAt": "2027-02-30T00:00:00Z"}', "expiresAt"),
        (b'{"name": "x", "scope": "read_write", "expiresAt": 1800000000}', "expiresAt"),
        (b'{"name": "x", "scope": "read_write", "expiresAt": "2020-01-01T00:00:00Z"}', "in the future"),
        (b'{"name": "x", "scope": "read_write", "expiresAt": "2026-11-24T12:00:00Z"}', "in the future"),
        (b'{"name": "x", "scope": "read_write", "expiresAt": "9999-12-31T23:59:59-14:00"}', "100 years"),
    ],
)
def test_bad_bodies_are_400_with_a_clear_message_and_write_nothing(
    api: Api, accounts: Accounts, raw: bytes, fragment: str
) -> None:
    owner = accounts.create()
    response = api.post("/me/pats", owner.token, raw=raw)
    assert response.status == 400
    assert response.error_code == "invalid_request"
    assert fragment in response.body["error"]["message"]
    assert names(api, owner.token) == ["setup"]


@pytest.mark.parametrize(
    "name",
    [
        "\u200b", "a\u200bb", "a\u200cb", "a\u200db", "a\u2060b", "\ufeffadmin",  # zero-width
        "a\u200eb", "a\u200fb", "a\u061cb",  # direction marks
        "a\u2028b", "a\u2029b",  # line and paragraph separators
        "ci\U000e0041\U000e007f",  # tag characters
        "\u3164", "\u3164 \u3164", "\u115f\u1160", "\uffa0", "\u2800",  # nothing but fillers
    ],
)
def test_names_that_are_invisible_or_spoof_display_are_400(api: Api, accounts: Accounts, name: str) -> None:
    owner = accounts.create()
    response = api.post("/me/pats", owner.token, body={"name": name, "scope": "read_write"})
    assert response.status == 400
    assert response.body["error"]["message"].startswith("Invalid request: name: must ")
    assert names(api, owner.token) == ["setup"]


def test_names_are_trimmed_and_may_be_100_characters_of_any_script(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    long_name = "ü" * 99 + "😀"
    assert api.post("/me/pats", owner.token, body={"name": long_name, "scope": "read_write"}).status == 201
    assert api.post("/me/pats", owner.token, body={"name": "  padded ", "scope": "read_write"}).status == 201
    assert {long_name, "padded"} <= set(names(api, owner.token))
    # the 100-character limit applies to the name as sent
    too_long = api.post("/me/pats", owner.token, body={"name": f" {long_name}", "scope": "read_write"})
    assert too_long.status == 400


def test_wrong_media_type_is_a_json_415(api: Api, accounts: Accounts) -> None:
    response = api.post(
        "/me/pats", accounts.create().token, raw=b"name=x", headers={"Content-Type": "text/plain"}
    )
    assert response.status == 415
    assert response.error_code == "unsupported_media_type"


def test_a_read_write_token_cannot_create_an_admin_token(api: Api, accounts: Accounts) -> None:
    admin_user_rw_token = accounts.create(Role.ADMIN, Scope.READ_WRITE)
    response = api.post("/me/pats", admin_user_rw_token.token, body={"name": "up", "scope": "admin"})
    assert response.status == 403
    assert response.error_code == "insufficient_scope"
    assert "admin scope" in response.body["error"]["message"]
    # the one 403 header, as the gateway's (which cannot name a scope); the body names it
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="openindex", error="insufficient_scope"'
    assert response.body["error"]["requiredScope"] == "admin"
    assert names(api, admin_user_rw_token.token) == ["setup"]


def test_a_member_can_never_get_an_admin_token(api: Api, accounts: Accounts) -> None:
    member = accounts.create(Role.MEMBER, Scope.READ_WRITE)
    assert api.post("/me/pats", member.token, body={"name": "up", "scope": "admin"}).status == 403


def test_an_admin_token_can_create_both_scopes(api: Api, accounts: Accounts) -> None:
    admin = accounts.admin()
    for scope in ("admin", "read_write"):
        response = api.post("/me/pats", admin.token, body={"name": scope, "scope": scope})
        assert response.status == 201 and response.body["scope"] == scope


def test_delete_revokes_at_once(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    created = api.post("/me/pats", owner.token, body={"name": "doomed", "scope": "read_write"}).body
    assert api.get("/me", created["token"]).status == 200
    response = api.delete(f"/me/pats/{created['id']}", owner.token)
    assert response.status == 204
    assert api.get("/me", created["token"]).status == 401
    assert "doomed" not in names(api, owner.token)


def test_a_token_can_delete_itself_and_is_refused_right_after(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    assert api.delete(f"/me/pats/{owner.token_id}", owner.token).status == 204
    assert api.get("/me", owner.token).status == 401


def test_delete_accepts_the_id_in_upper_case(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    created = api.post("/me/pats", owner.token, body={"name": "x", "scope": "read_write"}).body
    shouted = "pat_" + created["id"].removeprefix("pat_").upper()
    assert api.delete(f"/me/pats/{shouted}", owner.token).status == 204


def test_unknown_deleted_malformed_and_foreign_ids_get_the_same_404(api: Api, accounts: Accounts) -> None:
    alice, bob = accounts.create(), accounts.create()
    deleted = api.post("/me/pats", alice.token, body={"name": "gone", "scope": "read_write"}).body["id"]
    api.delete(f"/me/pats/{deleted}", alice.token)
    candidates = [deleted, "pat_01jdx7k2m3n4p5q6r7s8t9v0wx", "not-an-id", "pat_", bob.token_id]
    bodies = []
    for token_id in candidates:
        response = api.delete(f"/me/pats/{token_id}", alice.token)
        assert response.status == 404, token_id
        bodies.append(response.body)
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["error"]["code"] == "not_found"
    assert api.get("/me", bob.token).status == 200


def test_an_expired_token_is_refused_unlisted_and_not_deletable(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    owner = accounts.create()
    short = api.post(
        "/me/pats", owner.token, body={"name": "short", "scope": "read_write", "expiresAt": "2026-11-24T13:00:00Z"}
    ).body
    clock.advance(minutes=59, seconds=59)
    assert api.get("/me", short["token"]).status == 200
    assert "short" in names(api, owner.token)
    clock.advance(seconds=1)
    assert api.get("/me", short["token"]).status == 401
    assert "short" not in names(api, owner.token)
    assert api.delete(f"/me/pats/{short['id']}", owner.token).status == 404


def test_unsupported_methods_get_a_json_405(api: Api, accounts: Accounts) -> None:
    response = api.request("PUT", "/me/pats", accounts.create().token, body={})
    assert response.status == 405
    assert response.error_code == "method_not_allowed"


def test_chalices_own_errors_never_repeat_what_the_client_sent(api: Api, accounts: Accounts) -> None:
    token = accounts.create().token
    hostile = "oi_pat_secret<script>"
    media = api.post("/me/pats", token, raw=b"x", headers={"Content-Type": hostile})
    method = api.request("PUT", "/me/pats", token, body={})
    for response in (media, method):
        assert hostile not in str(response.body) and "PUT" not in response.body["error"]["message"]
    assert media.body["error"]["message"] == ("Send the body as JSON, with Content-Type: application/json (POST "
                                              "/auth/introspect also takes a form).")


def test_an_empty_name_is_refused_in_words_and_no_message_has_a_doubled_full_stop(
    api: Api, accounts: Accounts
) -> None:
    owner = accounts.create()
    empty = api.post("/me/pats", owner.token, body={"name": "", "scope": "read_write"})
    assert empty.status == 400
    assert empty.body["error"]["message"] == "Invalid request: name: required, and it cannot be empty."
    for body in ({"name": "x", "scope": "read_write", "expiresAt": "2020-01-01"},
                 {"name": "\u202ex", "scope": "read_write"}, {"name": "x", "scope": "owner"}, {}):
        message = api.post("/me/pats", owner.token, body=body).body["error"]["message"]
        assert ".." not in message and message.endswith("."), message


def test_limits_are_said_plainly(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    long_name = api.post("/me/pats", owner.token, body={"name": "x" * 101, "scope": "read_write"})
    assert long_name.body["error"]["message"] == "Invalid request: name: at most 100 characters."
    short_run = api.post("/workflows/agent-run-tokens", owner.token, body={"agentId": "a", "expiresInSeconds": 5})
    assert short_run.body["error"]["message"] == "Invalid request: expiresInSeconds: at least 60."
