"""Advice about a rotated token that works: a token rotated elsewhere is told to store its
successor (`rotate self` would fail), and a 401 after its successor was deleted does not say to
use the new token."""
from __future__ import annotations

import httpx
import pytest

from .conftest import APP_URL, Accounts, Api, Cli, FrozenClock, login, one_line

ROTATE = ("settings", "personal", "tokens", "rotate")


@pytest.mark.parametrize(("profile", "fix"), [
    ("default", "Store its successor with `oi profile set --token -`."),
    ("work", "Store its successor with `oi profile set --profile work --token -`."),
])
def test_rotate_self_of_a_token_rotated_elsewhere_says_to_store_its_successor(
    cli: Cli, accounts: Accounts, api: Api, profile: str, fix: str
) -> None:
    owner = accounts.create()
    successor = api.post("/me/pats/self/rotate", owner.token, body={"graceSeconds": 3600}).body  # the web UI, say
    login(cli, owner.token, profile=profile)
    result = cli(*ROTATE, "self", "--save", "--profile", profile)
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert line.startswith(f"oi: This token was already rotated to {successor['id']} and stops working at ")
    assert line.endswith(f"UTC. {fix}") and "instead" not in line


def test_rotate_self_of_an_environment_token_rotated_elsewhere_says_to_set_the_variable(
    cli: Cli, accounts: Accounts, api: Api
) -> None:
    owner = accounts.create()
    api.post("/me/pats/self/rotate", owner.token, body={"graceSeconds": 3600})
    result = cli(*ROTATE, "self", env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": owner.token})
    assert result.exit_code == 1 and one_line(result.stderr).endswith("UTC. Set OPENINDEX_TOKEN to its successor.")


def test_rotating_an_id_twice_still_points_at_its_successor(cli: Cli, accounts: Accounts, api: Api) -> None:
    owner = accounts.create()
    ci = api.post("/me/pats", owner.token, body={"name": "ci", "scope": "read_write"}).body
    successor = api.post(f"/me/pats/{ci['id']}/rotate", owner.token, body={"graceSeconds": 60}).body
    login(cli, owner.token)
    result = cli(*ROTATE, ci["id"])
    assert result.exit_code == 1 and one_line(result.stderr).endswith(f"rotate {successor['id']} instead.")


def test_a_401_after_the_grace_window_says_where_to_store_the_successor(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    owner = accounts.create()
    successor = api.post("/me/pats/self/rotate", owner.token, body={"graceSeconds": 60}).body
    clock.advance(seconds=61)
    login(cli, owner.token, profile="work")
    result = cli("auth", "check", "--profile", "work")
    line = one_line(result.stderr)
    assert result.exit_code == 4
    assert f"This token was rotated to {successor['id']}, and it stopped working at " in line
    assert line.endswith("Store its successor with `oi profile set --profile work --token -`.")
    assert "Use the new token" not in line


def test_a_401_after_the_successor_was_deleted_does_not_say_to_use_it(
    cli: Cli, accounts: Accounts, api: Api
) -> None:
    owner = accounts.create()
    successor = api.post("/me/pats/self/rotate", owner.token, body={"graceSeconds": 3600}).body
    assert api.delete(f"/me/pats/{successor['id']}", successor["token"]).status == 204
    login(cli, owner.token)
    result = cli("auth", "check")
    line = one_line(result.stderr)
    assert result.exit_code == 4 and f"rotated to {successor['id']}, which was deleted or revoked since" in line
    assert "Use the new token" not in line and "successor with" not in line and "Create a new token" in line


def in_grace(request: httpx.Request) -> httpx.Response:
    """A token rotated elsewhere, still in its grace window, as the API tells it on every answer."""
    me = {"id": "usr_x", "email": "a@example.com", "role": "member", "createdAt": "2026-11-24T12:00:00Z",
          "token": {"id": "pat_x", "name": "n", "scope": "read_write", "kind": "pat",
                    "expiresAt": "2026-11-24T13:00:00Z"}}
    return httpx.Response(200, json=me, headers={"OpenIndex-Token-Expires": "2026-11-24T13:00:00Z",
                                                 "OpenIndex-Token-Rotated-To": "pat_y"})


def test_the_warning_for_a_token_rotated_elsewhere_says_to_store_its_successor_not_to_rotate(
    cli: Cli, clock: FrozenClock
) -> None:
    cli.transport = httpx.MockTransport(in_grace)
    login(cli, "oi_pat_x", profile="work")
    result = cli("auth", "check", "--profile", "work")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        "oi: warning: the token from profile 'work' was rotated to pat_y and stops working in 1 hour "
        "(2026-11-24 13:00 UTC); store its successor with `oi profile set --profile work --token -`")
    assert "rotate self" not in result.stderr


def test_the_real_api_tells_oi_a_token_was_rotated_elsewhere(cli: Cli, accounts: Accounts, api: Api) -> None:
    """The same warning against the app itself, which names the successor in its header."""
    owner = accounts.create()
    successor = api.post("/me/pats/self/rotate", owner.token, body={"graceSeconds": 3600}).body
    login(cli, owner.token, profile="work")
    result = cli("auth", "check", "--profile", "work")
    assert result.exit_code == 0, result.output
    assert f"was rotated to {successor['id']}" in result.stderr
    assert "`oi profile set --profile work --token -`" in result.stderr
