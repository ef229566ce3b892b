"""`POST /auth/token-check`: whether a token works, and why not to the token's holder only; the
token travels in the body, so no authorizer runs and a gateway's bare 401 is not the last word."""
from __future__ import annotations

from chalicelib.errors import InvalidToken
from chalicelib.model import token_format
from chalicelib.model.accounts import UserStatus
from chalicelib.model.kinds import TokenKind
from chalicelib.services import users
from chalicelib.storage import Store

from .conftest import READ_WRITE_GRANT, Accounts, Api, AuditLog, DynamoCalls, FrozenClock

CHECK = "/auth/token-check"


def test_a_token_that_works_says_so_with_its_id_kind_scope_and_when_it_stops(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    owner = accounts.create(expires_at=clock.now().replace(year=2027))
    answer = api.post(CHECK, body={"token": owner.token})
    assert answer.status == 200
    assert answer.body == {"active": True, "tokenId": owner.token_id, "kind": "pat", "scope": "read_write",
                           "permissions": READ_WRITE_GRANT, "expiresAt": "2027-11-24T12:00:00Z", "reason": None,
                           "message": None}


def test_the_holder_of_a_refused_token_learns_why(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock
) -> None:
    deactivated, expiring = accounts.create(), accounts.create(expires_at=clock.now())
    users.update_user(store, deactivated.user.id, status=UserStatus.DEACTIVATED, role=None, actor_id="usr_test",
                      now=clock.now())
    gone = api.post(CHECK, body={"token": deactivated.token}).body
    assert (gone["active"], gone["reason"]) == (False, "user_inactive")
    assert gone["message"] == "The account this token belongs to is deactivated."
    expired = api.post(CHECK, body={"token": expiring.token}).body
    assert (expired["reason"], expired["message"]) == (
        "expired", "This token expired at 2026-11-24T12:00:00Z; create a new one.")


def test_a_string_nobody_holds_gets_the_one_generic_answer(api: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    forged = token_format.mint(TokenKind.PAT.spec, user_id=owner.user.id, token_id=owner.token_id).value
    # a typo in its last character (never the character it already is: a 1 in 62 flake, seen twice)
    typo = owner.token[:-1] + ("0" if owner.token[-1] != "0" else "1")
    answers = [api.post(CHECK, body={"token": token}).body for token in ("oi_pat_garbage", "not a token", forged, typo)]
    assert all(answer == {"active": False, "tokenId": None, "kind": None, "scope": None, "permissions": None,
                          "expiresAt": None,
                          "reason": None, "message": InvalidToken.default_message} for answer in answers)


def test_a_check_costs_one_read_writes_nothing_and_is_no_use(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, store: Store
) -> None:
    owner = accounts.create()
    dynamo_calls.clear()
    assert api.post(CHECK, body={"token": owner.token}).body["active"] is True
    assert dynamo_calls.operations == ["BatchGetItem"]
    (record,) = store.tokens.get_many(owner.user.id, [owner.token_id]).values()
    assert record.last_used_at is None


def test_a_refused_check_is_audited_with_the_ids_the_token_claims_never_the_token(
    api: Api, accounts: Accounts, audit_log: AuditLog, clock: FrozenClock
) -> None:
    expiring = accounts.create(expires_at=clock.now())
    api.post(CHECK, body={"token": expiring.token})
    (line,) = audit_log.events("token.checked")
    assert (line["reason"], line["claimedTokenId"]) == ("expired", expiring.token_id)
    assert expiring.token not in "".join(audit_log.lines)


def test_a_bad_body_is_a_400(api: Api) -> None:
    for body in ({}, {"token": ""}, {"token": 1}, {"token": "x" * 257}, {"token": "x", "other": 1}):
        answer = api.post(CHECK, body=body)
        assert (answer.status, answer.error_code) == (400, "invalid_request")
