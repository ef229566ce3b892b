"""Expiry notices hold through what happens to a token between its notices and during a run:
narrowing, rotation, deactivation, and a catch-up (a run gives every notice that has fallen due
and was not given, docs/api.md "Expiry notices"). From an attacker's pass: each test failed before
its fix."""
from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import pytest

from chalicelib.services.expiry_notices import announce_expiring_tokens
from chalicelib.storage import Store
from openindex_ops import local_notices

from .conftest import Account, Accounts, Api, BusReader, FrozenClock


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def create(api: Api, owner: Account, name: str, expires_at: str) -> dict[str, Any]:
    response = api.post("/me/pats", owner.token, body={"name": name, "scope": "read_write", "expiresAt": expires_at})
    assert response.status == 201, response.body
    return dict(response.body)


def run(store: Store, bus_reader: BusReader, clock: FrozenClock) -> list[tuple[str, int]]:
    return sorted((notice.token.name, notice.days_left)
                  for notice in announce_expiring_tokens(store, bus_reader.bus, clock.now()))


def on_the_bus(bus_reader: BusReader) -> list[tuple[str, str, str]]:
    """(noticeId, expiresAt, email) of every Token Expiring event the mail service received."""
    return [(event["detail"]["noticeId"], event["detail"]["expiresAt"], event["detail"]["email"])
            for event in bus_reader.received()]


