"""Public revocation of leaked credentials (issue 15): anyone may report, nobody learns anything."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.model import ids, token_format
from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.storage import Store

from .conftest import Account, Accounts, Api, AuditLog, DynamoCalls, FrozenClock, issue_pat

SOURCE = "https://github.com/someone/repo/blob/main/.env"


def report(api: Api, *credentials: str, **extra: Any) -> Any:
    return api.post("/credentials/revoke", body={"credentials": list(credentials), **extra})


def forged(token_id: str, user_id: str) -> str:
    """A token with a valid checksum naming a real token, but another secret."""
    return token_format.mint(TokenKind.PAT.spec, token_id=token_id, user_id=user_id).value


def event_types(api: Api, token: str) -> list[str]:
    return [event["type"] for event in api.get("/me/security-events", token).body["items"]]


def test_a_mix_is_always_202_and_only_the_live_ones_die(
    api: Api, accounts: Accounts, clock: FrozenClock, audit_log: AuditLog
) -> None:
    admin, member, bystander = accounts.admin(), accounts.create(), accounts.create()
    leaked = api.post("/me/pats", member.token, body={"name": "ci", "scope": "read_write"}).body
    dead = api.post("/me/pats", member.token, body={"name": "old", "scope": "read_write"}).body
    api.delete(f"/me/pats/{dead['id']}", member.token)
    run = accounts.run_token(api, member)
    invite = api.post("/admin/invites", admin.token, body={"email": "new@example.com"}).body
    response = report(api, leaked["token"], dead["token"], run["token"], invite["token"],
                      forged(bystander.token_id, bystander.user.id), "oi_pat_garbage", "hunter2", "",
                      source=SOURCE)
    assert (response.status, response.body) == (202, {})
    assert api.get("/me", leaked["token"]).status == 401
    assert api.get("/me", run["token"]).status == 401
    assert api.post("/auth/invites/claim", body={"token": invite["token"]}).status == 410
    assert api.get("/me", member.token).status == 200  # not reported
    assert api.get("/me", bystander.token).status == 200  # a forged checksum revokes nothing
    told = api.get("/me/security-events", member.token).body["items"]
    assert sorted((event["type"], event["tokenId"]) for event in told) == sorted(
        [("token_leak_revoked", leaked["id"]), ("token_leak_revoked", run["id"])])
    assert all(SOURCE in event["detail"] for event in told)
    assert event_types(api, admin.token) == ["token_leak_revoked"]  # the invite they created
    assert event_types(api, bystander.token) == []
    revoked = audit_log.events("credential.leak_revoked")
    assert {line.get("tokenId") or line.get("inviteId") for line in revoked} == {leaked["id"], run["id"], invite["id"]}
    assert all(line["source"] == SOURCE and line["actor"] == "public" for line in revoked)
    assert leaked["token"] not in "".join(audit_log.lines)


def test_the_answer_is_the_same_whether_or_not_anything_matched(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    miss = report(api, forged(member.token_id, member.user.id))
    hit = report(api, member.token)
    assert (miss.status, miss.body) == (hit.status, hit.body) == (202, {})
    assert {k: v for k, v in miss.headers.items() if k.lower() != "date"} == {
        k: v for k, v in hit.headers.items() if k.lower() != "date"}
    assert api.get("/me", member.token).status == 401


def test_a_leaked_re_access_link_tells_the_admin_and_the_user(api: Api, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    link = api.post(f"/admin/users/{member.user.id}/access-links", admin.token).body
    assert report(api, link["token"]).status == 202
    assert api.post("/auth/invites/claim", body={"token": link["token"]}).status == 410
    assert event_types(api, admin.token) == ["token_leak_revoked"]
    assert event_types(api, member.token) == ["token_leak_revoked", "access_link_created"]


def test_a_token_reported_twice_is_told_once(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "s", "scope": "read_write"}).body
    report(api, spare["token"], spare["token"])
    report(api, spare["token"])
    assert event_types(api, member.token) == ["token_leak_revoked"]


def test_no_bearer_is_needed_and_one_is_ignored(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "s", "scope": "read_write"}).body
    response = api.post("/credentials/revoke", "oi_pat_nonsense", body={"credentials": [spare["token"]]})
    assert response.status == 202
    assert api.get("/me", spare["token"]).status == 401


def test_garbage_costs_no_dynamodb_request(api: Api, dynamo_calls: DynamoCalls) -> None:
    dynamo_calls.clear()
    assert report(api, *(f"oi_pat_{n}" for n in range(1000))).status == 202
    assert dynamo_calls.operations == []


def test_a_thousand_well_formed_reports_cost_a_read_per_hundred_keys(
    api: Api, accounts: Accounts, clock: FrozenClock, dynamo_calls: DynamoCalls
) -> None:
    member = accounts.create()
    same_key = [forged(member.token_id, member.user.id) for _ in range(499)]  # one key, many secrets
    other_keys = [forged(ids.new_id("pat", clock.now()), member.user.id) for _ in range(500)]
    dynamo_calls.clear()
    assert report(api, *same_key, *other_keys, member.token).status == 202
    # 501 keys, one per distinct token named; then the account: read, revoke, read again, tell
    assert dynamo_calls.operations == ["BatchGetItem"] * 6 + ["Query", "BatchWriteItem", "Query", "BatchWriteItem"]
    assert api.get("/me", member.token).status == 401


@pytest.mark.parametrize("body", [
    {}, {"credentials": []}, {"credentials": "oi_pat_x"}, {"credentials": [1]},
    {"credentials": ["x"] * 1001}, {"credentials": ["x" * 1001]},
    {"credentials": ["x"], "source": "ftp://example.com"}, {"credentials": ["x"], "source": "not a url"},
    {"credentials": ["x"], "source": "https://example.com/\u001b[2J"}, {"credentials": ["x"], "extra": 1},
])
def test_malformed_bodies_are_400(api: Api, body: dict[str, Any]) -> None:
    response = api.post("/credentials/revoke", body=body)
    assert response.status == 400 and response.error_code == "invalid_request"


def test_not_json_is_400(api: Api) -> None:
    assert api.post("/credentials/revoke", raw=b"oi_pat_x").status == 400


POLICY = "/admin/settings/token-policy"
DEFAULTS = {"maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
            "refuseReadWritePreset": False}


def put_policy(api: Api, admin: Account | str, **changes: Any) -> Any:
    token = admin if isinstance(admin, str) else admin.token
    return api.request("PUT", POLICY, token, body={**DEFAULTS, **changes})


def events(api: Api, token: str, query: str = "") -> list[dict[str, Any]]:
    response = api.get(f"/me/security-events{query}", token)
    assert response.status == 200, response.body
    return list(response.body["items"])


def test_a_forged_twin_in_the_same_report_does_not_save_a_leaked_invite(api: Api, accounts: Accounts) -> None:
    """_revoke_invites keys the reported digests by invite id, so a second string naming
    the same invite (valid checksum, another secret) replaces the real digest and the leaked
    invite, reported in the same body, stays claimable."""
    admin = accounts.admin()
    leaked = api.post("/admin/invites", admin.token, body={"email": "new@example.com"}).body
    twin = token_format.mint(TokenKind.INVITE.spec, token_id=leaked["id"]).value
    assert report(api, leaked["token"], twin).status == 202
    assert api.post("/auth/invites/claim", body={"token": leaked["token"]}).status == 410


def test_a_forged_twin_in_the_same_report_does_not_save_a_leaked_pat(api: Api, accounts: Accounts) -> None:
    """Holds for PATs and run tokens: each reported string is compared on its own."""
    member = accounts.create()
    twin = token_format.mint(TokenKind.PAT.spec, token_id=member.token_id, user_id=member.user.id).value
    assert report(api, member.token, twin).status == 202
    assert api.get("/me", member.token).status == 401


def test_reporting_a_run_token_that_was_already_dead_tells_its_owner_nothing(
    api: Api, accounts: Accounts, audit_log: AuditLog
) -> None:
    """A run token whose parent PAT was deleted is already refused, but the leak path
    never looks at the parent: it deletes the item, audits a revocation and tells the owner
    \"your agent run token was reported leaked and was revoked\" for a token that was not live."""
    member = accounts.create()
    parent = api.post("/me/pats", member.token, body={"name": "ci", "scope": "read_write"}).body
    run = api.post("/workflows/agent-run-tokens", parent["token"], body={"agentId": "bot"}).body
    assert api.delete(f"/me/pats/{parent['id']}", member.token).status == 204
    assert api.get("/me", run["token"]).status == 401  # dead already
    assert report(api, run["token"]).status == 202
    assert events(api, member.token) == []
    assert audit_log.events("credential.leak_revoked") == []


