"""`POST /auth/introspect` (RFC 7662): whether a token is live, for a service outside API Gateway
holding token_introspection:read; a live token's owner, kind, grant and times, or only
``{"active": false}``."""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.model.accounts import Role, UserStatus
from chalicelib.model.kinds import Scope
from chalicelib.services import users
from chalicelib.storage import Store
from chalicelib.timeutil import to_epoch

from .conftest import READ_WRITE_GRANT, Accounts, Api, AuditLog, DynamoCalls, FrozenClock

INTROSPECT = "/auth/introspect"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def introspector(api: Api, accounts: Accounts) -> str:
    """A service's token: made by an admin, and able to do nothing but introspect."""
    made = api.post("/me/pats", accounts.admin().token,
                    body={"name": "billing worker", "permissions": {"token_introspection": "read"}})
    assert made.status == 201, made.body
    return str(made.body["token"])


def asked(api: Api, service: str, token: str, **extra: str) -> Any:
    answer = api.post(INTROSPECT, service, raw=urlencode({"token": token, **extra}).encode(), headers=FORM)
    assert answer.status == 200, answer.body
    return answer.body


def test_a_live_pat_answers_its_owner_kind_grant_and_times(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    service, owner = introspector(api, accounts), accounts.create(expires_at=clock.now() + timedelta(days=30))
    expected = {"active": True, "sub": owner.user.id, "jti": owner.token_id, "token_type": "pat",
                "scope": "read_write", "permissions": READ_WRITE_GRANT,
                "exp": to_epoch(clock.now() + timedelta(days=30)), "iat": to_epoch(clock.now())}
    assert asked(api, service, owner.token) == expected
    as_json = api.post(INTROSPECT, service, body={"token": owner.token, "token_type_hint": "access_token"})
    assert (as_json.status, as_json.body) == (200, expected)
    assert "exp" not in asked(api, service, accounts.create().token)  # a token that never expires


def test_a_run_token_answers_run_its_pats_limits_and_the_earlier_end(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    service, owner = introspector(api, accounts), accounts.create(expires_at=clock.now() + timedelta(minutes=20))
    run = accounts.run_token(api, owner, permissions={"work_items": "read"})
    answer = asked(api, service, run["token"])
    assert (answer["token_type"], answer["jti"], answer["sub"]) == ("run", run["id"], owner.user.id)
    assert (answer["scope"], answer["permissions"]["work_items"], answer["permissions"]["queues"]) == (
        "custom", "read", "none")
    assert answer["exp"] == to_epoch(clock.now() + timedelta(minutes=20))  # its PAT's end, before its own hour


def test_anything_not_live_answers_only_that(
    api: Api, accounts: Accounts, clock: FrozenClock, store: Store
) -> None:
    service = introspector(api, accounts)
    deleted, expiring, deactivated, parent = (accounts.create(), accounts.create(expires_at=clock.now()),
                                             accounts.create(), accounts.create())
    orphan = accounts.run_token(api, parent)
    assert api.delete(f"/me/pats/{deleted.token_id}", deleted.token).status == 204
    assert api.delete(f"/me/pats/{parent.token_id}", parent.token).status == 204
    users.update_user(store, deactivated.user.id, status=UserStatus.DEACTIVATED, role=None, actor_id="usr_test",
                      now=clock.now())
    typo = deactivated.token[:-1] + ("0" if deactivated.token[-1] != "0" else "1")
    for token in (deleted.token, expiring.token, deactivated.token, orphan["token"], typo, "oi_pat_garbage", "x"):
        assert asked(api, service, token) == {"active": False}, token


def test_a_token_limited_to_some_addresses_is_live_only_from_the_client_address_the_service_gives(
    api: Api, accounts: Accounts
) -> None:
    service, owner = introspector(api, accounts), accounts.create()
    office = api.post("/me/pats", owner.token, body={"name": "office", "scope": "read",
                                                     "allowedIps": ["203.0.113.0/24"]}).body["token"]
    assert asked(api, service, office, client_ip="203.0.113.7")["active"] is True
    assert asked(api, service, office, client_ip="198.51.100.7") == {"active": False}
    assert asked(api, service, office) == {"active": False}  # a service that does not say is not told
    assert asked(api, service, owner.token)["active"] is True  # any address: no client_ip needed


def test_only_a_token_an_admin_gave_token_introspection_may_ask(api: Api, accounts: Accounts) -> None:
    member, admin = accounts.create(), accounts.create(Role.ADMIN, Scope.ADMIN)
    body = {"token": member.token}
    for refused_token in (member.token, accounts.run_token(api, member)["token"]):
        refused = api.post(INTROSPECT, refused_token, body=body)
        assert (refused.status, refused.body["error"]["requiredScope"]) == (403, "token_introspection:read")
    assert api.post(INTROSPECT, None, body=body).status == 401
    assert api.post(INTROSPECT, admin.token, body=body).body["active"] is True  # the admin preset has it
    given = api.post("/me/pats", member.token, body={"name": "x", "permissions": {"token_introspection": "read"}})
    assert (given.status, given.error_code) == (403, "insufficient_scope")
    service = introspector(api, accounts)
    assert api.get("/me/pats", service).status == 403  # it does nothing else


def test_an_introspection_costs_the_askers_read_and_one_more_and_writes_nothing(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, store: Store
) -> None:
    service, owner = introspector(api, accounts), accounts.create()
    asked(api, service, owner.token)  # the service's own first use is recorded once
    dynamo_calls.clear()
    assert asked(api, service, owner.token)["active"] is True
    assert dynamo_calls.operations == ["BatchGetItem", "BatchGetItem"]
    (record,) = store.tokens.get_many(owner.user.id, [owner.token_id]).values()
    assert record.last_used_at is None  # asking about a token is not using it


def test_each_introspection_is_audited_by_ids_never_the_token(
    api: Api, accounts: Accounts, audit_log: AuditLog
) -> None:
    service, owner = introspector(api, accounts), accounts.create()
    asked(api, service, owner.token)
    asked(api, service, owner.token + "x")
    live, dead = audit_log.events("token.introspected")
    assert (live["outcome"], live["tokenId"], live["ownerId"]) == ("success", owner.token_id, owner.user.id)
    assert (dead["outcome"], dead["reason"]) == ("failure", "malformed_token")
    assert owner.token not in "".join(audit_log.lines)


@pytest.mark.parametrize(("raw", "headers"), [
    (b"", FORM), (b"token=", FORM), (b"token=a&token=b", FORM), (b"token=a&extra=1", FORM),
    (b"token=a&client_ip=not-an-address", FORM), (b"%zz", FORM), (b"token=\xff", FORM),
    (b'{"token": 5}', {}), (b'{"token": "a", "client_ip": "300.1.1.1"}', {}), (b"{nope", {}),
])
def test_a_bad_request_is_a_400_in_words(api: Api, accounts: Accounts, raw: bytes, headers: dict[str, str]) -> None:
    refused = api.post(INTROSPECT, introspector(api, accounts), raw=raw, headers=headers)
    assert (refused.status, refused.error_code) == (400, "invalid_request"), refused.body
    assert refused.body["error"]["message"].startswith("Invalid request")


def test_another_content_type_is_a_415(api: Api, accounts: Accounts) -> None:
    refused = api.post(INTROSPECT, introspector(api, accounts), raw=b"token=a", headers={"Content-Type": "text/plain"})
    assert refused.status == 415
    assert refused.body["error"]["code"] == "unsupported_media_type"