def told_a_week_ahead(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> tuple[Account, dict[str, Any]]:
    """A PAT made 2026-11-20 to expire 2026-12-01 18:30, given its week-ahead notice on 2026-11-24 at 09:00."""
    owner = accounts.create()
    clock.current = at("2026-11-20T12:00:00Z")
    token = create(api, owner, "deploy-bot", "2026-12-01T18:30:00Z")
    clock.current = at("2026-11-24T09:00:00Z")
    assert run(store, bus_reader, clock) == [("deploy-bot", 7)]
    return owner, token


def test_a_token_narrowed_to_expire_tomorrow_after_its_week_ahead_notice_still_gets_the_day_before_one(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    """The week-ahead notice said 2026-12-01; the owner's automation narrows the token to
    2026-11-25 20:00. The day-before notice of that expiry falls due on 2026-11-24, the token
    existed then, and it was never given; the told time of the *other* expiry's week-ahead notice
    (2026-11-24 09:00, after that day began) makes the run take it for given, so no notice with the
    real time ever reaches the mail service."""
    owner, token = told_a_week_ahead(api, accounts, store, bus_reader, clock)
    clock.current = at("2026-11-24T10:00:00Z")
    assert api.patch(f"/me/pats/{token['id']}", owner.token,
                     body={"expiresAt": "2026-11-25T20:00:00Z"}).status == 200
    clock.current = at("2026-11-25T09:00:00Z")
    assert run(store, bus_reader, clock) == [("deploy-bot", 0)]
    assert [expires for _, expires, _ in on_the_bus(bus_reader)] == ["2026-12-01T18:30:00Z", "2026-11-25T20:00:00Z"]


def test_a_token_narrowed_after_its_week_ahead_notice_gets_the_week_ahead_notice_of_its_new_expiry(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    """Told on 2026-11-24 that it expires 2026-12-01, narrowed on 2026-11-25 to 2026-11-28: the
    notice ``<id>/2026-11-28/7`` fell due (2026-11-21) while the token existed and was never given,
    yet the run of 2026-11-26 skips it; the mail service believes 2026-12-01 until the day before."""
    owner, token = told_a_week_ahead(api, accounts, store, bus_reader, clock)
    clock.current = at("2026-11-25T10:00:00Z")
    assert api.patch(f"/me/pats/{token['id']}", owner.token,
                     body={"expiresAt": "2026-11-28T12:00:00Z"}).status == 200
    clock.current = at("2026-11-26T09:00:00Z")
    assert run(store, bus_reader, clock) == [("deploy-bot", 2)]
    assert [notice_id for notice_id, _, _ in on_the_bus(bus_reader)] == [
        f"{token['id']}/2026-12-01T18:30:00Z/7", f"{token['id']}/2026-11-28T12:00:00Z/7"]


def test_the_successor_of_a_rotation_on_the_notice_day_is_not_told_the_same_notice_again(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock
) -> None:
    """Told at 09:00 that "deploy-bot" expires 2026-12-01 18:30; rotated at 10:00 into a successor
    with that same expiry (as a rotation capped by notAfter does). The successor was made after
    the week-ahead notice fell due, yet the next day's run tells the owner the same thing again
    under another noticeId (the reader cannot drop it)."""
    owner, old = told_a_week_ahead(api, accounts, store, bus_reader, clock)
    clock.current = at("2026-11-24T10:00:00Z")
    rotated = api.post(f"/me/pats/{old['id']}/rotate", owner.token,
                       body={"expiresAt": "2026-12-01T18:30:00Z", "graceSeconds": 0})
    assert rotated.status == 201, rotated.body
    clock.current = at("2026-11-25T09:00:00Z")
    assert run(store, bus_reader, clock) == []


def test_a_narrowing_between_the_bus_and_the_log_to_another_time_that_day_gets_a_new_notice_id(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/api.md: a narrowing that lands between the bus and the log "leaves the bus event with the
    old time; the next day's run then gives the notice the new time calls for". When the new time is
    on the same UTC day, that notice has the same noticeId as the stale one, which the reader is told
    to drop as a repeat: the corrected time never reaches the mail."""
    owner = accounts.create()
    clock.current = at("2026-11-20T12:00:00Z")
    token = create(api, owner, "deploy-bot", "2026-12-01T18:30:00Z")
    clock.current = at("2026-11-24T09:00:00Z")
    publish = bus_reader.bus.publish
    narrowed: list[bool] = []

    def narrowed_after_the_bus(events: Any) -> Any:
        refused = publish(events)
        if not narrowed:
            narrowed.append(True)
            assert api.patch(f"/me/pats/{token['id']}", owner.token,
                             body={"expiresAt": "2026-12-01T06:00:00Z"}).status == 200
        return refused

    monkeypatch.setattr(bus_reader.bus, "publish", narrowed_after_the_bus)
    assert run(store, bus_reader, clock) == []
    clock.current = at("2026-11-25T09:00:00Z")
    assert run(store, bus_reader, clock) == [("deploy-bot", 6)]
    (first_id, first_time, _), (second_id, second_time, _) = on_the_bus(bus_reader)
    assert (first_time, second_time) == ("2026-12-01T18:30:00Z", "2026-12-01T06:00:00Z")
    assert first_id != second_id  # else the mail service drops the correction as a repeat


def test_a_deactivation_during_a_run_does_not_log_a_notice_for_a_token_that_no_longer_works(
    api: Api, accounts: Accounts, store: Store, bus_reader: BusReader, clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/api.md: notices of a PAT whose account is deactivated are never given. The run judges
    the account once, from its batch read; the notice's transaction checks the token only, so an
    account deactivated (or revoked-all) meanwhile still gets "expires at …, rotate it" logged
    (and its address put on the bus)."""
    owner, admin = accounts.create(), accounts.admin()
    create(api, owner, "deploy-bot", "2026-12-01T18:30:00Z")
    read = store.tokens.expiring

    def deactivated_meanwhile(days: Any) -> Any:
        found = read(days)
        assert api.patch(f"/admin/users/{owner.user.id}", admin.token, body={"status": "deactivated"}).status == 200
        return found

    monkeypatch.setattr(store.tokens, "expiring", deactivated_meanwhile)
    run(store, bus_reader, clock)
    logged, _ = store.events.page(owner.user.id, 50, None, clock.now())
    assert [event.type.value for event in logged if event.type.value == "token_expiring"] == []


def test_make_expiry_notices_names_the_notice_it_gave_not_the_days_left(
    api: Api, accounts: Accounts, store: Store, clock: FrozenClock, tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """There are two notices, the 7-day (week-ahead) and the 1-day (day-before) one, and docs/local.md
    shows them so. A catch-up or a token expiring later today is reported as "the 6-day notice" or
    "the 0-day notice", notices that do not exist."""
    owner = accounts.create()
    clock.current = at("2026-11-20T12:00:00Z")
    create(api, owner, "laptop", "2026-11-25T20:00:00Z")
    create(api, owner, "deploy-bot", "2026-12-01T18:30:00Z")
    clock.current = at("2026-11-25T09:00:00Z")  # yesterday's run failed altogether
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
                 "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.setenv(name, os.environ.get(name, "unset"))  # restored after main's changes
    monkeypatch.setattr(local_notices.StateDir, "running_endpoint", lambda _: "http://127.0.0.1:1")
    monkeypatch.setattr(local_notices.Store, "connect", lambda _: store)
    monkeypatch.setattr(local_notices, "utcnow", clock.now)
    assert local_notices.main(["--state-dir", str(tmp_path)]) == 0
    told = [line.rpartition(" (")[2] for line in capsys.readouterr().out.splitlines() if line.startswith("told ")]
    assert sorted(told) == ["the 1-day notice)", "the 7-day notice)"]
