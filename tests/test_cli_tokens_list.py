"""`oi settings personal tokens list` shows where each token was last used and marks rotated ones,
without control characters the server passed on."""
from __future__ import annotations

import json

import httpx

from .conftest import (
    APP_URL,
    Accounts,
    Api,
    Cli,
    Identity,
    login,
)

ROTATE = ("settings", "personal", "tokens", "rotate")
LIST = ("settings", "personal", "tokens", "list")
PAT_ID = "pat_01jdx7k2m4c8b3n5q6r7s8t9v0"


def test_list_shows_where_each_token_was_last_used_and_marks_rotated_ones(
    cli: Cli, accounts: Accounts, api: Api, gateway_identity: Identity
) -> None:
    owner = accounts.create()
    gateway_identity("203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0")
    api.get("/me", owner.token)
    login(cli, owner.token)
    other = api.post("/me/pats", owner.token, body={"name": "ci", "scope": "read_write"}).body
    successor = json.loads(cli(*ROTATE, other["id"], "--grace", "1h", "--json").stdout)
    result = cli(*LIST)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.startswith(owner.token_id))
    assert "203.0.113.7" in row and row.endswith("Mozilla/5.0 (X11; Linux…") and "Chrome" not in row
    old_row = next(line for line in lines if line.startswith(other["id"]))
    assert "UTC *" in old_row
    assert (f"* {other['id']} was rotated to {successor['id']}: it stops working at its EXPIRES, the end of its "
            "grace window.") in lines
    items = json.loads(cli(*LIST, "--json").stdout)["items"]
    mine = next(item for item in items if item["id"] == owner.token_id)
    assert mine["lastUsedUserAgent"] == "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0"
    assert next(item for item in items if item["id"] == other["id"])["rotatedTo"] == successor["id"]


def test_list_never_prints_control_characters_the_server_passed_on(cli: Cli) -> None:
    item = {"id": PAT_ID, "name": "ci\x1b]0;pwned\x07", "scope": "read_write", "createdAt": "2026-11-24T12:00:00Z",
            "expiresAt": None, "lastUsedAt": "2026-11-24T12:00:00Z", "lastUsedIp": "203.0.113.7\r",
            "lastUsedUserAgent": "evil\x1b[2J\u202egnp.exe\n", "rotatedTo": None, "rotatedFrom": None}
    cli.transport = httpx.MockTransport(lambda _: httpx.Response(200, json={"items": [item], "nextCursor": None}))
    result = cli(*LIST, env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 0, result.output
    assert not any(char in result.stdout for char in "\x1b\x07\r\u202e")
    assert "ci?]0;pwned?" in result.stdout and "evil?[2J?gnp.exe?" in result.stdout
    assert len(result.stdout.splitlines()) == 2
    raw = json.loads(cli(*LIST, "--json", env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"}).stdout)
    assert raw["items"][0]["lastUsedUserAgent"] == item["lastUsedUserAgent"]  # in full, escaped by JSON
