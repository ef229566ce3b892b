"""DynamoDB faults (throttling, timeouts, 500s) injected under the authorizer and the routes:
the request is refused with a clean JSON 503/500, never allowed, and a retry afterwards works."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope
from chalicelib.storage import Store

from .conftest import Accounts, Api, FrozenClock

FAULTS: dict[str, Callable[[str], Exception]] = {
    "throttled": lambda op: ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, op
    ),
    "timeout": lambda op: ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
    "server error": lambda op: ClientError({"Error": {"Code": "InternalServerError", "Message": "oops"}}, op),
}


class FaultInjector:
    """Makes chosen DynamoDB operations of the store's client fail until cleared."""

    def __init__(self, client: Any) -> None:
        self.failing: dict[str, Callable[[str], Exception]] = {}
        self.injected = 0
        client.meta.events.register("before-call.dynamodb.*", self._maybe_fail)

    def _maybe_fail(self, model: Any, **_: Any) -> None:
        if model.name in self.failing:
            self.injected += 1
            raise self.failing[model.name](model.name)

    def fail(self, operation: str, fault: Callable[[str], Exception]) -> None:
        self.failing[operation] = fault

    def clear(self) -> None:
        self.failing.clear()


@pytest.fixture
def faults(store_client: Any) -> FaultInjector:
    return FaultInjector(store_client)


def scenario(api: Api, accounts: Accounts, name: str) -> tuple[str, Callable[[], Any], int]:
    """(operation to break, the request, its status when healthy)."""
    admin, member = accounts.admin(), accounts.create()
    if name == "authorize":
        return "BatchGetItem", lambda: api.get("/me", member.token), 200
    if name == "create token":
        return ("TransactWriteItems",
                lambda: api.post("/me/pats", member.token, body={"name": "x", "scope": "read_write"}), 201)
    if name == "list tokens":
        return "Query", lambda: api.get("/me/pats", member.token), 200
    if name == "delete token":
        return "UpdateItem", lambda: api.delete(f"/me/pats/{member.token_id}", admin.token), 404
    if name == "create invite":
        return "PutItem", lambda: api.post("/admin/invites", admin.token, body={"email": "n@example.com"}), 201
    if name == "claim invite":
        token = api.post("/admin/invites", admin.token, body={"email": "c@example.com"}).body["token"]
        return "TransactWriteItems", lambda: api.post("/auth/invites/claim", body={"token": token}), 201
    if name == "read invite":
        token = api.post("/admin/invites", admin.token, body={"email": "r@example.com"}).body["token"]
        return "BatchGetItem", lambda: api.post("/auth/invites/claim", body={"token": token}), 201
    if name == "update user":
        return ("TransactWriteItems",
                lambda: api.patch(f"/admin/users/{member.user.id}", admin.token, body={"role": "admin"}), 200)
    if name == "list users":
        return "Query", lambda: api.get("/admin/users", admin.token), 200
    raise AssertionError(name)


SCENARIOS = ["authorize", "create token", "list tokens", "delete token", "create invite", "claim invite",
             "read invite", "update user", "list users"]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_dynamodb_fault_is_a_clean_503_and_a_retry_succeeds(
    api: Api, accounts: Accounts, faults: FaultInjector, name: str, fault: str
) -> None:
    operation, request, healthy_status = scenario(api, accounts, name)
    faults.fail(operation, FAULTS[fault])
    refused = request()
    assert faults.injected > 0
    assert refused.status == 503, refused.body
    assert refused.body == {"error": {"code": "service_unavailable",
                                      "message": "The service is briefly unavailable; retry the request."}}
    assert refused.headers["Retry-After"] == "1"
    faults.clear()
    assert request().status == healthy_status


def test_a_failed_create_writes_nothing(api: Api, accounts: Accounts, faults: FaultInjector) -> None:
    member = accounts.create()
    faults.fail("TransactWriteItems", FAULTS["throttled"])
    assert api.post("/me/pats", member.token, body={"name": "ghost", "scope": "read_write"}).status == 503
    faults.clear()
    assert [item["name"] for item in api.get("/me/pats", member.token).body["items"]] == ["setup"]


def test_a_failed_claim_creates_no_user_and_no_token(api: Api, accounts: Accounts, faults: FaultInjector) -> None:
    admin = accounts.admin()
    token = api.post("/admin/invites", admin.token, body={"email": "c@example.com"}).body["token"]
    faults.fail("TransactWriteItems", FAULTS["server error"])
    assert api.post("/auth/invites/claim", body={"token": token}).status == 503
    faults.clear()
    assert "c@example.com" not in str(api.get("/admin/users", admin.token).body)
    assert len(api.get("/admin/invites", admin.token).body["items"]) == 1


