"""Expiry notices: each day, every PAT that expires in 7 days and in 1 day is announced to its
owner (a ``token_expiring`` security event) and on EventBridge's default bus (``Token
Expiring``, for the mail service), once, found by its expiry day and never by a Scan."""
from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

import app as app_module
from chalicelib.messaging.bus import BusEvent
from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope
from chalicelib.services.expiry_notices import NoticesNotDelivered, announce_expiring_tokens
from chalicelib.storage import Store
from chalicelib.storage.table import Table

from .conftest import TABLE, Account, Accounts, Api, BusReader, DynamoCalls, FrozenClock, issue_pat

# The clock starts at 2026-11-24 12:00 UTC: a token expiring on 2026-12-01 is 7 days off, one on
# 2026-11-25 is 1 day off.
IN_7_DAYS = "2026-12-01T18:30:00Z"
IN_1_DAY = "2026-11-25T03:00:00Z"
# What EventBridge's schedule hands the function.
SCHEDULED_EVENT = {
    "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
    "source": "aws.events", "account": "123456789012", "time": "2026-11-24T09:00:00Z", "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/openindex-auth-dev-announce_expiring_tokens"],
    "detail": {},
}


def create(api: Api, owner: Account, name: str, expires_at: str | None, scope: str = "read_write") -> dict[str, Any]:
    response = api.post("/me/pats", owner.token, body={"name": name, "scope": scope, "expiresAt": expires_at})
    assert response.status == 201, response.body
    return dict(response.body)


def told(api: Api, owner: Account) -> list[tuple[str, str]]:
    """(token name, detail) of each token_expiring event in the owner's security log, oldest first."""
    events = api.get("/me/security-events", owner.token).body["items"]
    return [(event["tokenName"], event["detail"]) for event in reversed(events) if event["type"] == "token_expiring"]


def announced(store: Store, bus_reader: BusReader, clock: FrozenClock) -> list[tuple[str, int]]:
    return sorted((notice.token.name, notice.days_left)
                  for notice in announce_expiring_tokens(store, bus_reader.bus, clock.now()))


