"""`oi settings personal tokens list` shows which tokens do not work and why: blocked by the
token policy, or rotated past their grace window."""
from __future__ import annotations

import json

import httpx

from .conftest import APP_URL, Accounts, Api, Cli, FrozenClock, login

LIST = ("settings", "personal", "tokens", "list")
OPEN = {"maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
        "refuseReadWritePreset": False}


def row(stdout: str, token_id: str) -> list[str]:
    return next(line for line in stdout.splitlines() if line.startswith(token_id)).split()


def test_a_token_the_policy_blocks_is_shown_blocked_with_the_reason(cli: Cli, accounts: Accounts, api: Api) -> None:
    admin = accounts.admin()
    short = api.post("/me/pats", admin.token, body={"name": "short", "scope": "admin",
                                                   "expiresAt": "2026-12-01T12:00:00Z"}).body
    forever = api.post("/me/pats", admin.token, body={"name": "forever", "scope": "read_write"}).body
    assert api.request("PUT", "/admin/settings/token-policy", short["token"],
                       body={**OPEN, "maxLifetimeDays": 30}).status == 200
    login(cli, short["token"])
    result = cli(*LIST)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[:4] == ["ID", "NAME", "SCOPE", "STATUS"]
    assert row(result.stdout, forever["id"])[1:4] == ["forever", "read_write", "blocked"]
    assert row(result.stdout, short["id"])[1:4] == ["short", "admin", "active"]
    footnote = next(line for line in result.stdout.splitlines() if line.startswith("!"))
    assert footnote.startswith(f"! {forever['id']} does not work: Blocked by the instance's token policy: tokens live "
                               "at most 30 days")
    items = json.loads(cli(*LIST, "--json").stdout)["items"]
    assert next(i for i in items if i["id"] == forever["id"])["blocked"]["code"] == "blocked_by_policy"


def test_a_token_rotated_past_its_grace_window_is_shown_blocked_not_in_grace(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    owner = accounts.create()
    ci = api.post("/me/pats", owner.token, body={"name": "ci", "scope": "read_write"}).body
    successor = api.post(f"/me/pats/{ci['id']}/rotate", owner.token, body={"graceSeconds": 60}).body
    login(cli, owner.token)
    during = cli(*LIST)
    assert row(during.stdout, ci["id"])[3] == "rotated" and "UTC *" in " ".join(row(during.stdout, ci["id"]))
    assert f"* {ci['id']} was rotated to {successor['id']}" in during.stdout
    clock.advance(seconds=61)
    after = cli(*LIST)
    assert after.exit_code == 0, after.output
    assert row(after.stdout, ci["id"])[3] == "blocked" and "*" not in row(after.stdout, ci["id"])
    assert f"* {ci['id']}" not in after.stdout  # no longer "stops working at its EXPIRES": it has stopped
    assert (f"! {ci['id']} does not work: Rotated to {successor['id']}, and its grace period is over: it no longer "
            "works. Use its successor.") in after.stdout.splitlines()
    assert row(after.stdout, successor["id"])[3] == "active"


def test_a_blocked_reason_is_said_in_words_on_the_terminals_clock(cli: Cli) -> None:
    item = {"id": "pat_01jdx7k2m4c8b3n5q6r7s8t9v0", "name": "ci", "scope": "read_write",
            "createdAt": "2026-11-24T12:00:00Z", "expiresAt": None, "lastUsedAt": None, "rotatedTo": None,
            "blocked": {"code": "blocked_by_policy", "message": "Blocked: set expiresAt before 2027-01-01T00:00:00Z.."}}
    cli.transport = httpx.MockTransport(lambda _: httpx.Response(200, json={"items": [item], "nextCursor": None}))
    result = cli(*LIST, env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == ("! pat_01jdx7k2m4c8b3n5q6r7s8t9v0 does not work: Blocked: set "
                                              "--expires-at before 2027-01-01 00:00 UTC.")