def test_telling_an_owner_of_a_refusal_may_fail_without_changing_the_refusal(
    api: Api, accounts: Accounts, faults: FaultInjector, clock: FrozenClock
) -> None:
    """A refusal is still a 401 when its security event cannot be written (an IAM slip, say)."""
    owner = accounts.create()
    assert api.post("/me/pats/self/rotate", owner.token, body={"graceSeconds": 60}).status == 201
    clock.advance(seconds=61)
    faults.fail("TransactWriteItems", lambda op: ClientError({"Error": {"Code": "AccessDeniedException",
                                                                       "Message": "not allowed"}}, op))
    refused = api.get("/me", owner.token)
    assert (refused.status, refused.error_code) == (401, "invalid_token")
    assert faults.injected == 1


def test_recording_last_use_may_fail_without_refusing_the_request(
    api: Api, accounts: Accounts, faults: FaultInjector
) -> None:
    member = accounts.create()
    faults.fail("UpdateItem", FAULTS["throttled"])
    assert api.get("/me", member.token).status == 200
    assert faults.injected == 1


def test_an_unexpected_dynamodb_error_is_a_clean_500_and_never_allows(
    api: Api, accounts: Accounts, faults: FaultInjector
) -> None:
    member = accounts.create()
    faults.fail("TransactWriteItems",
                lambda op: ClientError({"Error": {"Code": "ValidationException", "Message": "?"}}, op))
    response = api.post("/me/pats", member.token, body={"name": "x", "scope": "read_write"})
    assert response.status == 500
    assert response.body["error"]["code"] == "internal_error"
    assert "Traceback" not in str(response.body) and "ValidationException" not in str(response.body)


def test_an_unexpected_dynamodb_error_in_the_authorizer_fails_closed_at_the_gateway(
    api: Api, accounts: Accounts, faults: FaultInjector
) -> None:
    member = accounts.create()
    faults.fail("BatchGetItem", lambda op: ClientError({"Error": {"Code": "ValidationException", "Message": "?"}}, op))
    response = api.get("/me", member.token)
    # an authorizer that fails is API Gateway's AUTHORIZER_CONFIGURATION_ERROR: the route never runs
    assert (response.status, response.body["error"]["code"]) == (503, "service_unavailable")
    assert "Traceback" not in str(response.body) and "ValidationException" not in str(response.body)


def test_a_rotation_that_committed_answers_201_even_if_ending_the_old_window_is_throttled(
    api: Api, accounts: Accounts, faults: FaultInjector
) -> None:
    """Ending the predecessor's window is best effort, after the rotation's transaction: a 503
    then would lose the successor's value, shown only in this answer."""
    member = accounts.create()
    second = api.post("/me/pats/self/rotate", member.token, body={"graceSeconds": 3600}).body
    api.get("/me", second["token"])  # its first use is recorded now, not during the rotation below
    faults.fail("UpdateItem", FAULTS["throttled"])
    third = api.post("/me/pats/self/rotate", second["token"])
    faults.clear()
    assert third.status == 201 and api.get("/me", third.body["token"]).status == 200


def test_a_throttled_policy_change_is_a_clean_503(api: Api, accounts: Accounts, faults: FaultInjector) -> None:
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=datetime(2026, 11, 25, tzinfo=UTC))
    faults.fail("PutItem", FAULTS["throttled"])
    response = api.request("PUT", "/admin/settings/token-policy", admin.token, body={
        "maxLifetimeDays": 30, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
        "refuseReadWritePreset": False})
    assert (response.status, response.error_code) == (503, "service_unavailable")


def test_a_failed_use_record_logs_why(store: Store, caplog: pytest.LogCaptureFixture,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def throttled(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                          "UpdateItem")
    monkeypatch.setattr(store.tokens._table.client, "update_item", throttled)
    with caplog.at_level(logging.WARNING):
        now = datetime(2026, 12, 1, tzinfo=UTC)
        store.tokens.record_use("usr_x", "pat_x", now, "192.0.2.1", None, stale_before=now - timedelta(minutes=5),
                                recent_before=now - timedelta(minutes=1))
    assert "ProvisionedThroughputExceededException" in caplog.text
