"""IP ranges: a PAT made with allowedIps works only from those addresses, as API Gateway saw them
(never a forwarded header); its run tokens too; its holder learns the rule, its owner is told."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.model.addresses import AllowedIps

from .conftest import Accounts, Api, AuditLog, Cli, DynamoCalls, FrozenClock, Identity, effect, login, request

OFFICE = ["203.0.113.0/24", "2001:db8::/32"]


def create(api: Api, token: str, **body: Any) -> Any:
    return api.post("/me/pats", token, body={"name": "office", "scope": "read_write", **body})


def test_a_token_works_only_from_its_ranges(api: Api, accounts: Accounts, authorize: Callable[..., Any]) -> None:
    member = accounts.create()
    created = create(api, member.token, allowedIps=["203.0.113.9/24", "2001:db8::1/32"])
    assert created.status == 201, created.body
    assert created.body["allowedIps"] == OFFICE  # host bits cleared
    office = created.body["token"]
    for address in ("203.0.113.77", "2001:db8:5::1", "::ffff:203.0.113.8"):
        assert effect(authorize(request(office, "GET", "/work-items", ip=address)))[0] == "Allow", address
    for address in ("198.51.100.7", "2001:db9::1", "not-an-address"):
        with pytest.raises(Exception, match="^Unauthorized$"):
            authorize(request(office, "GET", "/work-items", ip=address))


def test_a_forwarded_header_is_never_the_address(
    api: Api, accounts: Accounts, gateway_identity: Identity
) -> None:
    member = accounts.create()
    office = create(api, member.token, allowedIps=OFFICE).body["token"]
    gateway_identity("198.51.100.7")
    refused = api.get("/me", office, headers={"X-Forwarded-For": "203.0.113.5"})
    assert refused.status == 401
    gateway_identity("203.0.113.5")
    assert api.get("/me", office).status == 200


def test_the_holder_learns_the_rule_and_the_owner_is_told_once_an_hour(
    api: Api, accounts: Accounts, authorize: Callable[..., Any], gateway_identity: Identity, clock: FrozenClock
) -> None:
    member = accounts.create()
    office = create(api, member.token, allowedIps=OFFICE).body["token"]
    for _ in range(3):
        with pytest.raises(Exception, match="^Unauthorized$"):
            authorize(request(office, "GET", "/work-items", ip="198.51.100.7"))
    gateway_identity("198.51.100.7")  # token-check, asked from the refused address
    assert api.why_refused(office) == ("This token is refused from this address: works only from 203.0.113.0/24, "
                                       "2001:db8::/32, and this request came from 198.51.100.7.")
    gateway_identity("127.0.0.1")
    events = [event for event in api.get("/me/security-events", member.token).body["items"]
              if event["type"] == "token_used_from_another_address"]
    assert len(events) == 1
    assert "used from 198.51.100.7" in events[0]["detail"]
    clock.advance(hours=1, seconds=1)
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(request(office, "GET", "/work-items", ip="198.51.100.7"))
    assert [event["type"] for event in api.get("/me/security-events", member.token).body["items"]].count(
        "token_used_from_another_address") == 2


def test_run_tokens_are_held_to_their_pats_ranges(
    api: Api, accounts: Accounts, authorize: Callable[..., Any], gateway_identity: Identity
) -> None:
    member = accounts.create()
    gateway_identity("203.0.113.5")
    office = create(api, member.token, allowedIps=OFFICE).body["token"]
    run = api.post("/workflows/agent-run-tokens", office, body={"agentId": "a"}).body["token"]
    assert effect(authorize(request(run, "GET", "/work-items", ip="203.0.113.6")))[0] == "Allow"
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(request(run, "GET", "/work-items", ip="198.51.100.7"))
    gateway_identity("198.51.100.7")
    assert "the personal access token that minted this run token works only from" in api.why_refused(run)


def test_a_token_makes_none_that_works_from_more_places(
    api: Api, accounts: Accounts, gateway_identity: Identity
) -> None:
    member = accounts.create()
    office = create(api, member.token, allowedIps=OFFICE).body["token"]
    gateway_identity("203.0.113.5")
    inherited = create(api, office)
    assert (inherited.status, inherited.body["allowedIps"]) == (201, OFFICE)
    assert create(api, office, allowedIps=["203.0.113.128/25"]).body["allowedIps"] == ["203.0.113.128/25"]
    for wider in ([], ["0.0.0.0/0"], ["203.0.112.0/23"], ["198.51.100.7"]):
        refused = create(api, office, allowedIps=wider)
        assert (refused.status, refused.error_code) == (403, "insufficient_scope"), wider
    unrestricted = create(api, member.token).body["id"]
    assert api.post(f"/me/pats/{unrestricted}/rotate", office).status == 403


def test_a_rotations_successor_keeps_the_ranges(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    office = create(api, member.token, allowedIps=OFFICE).body
    successor = api.post(f"/me/pats/{office['id']}/rotate", member.token)
    assert (successor.status, successor.body["allowedIps"]) == (201, OFFICE)


@pytest.mark.parametrize("ranges", [["10.0.0.0/33"], ["the-office"], [""], [f"10.{n}.0.0/16" for n in range(11)],
                                    "10.0.0.0/8", [7], ["x" * 65]])
def test_bad_ranges_are_refused_in_words(api: Api, accounts: Accounts, ranges: Any) -> None:
    refused = create(api, accounts.create().token, allowedIps=ranges)
    assert (refused.status, refused.error_code) == (400, "invalid_request")
    assert "the-office" not in refused.body["error"]["message"]  # what the client sent is not repeated


def test_authorization_with_ranges_and_a_grant_is_still_one_read(
    api: Api, accounts: Accounts, authorize: Callable[..., Any], dynamo_calls: DynamoCalls
) -> None:
    member = accounts.create()
    office = create(api, member.token, allowedIps=OFFICE, scope=None,
                    permissions={"work_items": "write"}).body["token"]
    authorize(request(office, "GET", "/work-items", ip="203.0.113.5"))
    dynamo_calls.clear()
    for _ in range(3):
        authorize(request(office, "GET", "/work-items", ip="203.0.113.5"))
    assert dynamo_calls.operations == ["BatchGetItem"] * 3


def test_ranges_parse_and_compare() -> None:
    office = AllowedIps.parse(OFFICE)
    assert AllowedIps.parse(["203.0.113.7"]).within(office)
    assert not AllowedIps.parse(["2001:db8::/31"]).within(office)
    assert not AllowedIps().within(office) and office.within(AllowedIps())
    assert AllowedIps.from_text(office.to_text()) == office
    assert AllowedIps.parse(["10.0.0.1/8", "10.0.0.0/8"]).as_list() == ["10.0.0.0/8"]


def test_oi_creates_a_token_for_some_addresses(cli: Cli, api: Api, accounts: Accounts, audit_log: AuditLog) -> None:
    login(cli, accounts.create().token)
    result = cli("settings", "personal", "tokens", "create", "--name", "office", "--scope", "read_write",
                 "--allow-ip", "203.0.113.0/24", "--allow-ip", "2001:db8::/32")
    assert result.exit_code == 0, result.output
    assert "works only from 203.0.113.0/24, 2001:db8::/32" in result.stderr
    listing = cli("settings", "personal", "tokens", "list")
    assert "works only from 203.0.113.0/24, 2001:db8::/32" in listing.output
    bad = cli("settings", "personal", "tokens", "create", "--name", "x", "--scope", "read", "--allow-ip", "office")
    assert bad.exit_code != 0 and "Traceback" not in bad.output
