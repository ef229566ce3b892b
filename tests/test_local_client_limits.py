"""`make run` applies the deployed WAF's per-client limits to the public operations: a client
flooding them gets the WebACL's own 429, and every other address is still served."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from chalice.config import Config

import app as app_module
from chalicelib.model.accounts import Role
from chalicelib.model.invites import operator
from chalicelib.services import invites
from chalicelib.storage import Store
from openindex_ops.gateway import CLIENT_LIMIT, client_limits_web_acl, public_actions
from openindex_ops.local_gateway import ClientLimiter, GatewayWithResponses, client_limited_response

from .conftest import APP_URL, Accounts, Api, FrozenClock
from .local_server import free_port, make_run, stop

JSON = {"Content-Type": "application/json"}
MALFORMED = b'{"token": '
FLOODER, SOMEONE_ELSE = "198.51.100.7", "203.0.113.9"


class Ticks:
    """A monotonic clock in seconds that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gateway(limiter: ClientLimiter, client: str) -> GatewayWithResponses:
    """The app as `make run` serves it to ``client`` (the api fixture points it at the test table)."""
    return GatewayWithResponses(app_module.app, Config.create(app_name="openindex-auth"), limiter, client)


def statuses(answers: list[dict[str, Any]]) -> list[int]:
    return [answer["statusCode"] for answer in answers]


def test_a_client_flooding_the_public_operations_is_refused_while_another_address_is_served(
    api: Api, store: Store, clock: FrozenClock, accounts: Accounts,
) -> None:
    ticks = Ticks()
    limiter = ClientLimiter(public_actions(), clock=ticks)
    flooder, other = gateway(limiter, FLOODER), gateway(limiter, SOMEONE_ELSE)
    over = 5
    for path in ("/auth/invites/claim", "/credentials/revoke"):
        answers = [flooder.handle_request("POST", path, JSON, MALFORMED) for _ in range(CLIENT_LIMIT.requests + over)]
        assert statuses(answers) == [400] * CLIENT_LIMIT.requests + [429] * over
        assert answers[-1] == client_limited_response()
    assert statuses([flooder.handle_request("GET", "/health", {}, None)]) == [200]  # other routes: no limit

    invite = invites.create_invite(store, email="invitee@example.com", role=Role.MEMBER, expires_at=None,
                                   maker=operator("test"), app_url=APP_URL, now=clock.now())
    claimed = other.handle_request("POST", "/auth/invites/claim", JSON, json.dumps({"token": invite.token}).encode())
    assert claimed["statusCode"] == 201, claimed["body"]
    leaked = accounts.create()
    reported = other.handle_request("POST", "/credentials/revoke", JSON,
                                    json.dumps({"credentials": [leaked.token]}).encode())
    assert reported["statusCode"] == 202, reported["body"]
    assert api.get("/me", leaked.token).status == 401

    # Refused requests count too, as in WAF: a flooder is served again only after a quiet window.
    ticks.now += CLIENT_LIMIT.window_seconds - 1
    assert statuses([flooder.handle_request("POST", "/auth/invites/claim", JSON, MALFORMED)]) == [429]
    ticks.now += CLIENT_LIMIT.window_seconds
    assert statuses([flooder.handle_request("POST", "/auth/invites/claim", JSON, MALFORMED)]) == [400]


def test_the_limit_counts_the_operation_whatever_prefix_or_spelling_its_path_has() -> None:
    ticks = Ticks()
    limiter = ClientLimiter(public_actions(), clock=ticks)
    spellings = ["/auth/invites/claim", "/api/auth/invites/claim", "/auth//invites/./claim/", "/auth/invites/%63laim",
                 "/auth/invites/claim?again=1"]
    allowed = [limiter.allows(FLOODER, "POST", spellings[n % len(spellings)]) for n in range(CLIENT_LIMIT.requests + 1)]
    assert allowed == [True] * CLIENT_LIMIT.requests + [False]
    assert limiter.allows(FLOODER, "POST", "/credentials/revoke")  # each operation has its own count
    assert limiter.allows(SOMEONE_ELSE, "POST", "/auth/invites/claim")


def test_the_local_429_is_the_deployed_webacls_custom_response() -> None:
    local = client_limited_response()
    web_acl = client_limits_web_acl("openindex-auth-test-client-limits")
    for rule in web_acl["Rules"]:
        answer = rule["Action"]["Block"]["CustomResponse"]
        body = web_acl["CustomResponseBodies"][answer["CustomResponseBodyKey"]]
        assert answer["ResponseCode"] == local["statusCode"] == 429
        assert {header["Name"]: header["Value"] for header in answer["ResponseHeaders"]} | {
            "Content-Type": "application/json"} == local["headers"]
        assert (body["ContentType"], body["Content"]) == ("APPLICATION_JSON", local["body"])
    assert json.loads(local["body"])["error"]["code"] == "too_many_requests"
    assert local["headers"]["Retry-After"] == str(CLIENT_LIMIT.window_seconds)


@pytest.mark.e2e
def test_make_run_limits_each_source_address_by_default(tmp_path: Path) -> None:
    stack = make_run(free_port(), tmp_path / "state")
    try:
        # The whole of 127.0.0.0/8 is this machine: 127.0.0.2 is another client address.
        elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=stack.base_url, timeout=10) as first, \
                httpx.Client(base_url=stack.base_url, timeout=10, transport=elsewhere) as second:
            flood = [first.post("/auth/invites/claim", content=MALFORMED, headers=JSON)
                     for _ in range(CLIENT_LIMIT.requests + 1)]
            assert [answer.status_code for answer in flood] == [400] * CLIENT_LIMIT.requests + [429]
            refused, expected = flood[-1], client_limited_response()
            assert refused.text == expected["body"]
            sent = {name.title(): value for name, value in refused.headers.items()}
            assert expected["headers"].items() <= sent.items()
            assert second.post("/auth/invites/claim", content=MALFORMED, headers=JSON).status_code == 400
    finally:
        stop(stack)
