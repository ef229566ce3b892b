"""Expiry notices locally: `make expiry-notices` runs the daily notices now against the running
`make run`, with the bus a file (docs/local.md); tokens saved before the expiry index are put into
it (`make run` on restore, `make index-expiring` for a deployed stage)."""
from __future__ import annotations

import json
import stat
import subprocess
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.model.kinds import Scope
from chalicelib.storage import Store
from chalicelib.timeutil import to_iso
from openindex_ops.expiry_index import index_expiring_pats

from .conftest import TABLE, Accounts, Api, FrozenClock, issue_pat
from .local_server import ROOT, call, free_port, make_run, stop


def expiry_notices(state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", "expiry-notices", f"STATE_DIR={state}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def in_days(days: int) -> str:
    """Noon UTC, ``days`` UTC days from today: that many days ahead at any time of day."""
    return to_iso(datetime.combine(datetime.now(UTC).date() + timedelta(days=days), time(12), UTC))


def unindexed(state: Path) -> None:
    """Make the saved state look as it did before the expiry index: no token item has its keys."""
    saved = json.loads((state / "state.json").read_text())
    for item in saved["items"]:
        if item["sk"]["S"].startswith("TOKEN#"):
            item.pop("expiresOn", None)
    (state / "state.json").write_text(json.dumps(saved))


@pytest.mark.e2e
def test_make_expiry_notices_tells_owners_and_appends_the_bus_events_to_a_file(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert f"no make run is using {state}; start it (make run STATE_DIR={state})" in expiry_notices(state).stderr
    stack = make_run(free_port(), state)
    try:
        for name, days in (("ci-deploy", 7), ("laptop", 1), ("later", 9)):
            assert call(stack, "POST", "/me/pats", stack.token,
                        {"name": name, "scope": "read_write", "expiresAt": in_days(days)})[0] == 201
        (state / "events.jsonl").mkdir()  # cannot be written: nobody is told, in one line
        refused = expiry_notices(state)
        assert "cannot write" in refused.stderr and "were not given" in refused.stderr
        assert "Traceback" not in refused.stderr + refused.stdout and refused.returncode != 0
        (state / "events.jsonl").rmdir()
        ran = expiry_notices(state)
        assert ran.returncode == 0, ran.stderr
        told = [line for line in ran.stdout.splitlines() if line.startswith("told ")]
        assert sorted(line.rpartition(" (")[2] for line in told) == ["the 1-day notice)", "the 7-day notice)"]
        assert f"2 Token Expiring events appended to {state / 'events.jsonl'}" in ran.stdout
        events = [json.loads(line) for line in (state / "events.jsonl").read_text().splitlines()]
        assert stat.S_IMODE((state / "events.jsonl").stat().st_mode) == 0o600
        assert {(event["source"], event["detail-type"], event["detail"]["tokenName"]) for event in events} == {
            ("openindex.auth", "Token Expiring", "ci-deploy"), ("openindex.auth", "Token Expiring", "laptop")}
        logged = call(stack, "GET", "/me/security-events", stack.token)[1]["items"]
        assert sorted(event["tokenName"] for event in logged if event["type"] == "token_expiring") == [
            "ci-deploy", "laptop"]

        again = expiry_notices(state)
        assert "no notice is due" in again.stdout and "nothing written to" in again.stdout
        assert len((state / "events.jsonl").read_text().splitlines()) == 2
        assert call(stack, "POST", "/me/pats", stack.token,
                    {"name": "saved-before", "scope": "read_write", "expiresAt": in_days(7)})[0] == 201
    finally:
        stop(stack)
    assert "no make run is using" in expiry_notices(state).stderr  # the stack's endpoint went with it

    unindexed(state)
    restarted = make_run(free_port(), state)
    try:
        assert any("(4 tokens put into the expiry index)" in line for line in restarted.startup)
        ran = expiry_notices(state)
        assert [line.split('"')[1] for line in ran.stdout.splitlines() if line.startswith("told ")] == ["saved-before"]
    finally:
        stop(restarted)


def test_the_migration_indexes_the_expiring_pats_stored_before_the_index_and_nothing_else(
    api: Api, accounts: Accounts, store: Store, dynamodb: Any, clock: FrozenClock
) -> None:
    owner = accounts.create()
    expiring = issue_pat(store, user_id=owner.user.id, name="expiring", scope=Scope.READ_WRITE,
                         expires_at=clock.now() + timedelta(days=7), now=clock.now())
    rotated = api.post("/me/pats", owner.token, body={"name": "rotated", "scope": "read_write",
                                                      "expiresAt": to_iso(clock.now() + timedelta(days=7))}).body
    assert api.post(f"/me/pats/{rotated['id']}/rotate", owner.token).status == 201
    deleted = api.post("/me/pats", owner.token, body={"name": "deleted", "scope": "read_write",
                                                      "expiresAt": to_iso(clock.now() + timedelta(days=7))}).body
    assert api.delete(f"/me/pats/{deleted['id']}", owner.token).status == 204
    accounts.run_token(api, owner)
    for item in dynamodb.scan(TableName=TABLE)["Items"]:  # as stored before the index
        if item["sk"]["S"].startswith("TOKEN#"):
            dynamodb.update_item(TableName=TABLE, Key={"pk": item["pk"], "sk": item["sk"]},
                                 UpdateExpression="REMOVE expiresOn")
    week = (clock.now() + timedelta(days=7)).date()
    assert store.tokens.expiring([week])[0] == []

    assert index_expiring_pats(dynamodb, TABLE) == 2  # "expiring", and the rotation's successor
    found = store.tokens.expiring([week])[0]
    assert sorted(token.name for token in found) == ["expiring", "rotated"]
    assert expiring.record.id in {token.id for token in found}
    assert index_expiring_pats(dynamodb, TABLE) == 0  # once is enough; again changes nothing