def test_a_reported_token_blocked_by_policy_is_revoked_for_good(
    api: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    """Holds: a leak report of a token the policy blocks deletes it, so relaxing the policy
    does not bring a leaked token back."""
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    member = accounts.create()
    assert put_policy(api, admin, requireExpiry=True).status == 200
    assert api.get("/me", member.token).status == 401
    assert report(api, member.token).status == 202
    assert put_policy(api, admin).status == 200
    assert api.get("/me", member.token).status == 401


def test_the_source_cannot_disguise_the_host_it_names(api: Api, accounts: Accounts) -> None:
    """The source is shown to the owner as \"reported leaked at <source>\"; the
    pattern allows userinfo, so https://github.com@evil.example/... reads as GitHub but is
    another host (and quotes let it imitate the sentence around it)."""
    member = accounts.create()
    spare = api.post("/me/pats", member.token, body={"name": "s", "scope": "read_write"}).body
    response = report(api, spare["token"], source="https://github.com@evil.example/reset-your-tokens-here")
    assert response.status == 400


@pytest.mark.parametrize("source", [
    "https://example.com/" + "a" * 2030 + " ", "http://" + "!" * 2041, "https://" + "@" * 2040,
])
def test_hostile_sources_are_400_quickly(api: Api, source: str) -> None:
    """Holds: the source pattern is linear enough at its 2,048-character ceiling; never 500."""
    response = report(api, "x", source=source[:2048] if len(source) > 2048 else source)
    assert response.status in (202, 400)


@pytest.mark.parametrize("raw", [
    b'{"credentials": [null]}', b'{"credentials": ["x"], "source": null}', b'{"credentials": [["x"]]}',
    b'[]', b'null', b'{"credentials": ["' + b"\\ud800" + b'"]}', b'{"credentials": {"a": "b"}}',
])
def test_odd_bodies_are_never_500(api: Api, raw: bytes) -> None:
    assert api.post("/credentials/revoke", raw=raw).status in (202, 400)


def test_a_thousand_distinct_forged_users_stay_within_ten_reads_and_no_writes(
    api: Api, accounts: Accounts, dynamo_calls: DynamoCalls, clock: FrozenClock
) -> None:
    """Holds: the worst unauthenticated body (1,000 forged PATs, each naming another user) is
    10 BatchGetItems of 100 keys (a user is read only for a token whose digest matched) and no
    write; forged invites 10 reads."""
    from chalicelib.model import ids

    forged = [token_format.mint(TokenKind.PAT.spec, token_id=ids.new_id("pat", clock.now()),
                                user_id=ids.new_id("usr", clock.now())).value for _ in range(1000)]
    dynamo_calls.clear()
    assert report(api, *forged).status == 202
    assert dynamo_calls.operations == ["BatchGetItem"] * 10
    invites = [token_format.mint(TokenKind.INVITE.spec, token_id=ids.new_id("inv", clock.now())).value
               for _ in range(1000)]
    dynamo_calls.clear()
    assert report(api, *invites).status == 202
    assert dynamo_calls.operations == ["BatchGetItem"] * 10


def make_pat(api: Api, token: str, name: str, scope: str = "read_write", **extra: Any) -> dict[str, Any]:
    made = api.post("/me/pats", token, body={"name": name, "scope": scope, **extra})
    assert made.status == 201, made.body
    return made.body


def alive(api: Api, token: str) -> bool:
    return api.get("/me", token).status == 200


def test_a_leak_reports_source_never_carries_a_token_value_into_logs_or_events(
    api: Api, accounts: Accounts, audit_log: Any, store: Store, clock: FrozenClock
) -> None:
    """`source` must be an http(s)
    URL, but its path and query may hold anything URL-safe, including `oi_pat_…`. Anyone holding
    one live token (their own will do) can report it with a `source` that carries *another* live
    token: that value is then written verbatim into the `credential.leak_revoked` audit line and
    into the owner's stored security events (a report writes one per revoked descendant, each
    with the source). security.md: "Not logged: audit lines carry ids, never a value" and
    "Stored: only SHA-256 digests". A secret scanner whose source URLs name the file or line by
    its contents would do the same by accident. Suggested fix: refuse (400) a `source` in which
    `oi_(pat|run|inv)_[0-9A-Za-z]+` matches, or cut the URL to scheme, host and path with such
    substrings redacted before it is logged or stored."""
    reporter, victim = accounts.create(), accounts.create()
    spare = issue_pat(store, user_id=reporter.user.id, name="spare", scope=Scope.READ_WRITE, expires_at=None,
                           now=clock.now())
    make_pat(api, reporter.token, "child")  # a descendant: its owner is told too, with the source
    source = f"https://github.com/acme/app/blob/main/notes.txt?also={victim.token}"
    answer = api.post("/credentials/revoke", body={"credentials": [reporter.token], "source": source})
    assert answer.status in (202, 400)
    assert not [line for line in audit_log.lines if victim.token in line]
    told = api.get("/me/security-events", spare.value).body["items"]
    assert not [event for event in told if victim.token in event["detail"]]


def test_a_leak_report_never_reaches_another_account(api: Api, accounts: Accounts) -> None:
    """An admin's stolen token sends a re-access link to a member, who claims it (their
    new PAT records the admin's token as its maker), and invites a colleague who claims too.
    Reporting the admin's token revokes it and what it made in the admin's account only: the
    member's and the colleague's PATs keep working, and neither is told anything."""
    admin, member = accounts.admin(), accounts.create()
    accounts.admin()
    stolen = make_pat(api, admin.token, "stolen", scope="admin")
    link = api.post(f"/admin/users/{member.user.id}/access-links", stolen["token"]).body
    linked = api.post("/auth/invites/claim", body={"token": link["token"]}).body["pat"]
    invite = api.post("/admin/invites", stolen["token"], body={"email": "colleague@example.com"}).body
    colleague = api.post("/auth/invites/claim", body={"token": invite["token"]}).body["pat"]
    self_link = api.post(f"/admin/users/{admin.user.id}/access-links", stolen["token"]).body
    self_pat = api.post("/auth/invites/claim", body={"token": self_link["token"]}).body["pat"]
    assert api.post("/credentials/revoke", body={"credentials": [stolen["token"]]}).status == 202
    assert not alive(api, stolen["token"]) and not alive(api, self_pat["token"])
    assert alive(api, admin.token)
    assert alive(api, linked["token"]) and alive(api, colleague["token"]) and alive(api, member.token)
    events = api.get("/me/security-events", member.token).body["items"]
    assert [event["type"] for event in events] == ["access_link_created"]
