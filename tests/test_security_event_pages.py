"""Security events as pages and at scale: newest first, a cursor that never reaches another
user's events, odd queries never a 500, a repeated refused use costs no write within the hour,
and a leaked bootstrap invite is told to someone who can read it."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope
from chalicelib.storage import Store
from openindex_ops import bootstrap

from .conftest import TABLE, Account, Accounts, Api, DynamoCalls, FrozenClock

POLICY = "/admin/settings/token-policy"
DEFAULTS = {"maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
            "refuseReadWritePreset": False}


def put_policy(api: Api, admin: Account | str, **changes: Any) -> Any:
    token = admin if isinstance(admin, str) else admin.token
    return api.request("PUT", POLICY, token, body={**DEFAULTS, **changes})


def report(api: Api, *credentials: str, **extra: Any) -> Any:
    return api.post("/credentials/revoke", body={"credentials": list(credentials), **extra})


def events(api: Api, token: str, query: str = "") -> list[dict[str, Any]]:
    response = api.get(f"/me/security-events{query}", token)
    assert response.status == 200, response.body
    return list(response.body["items"])


def test_events_are_newest_first_even_with_a_repeatable_event(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """A repeatable event's id starts with the start of its hour window, not its time,
    so an event at 12:50 sorts below one at 12:10 and the log is not newest first (and a page
    boundary can fall between them in the wrong order)."""
    admin, member = accounts.admin(), accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "spare", "scope": "read_write"}).body
    successor = api.post("/me/pats/self/rotate", member.token).body  # grace 0: the old one stops now
    clock.advance(minutes=10)
    assert api.delete(f"/admin/users/{member.user.id}/pats/{spare['id']}", admin.token).status == 204
    clock.advance(minutes=40)
    assert api.get("/me", member.token).status == 401  # use after rotation, told at 12:50
    found = events(api, successor["token"])
    assert [event["type"] for event in found] == ["token_used_after_rotation", "token_revoked_by_admin"]
    ats = [event["at"] for event in found]
    assert ats == sorted(ats, reverse=True)


def test_a_users_cursor_never_reaches_another_users_events(api: Api, accounts: Accounts) -> None:
    """Holds: a cursor is a position inside the caller's own partition, whoever's event id it names."""
    admin, victim, snoop = accounts.admin(), accounts.create(), accounts.create()
    for _ in range(3):
        api.post(f"/admin/users/{victim.user.id}/access-links", admin.token)
    theirs = events(api, victim.token)
    for event in theirs:
        assert events(api, snoop.token, f"?cursor={event['id']}") == []
    upper = theirs[-1]["id"].upper().replace("EVT_", "evt_")
    assert events(api, snoop.token, f"?cursor={upper}") == []


@pytest.mark.parametrize("query", [
    "?limit=", "?limit=-1", "?limit=1e2", "?limit=%EF%BC%91", "?cursor=", "?cursor=evt_" + "z" * 26,
    "?cursor=evt_" + "7" + "z" * 25, "?cursor=usr_01jdx7k2m3n4p5q6r7s8t9v0wx", "?other=1",
])
def test_odd_event_queries_are_never_500(api: Api, accounts: Accounts, query: str) -> None:
    member = accounts.create()
    assert api.get(f"/me/security-events{query}", member.token).status in (200, 400)


def test_a_repeated_refused_use_costs_no_write_within_the_hour(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, clock: FrozenClock
) -> None:
    """Once the hour's event is stored, every further use of a blocked (or
    rotated-away) token still sends a conditional PutItem that fails: a write, billed, per
    refused request, by anyone holding such a token. The event id is deterministic, so its key
    could ride in the authorizer's one BatchGetItem and the handler write only when absent."""
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    member = accounts.create()
    put_policy(api, admin, requireExpiry=True)
    assert api.get("/me", member.token).status == 401
    dynamo_calls.clear()
    assert api.get("/me", member.token).status == 401
    assert dynamo_calls.operations == ["BatchGetItem"]


def test_a_leaked_bootstrap_invite_is_told_to_someone_who_can_read_it(
    store: Store, api: Api, capsys: pytest.CaptureFixture[str], clock: FrozenClock
) -> None:
    """An invite or re-access link made by openindex-bootstrap has
    created_by="bootstrap"; when it is reported leaked the event is written to the partition
    USER#bootstrap, which no one can ever read."""
    argv = ["--email", "root@example.com", "--table", TABLE, "--invite", "--app-url", "https://x.test"]
    assert bootstrap.main(argv) == 0
    invite = [line for line in capsys.readouterr().out.splitlines()
              if line.startswith("OPENINDEX_ADMIN_INVITE=")][0].partition("=")[2]
    assert report(api, invite).status == 202
    orphaned = store.events.page("bootstrap", 10, None, clock.now())[0]
    assert orphaned == []