def test_tokens_expiring_in_7_days_and_in_1_day_are_announced_on_the_bus_and_to_their_owner(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    owner = accounts.create()
    week = create(api, owner, "deploy-bot", IN_7_DAYS)
    create(api, owner, "laptop", IN_1_DAY)
    create(api, owner, "in-3-days", "2026-11-27T12:00:00Z")
    create(api, owner, "in-8-days", "2026-12-02T00:00:00Z")
    create(api, owner, "never", None)
    accounts.run_token(api, owner)

    assert announced(store, bus_reader, clock) == [("deploy-bot", 7), ("laptop", 1)]
    delivered = {event["detail"]["tokenName"]: event for event in bus_reader.received()}
    assert set(delivered) == {"deploy-bot", "laptop"}
    event = delivered["deploy-bot"]
    assert (event["source"], event["detail-type"]) == ("openindex.auth", "Token Expiring")
    assert event["detail"] == {
        "noticeId": f"{week['id']}/{IN_7_DAYS}/7", "userId": owner.user.id, "email": owner.user.email,
        "tokenId": week["id"],
        "tokenName": "deploy-bot", "expiresAt": IN_7_DAYS, "daysLeft": 7,
    }  # ids, the owner's address, name and time: never the value
    advice = ("Rotate it before then, or whatever uses it stops working (a rotation can give the old token a "
              "grace period while you switch).")
    assert sorted(told(api, owner)) == [
        ("deploy-bot", f"\"deploy-bot\" expires at {IN_7_DAYS}. {advice}"),
        ("laptop", f"\"laptop\" expires at {IN_1_DAY}. {advice}"),
    ]


def test_a_second_run_the_same_day_announces_nothing_again(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    owner = accounts.create()
    create(api, owner, "deploy-bot", IN_7_DAYS)
    assert announced(store, bus_reader, clock) == [("deploy-bot", 7)]
    clock.advance(hours=11)  # 23:00, the same UTC day
    assert announced(store, bus_reader, clock) == []
    assert len(bus_reader.received()) == 1
    assert len(told(api, owner)) == 1


def test_a_token_is_told_a_week_ahead_and_again_the_day_before(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    owner = accounts.create()
    create(api, owner, "deploy-bot", IN_7_DAYS)
    days = []
    for _ in range(8):
        days += [days_left for _, days_left in announced(store, bus_reader, clock)]
        clock.advance(days=1)
    assert days == [7, 1]
    assert [event["detail"]["daysLeft"] for event in bus_reader.received()] == [7, 1]
    assert [name for name, _ in told(api, owner)] == ["deploy-bot", "deploy-bot"]


def test_tokens_that_no_longer_work_are_not_announced(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    deleted_owner, revoked_owner, inactive, demoted = (accounts.create(), accounts.create(), accounts.create(),
                                                       accounts.create(Role.ADMIN, Scope.ADMIN))
    admin = accounts.admin()
    api.delete(f"/me/pats/{create(api, deleted_owner, 'deleted', IN_7_DAYS)['id']}", deleted_owner.token)
    create(api, revoked_owner, "revoked-all", IN_7_DAYS)
    assert api.post("/me/pats/revoke-all", revoked_owner.token).status == 204  # its item lasts until swept
    issue_pat(store, user_id=inactive.user.id, name="deactivated", scope=Scope.READ_WRITE,
              expires_at=datetime(2026, 12, 1, 9, tzinfo=clock.now().tzinfo), now=clock.now())
    assert api.patch(f"/admin/users/{inactive.user.id}", admin.token, body={"status": "deactivated"}).status == 200
    create(api, demoted, "demoted-admin", IN_7_DAYS, scope="admin")
    assert api.patch(f"/admin/users/{demoted.user.id}", admin.token, body={"role": "member"}).status == 200

    assert announced(store, bus_reader, clock) == []
    assert bus_reader.received() == []


def test_a_rotated_token_is_not_announced_but_its_successor_is(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    owner = accounts.create()
    old = create(api, owner, "deploy-bot", IN_7_DAYS)
    clock.advance(hours=1)
    rotated = api.post(f"/me/pats/{old['id']}/rotate", owner.token, body={"graceSeconds": 86400})
    assert rotated.status == 201, rotated.body
    # the old one is cut to its window (tomorrow) and left out; the successor has its lifetime
    assert rotated.body["expiresAt"] == "2026-12-01T19:30:00Z"
    assert announced(store, bus_reader, clock) == [("deploy-bot", 7)]
    assert [event["detail"]["tokenId"] for event in bus_reader.received()] == [rotated.body["id"]]


def test_a_token_narrowed_to_an_earlier_expiry_is_announced_by_its_new_day_only(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    owner = accounts.create()
    token = create(api, owner, "deploy-bot", "2026-12-20T00:00:00Z")
    assert api.patch(f"/me/pats/{token['id']}", owner.token, body={"expiresAt": IN_7_DAYS}).status == 200
    assert announced(store, bus_reader, clock) == [("deploy-bot", 7)]
    clock.current = datetime.fromisoformat("2026-12-13T10:00:00Z")  # the old expiry's week-ahead day
    assert announced(store, bus_reader, clock) == []


def test_a_token_narrowed_between_the_lookup_and_the_notice_is_not_told_a_stale_expiry(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = accounts.create()
    token = create(api, owner, "deploy-bot", IN_7_DAYS)
    read = store.tokens.expiring

    def narrowed_meanwhile(days: Any) -> Any:
        found = read(days)
        earlier = {"expiresAt": "2026-11-30T00:00:00Z"}
        assert api.patch(f"/me/pats/{token['id']}", owner.token, body=earlier).status == 200
        return found

    monkeypatch.setattr(store.tokens, "expiring", narrowed_meanwhile)
    assert announced(store, bus_reader, clock) == []  # the bus heard of it; the log is not told a stale time
    assert told(api, owner) == []


class RefusingBus:
    """A bus that refuses the events of some tokens (a throttle on those entries)."""

    def __init__(self, refused_names: set[str]) -> None:
        self.refused_names = refused_names
        self.sent: list[BusEvent] = []

    def publish(self, events: Sequence[BusEvent]) -> list[BusEvent]:
        self.sent += events
        return [event for event in events if event.detail["tokenName"] in self.refused_names]


def test_a_notice_the_bus_refuses_fails_the_run_and_is_given_when_it_runs_again(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock
) -> None:
    owner = accounts.create()
    create(api, owner, "deploy-bot", IN_7_DAYS)
    create(api, owner, "laptop", IN_1_DAY)
    with pytest.raises(NoticesNotDelivered, match="1 of 2 expiry notices were not given"):
        announce_expiring_tokens(store, RefusingBus({"laptop"}), clock.now())
    assert [name for name, _ in told(api, owner)] == ["deploy-bot"]
    clock.advance(minutes=1)  # Lambda's retry of the failed run
    retry = RefusingBus(set())
    assert [notice.token.name for notice in announce_expiring_tokens(store, retry, clock.now())] == ["laptop"]
    assert [event.detail["tokenName"] for event in retry.sent] == ["laptop"]


def test_entries_eventbridge_refuses_in_a_batch_are_given_on_the_retry_and_only_those(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = accounts.create()
    for number in range(12):  # two PutEvents calls: 10 entries, then 2
        create(api, owner, f"t{number:02}", IN_7_DAYS)
    client = bus_reader.bus._client  # noqa: SLF001 - what EventBridge answers is under test
    put_events = client.put_events
    answers = []

    def throttling_one_entry(**kwargs: Any) -> Any:
        answer = put_events(**kwargs)
        if not answers:
            answer["Entries"][2] = {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}
        answers.append(answer)
        return answer

    monkeypatch.setattr(client, "put_events", throttling_one_entry)
    with pytest.raises(NoticesNotDelivered, match="1 of 12 expiry notices were not given"):
        announce_expiring_tokens(store, bus_reader.bus, clock.now())
    assert len(told(api, owner)) == 11
    clock.advance(minutes=1)
    assert len(announced(store, bus_reader, clock)) == 1
    assert len(told(api, owner)) == 12


def test_the_day_is_found_by_the_expiry_index_without_a_scan(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock, dynamo_calls: DynamoCalls
) -> None:
    owner = accounts.create()
    for number in range(3):
        create(api, owner, f"week-{number}", IN_7_DAYS)
    for number in range(20):
        create(api, owner, f"later-{number}", "2026-12-10T00:00:00Z")
    dynamo_calls.clear()
    assert len(announced(store, bus_reader, clock)) == 3
    assert dynamo_calls.operations == ["Query"] * 8 + ["BatchGetItem"] + ["TransactWriteItems"] * 3


def test_the_scheduled_function_announces(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = accounts.create()
    create(api, owner, "deploy-bot", IN_7_DAYS)
    monkeypatch.setattr(app_module, "get_bus", lambda: bus_reader.bus)
    app_module.announce_expiring_tokens(SCHEDULED_EVENT, None)
    assert [event["detail"]["tokenName"] for event in bus_reader.received()] == ["deploy-bot"]


def transaction_conflict() -> ClientError:
    """What DynamoDB answers a transaction that met another on the same item (a run token minted
    from the PAT at that moment, say)."""
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                        "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}]},
                       "TransactWriteItems")


def test_a_notice_whose_write_met_another_transaction_fails_the_run_and_is_given_on_the_retry(
    api: Api, accounts: Accounts, store: Store, store_client: Any, bus_reader: BusReader, clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = accounts.create()
    create(api, owner, "ci-deploy", IN_7_DAYS)
    transact = store_client.transact_write_items
    conflicts = [transaction_conflict()]

    def once_in_conflict(**kwargs: Any) -> Any:
        if conflicts:
            raise conflicts.pop()
        return transact(**kwargs)

    monkeypatch.setattr(store_client, "transact_write_items", once_in_conflict)
    with pytest.raises(NoticesNotDelivered, match="1 of 1 expiry notices were not given"):
        announce_expiring_tokens(store, bus_reader.bus, clock.now())
    assert told(api, owner) == []
    clock.advance(minutes=1)  # Lambda's retry
    assert announced(store, bus_reader, clock) == [("ci-deploy", 7)]
    assert [name for name, _ in told(api, owner)] == ["ci-deploy"]


@pytest.mark.parametrize("gone", ["deleted", "rotated", "reported leaked"])
def test_a_token_gone_after_the_index_was_read_is_not_put_on_the_bus(
    gone: str, api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = accounts.create()
    token = create(api, owner, "ci-deploy", IN_7_DAYS)
    query_all = Table.query_all

    def index_then_gone(table: Table, params: Any, **kwargs: Any) -> Any:
        """The index's keys, read just before the token went: the batch after them reads it gone."""
        keys = list(query_all(table, params, **kwargs))
        if params.get("IndexName") != "expiry":
            return iter(keys)
        if keys and gone == "deleted":
            assert api.delete(f"/me/pats/{token['id']}", owner.token).status == 204
        elif keys and gone == "rotated":
            assert api.post(f"/me/pats/{token['id']}/rotate", owner.token, body={"graceSeconds": 0}).status == 201
        elif keys:
            assert api.post("/credentials/revoke", body={"credentials": [token["token"]]}).status == 202
        return iter(keys)

    monkeypatch.setattr(Table, "query_all", index_then_gone)
    assert announced(store, bus_reader, clock) == []
    assert bus_reader.received() == []


class TimedOut(BaseException):
    """The function's time ran out: nothing after this point happens."""


def test_one_owner_with_many_tokens_cannot_hold_back_another_owners_notices(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    victim, flooder = accounts.create(), accounts.create()
    for number in range(25):
        create(api, flooder, f"spam-{number:02}", IN_1_DAY)
        create(api, flooder, f"week-spam-{number:02}", IN_7_DAYS)
    clock.advance(seconds=1)
    create(api, victim, "prod-deploy", IN_1_DAY)
    create(api, victim, "staging-deploy", IN_7_DAYS)
    client = bus_reader.bus._client  # noqa: SLF001 - the bus's calls are under test
    put_events = client.put_events
    rounds: list[list[str]] = []

    def cut_off_after_two_rounds(**kwargs: Any) -> Any:
        if len(rounds) == 2:
            raise TimedOut
        rounds.append([json.loads(entry["Detail"])["tokenName"] for entry in kwargs["Entries"]])
        return put_events(**kwargs)

    monkeypatch.setattr(client, "put_events", cut_off_after_two_rounds)
    with contextlib.suppress(TimedOut):
        announce_expiring_tokens(store, bus_reader.bus, clock.now())
    assert "prod-deploy" in rounds[0][:2]  # owners take turns
    assert all(name.startswith(("prod", "spam")) for name in rounds[0] + rounds[1])  # the day before first
    assert [name for name, _ in told(api, victim)] == ["prod-deploy"]  # each round told before the next


def test_a_token_the_token_policy_blocks_is_not_announced(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    owner = accounts.create()
    create(api, owner, "lives-a-week", IN_7_DAYS)
    admin = accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=1))
    policy = {"maxLifetimeDays": 5, "requireExpiry": False, "adminMaxLifetimeDays": None,
              "runTokenMaxSeconds": 86400, "refuseReadWritePreset": False}
    assert api.request("PUT", "/admin/settings/token-policy", admin.token, body=policy).status == 200
    assert announced(store, bus_reader, clock) == [("setup", 1)]  # the admin's own token, not lives-a-week


def test_a_day_whose_run_failed_altogether_is_caught_up_by_the_next_days_run(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    owner = accounts.create()
    create(api, owner, "deploy-bot", IN_7_DAYS)
    create(api, owner, "laptop", "2026-11-25T20:00:00Z")
    for _ in range(3):  # the run and Lambda's two retries: the bus is down all morning
        with pytest.raises(NoticesNotDelivered):
            announce_expiring_tokens(store, RefusingBus({"deploy-bot", "laptop"}), clock.now())
        clock.advance(minutes=2)
    assert told(api, owner) == []
    clock.advance(days=1)  # the next day: the week-ahead notice 6 days ahead, the day-before one on the day
    assert announced(store, bus_reader, clock) == [("deploy-bot", 6), ("laptop", 0)]
    assert sorted(event["detail"]["noticeId"].rpartition("/")[2] for event in bus_reader.received()) == ["1", "7"]
    clock.advance(days=5)  # 2026-11-30, the day before deploy-bot's expiry: its second notice, once
    assert announced(store, bus_reader, clock) == [("deploy-bot", 1)]
    assert announced(store, bus_reader, clock) == []


def test_a_notice_that_fell_due_before_the_token_was_made_is_not_given(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    owner = accounts.create()
    create(api, owner, "three-days", "2026-11-27T12:00:00Z")  # its week-ahead notice fell due on 2026-11-20
    create(api, owner, "tonight", "2026-11-24T23:00:00Z")  # made today: its day-before notice was yesterday's
    assert announced(store, bus_reader, clock) == []
    clock.advance(days=2)  # 2026-11-26: the day before three-days expires
    assert announced(store, bus_reader, clock) == [("three-days", 1)]


def index_day(dynamodb: Any, token_id: str) -> str | None:
    """The day the expiry index has a token under, read from the table as it stands."""
    items = dynamodb.scan(TableName=TABLE, FilterExpression="id = :id",
                          ExpressionAttributeValues={":id": {"S": token_id}})["Items"]
    return items[0].get("expiresOn", {}).get("S") if items else None


def test_the_expiry_index_follows_creation_narrowing_rotation_and_deletion(
    api: Api, accounts: Accounts, dynamodb: Any
) -> None:
    owner = accounts.create()
    token = create(api, owner, "deploy-bot", "2026-12-20T23:30:00Z")
    assert index_day(dynamodb, token["id"]) == "2026-12-20"
    assert api.patch(f"/me/pats/{token['id']}", owner.token, body={"expiresAt": IN_7_DAYS}).status == 200
    assert index_day(dynamodb, token["id"]) == "2026-12-01"
    successor = api.post(f"/me/pats/{token['id']}/rotate", owner.token).body
    assert (index_day(dynamodb, token["id"]), index_day(dynamodb, successor["id"])) == (None, "2026-12-01")
    assert api.delete(f"/me/pats/{successor['id']}", owner.token).status == 204
    assert index_day(dynamodb, successor["id"]) is None
    assert index_day(dynamodb, create(api, owner, "never", None)["id"]) is None
    assert index_day(dynamodb, accounts.run_token(api, owner)["id"]) is None
