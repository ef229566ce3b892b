"""IP ranges and introspection hold against an attacker's pass (issue 22): no way to a token usable
from more places, no stored range that breaks a read, no parameter judged twice, no secret echoed."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Accounts, Api, Identity, request

INTROSPECT = "/auth/introspect"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
OFFICE = ["203.0.113.0/24"]


def introspector(api: Api, accounts: Accounts) -> str:
    made = api.post("/me/pats", accounts.admin().token,
                    body={"name": "svc", "permissions": {"token_introspection": "read"}})
    assert made.status == 201, made.body
    return str(made.body["token"])


# 1
def test_a_restricted_admin_token_makes_no_re_access_link_for_its_own_account(
    api: Api, accounts: Accounts, gateway_identity: Identity
) -> None:
    admin, member = accounts.admin(), accounts.create()
    office = api.post("/me/pats", admin.token, body={"name": "office", "scope": "admin", "allowedIps": OFFICE})
    assert office.status == 201, office.body
    gateway_identity("203.0.113.5")  # the restricted token, used from where it may be
    refused = api.post(f"/admin/users/{admin.user.id}/access-links", office.body["token"])
    assert (refused.status, refused.error_code) == (403, "insufficient_scope")  # its token would work from anywhere
    assert "works only from 203.0.113.0/24" in refused.body["error"]["message"]
    assert api.get("/admin/invites", admin.token).body["items"] == []
    assert api.post(f"/admin/users/{member.user.id}/access-links", office.body["token"]).status == 201  # another's


def test_a_token_limited_to_ipv6_cannot_make_one_usable_from_ipv4_through_a_zone_id(
    api: Api, accounts: Accounts, authorize: Callable[..., Any], gateway_identity: Identity
) -> None:
    member = accounts.create()
    ipv6_only = api.post("/me/pats", member.token, body={"name": "v6", "scope": "read_write",
                                                         "allowedIps": ["2000::/3"]})
    assert ipv6_only.status == 201, ipv6_only.body
    gateway_identity("2001:db8::5")  # the restricted token, used from where it may be
    made = api.post("/me/pats", ipv6_only.body["token"],
                    body={"name": "x", "scope": "read_write", "allowedIps": ["2001::%x,198.51.100.7/32"]})
    if made.status == 201:  # whatever it was given, it must not work from an IPv4 address its maker could not
        with pytest.raises(Exception, match="^Unauthorized$"):
            authorize(request(made.body["token"], "GET", "/work-items", ip="198.51.100.7"))
    assert made.status == 400, made.body


# 3
def test_a_zone_id_holding_a_comma_is_refused_and_breaks_nothing(api: Api, accounts: Accounts) -> None:
    member = accounts.create()
    made = api.post("/me/pats", member.token, body={"name": "x", "scope": "read", "allowedIps": ["2001:db8::%a,b/64"]})
    listing = api.get("/me/pats", member.token)
    introspected = api.post(INTROSPECT, introspector(api, accounts), body={"token": made.body.get("token", "x")})
    assert (made.status, listing.status, introspected.status) == (400, 200, 200), (made.body, listing.body)


# 4
def test_introspection_json_refuses_a_parameter_sent_twice(api: Api, accounts: Accounts) -> None:
    service, owner = introspector(api, accounts), accounts.create()
    raw = f'{{"token": {json.dumps(owner.token)}, "token": "x"}}'.encode()
    answer = api.post(INTROSPECT, service, raw=raw)
    assert (answer.status, (answer.body.get("error") or {}).get("code")) == (400, "invalid_request"), answer.body


# 5
def test_a_token_sent_as_a_form_name_is_not_echoed(api: Api, accounts: Accounts) -> None:
    service, owner = introspector(api, accounts), accounts.create()
    answer = api.post(INTROSPECT, service, raw=f"{owner.token}=".encode(), headers=FORM)
    assert answer.status == 400
    assert owner.token not in json.dumps(answer.body), answer.body


# 6
def test_a_run_tokens_answer_says_the_ranges_it_is_held_to(
    api: Api, accounts: Accounts, gateway_identity: Identity
) -> None:
    member = accounts.create()
    office = api.post("/me/pats", member.token, body={"name": "office", "scope": "read_write", "allowedIps": OFFICE})
    gateway_identity("203.0.113.5")
    run = api.post("/workflows/agent-run-tokens", office.body["token"], body={"agentId": "a"}).body["token"]
    me = api.get("/me", run)
    assert me.status == 200, me.body
    assert me.body["token"]["allowedIps"] == OFFICE, me.body["token"]  # [] says: any address


# 7
