"""`oi settings personal tokens rotate`: `rotate self --save` leaves a working profile, `rotate ID`
prints the successor once, with grace; bad input is refused before any request."""
from __future__ import annotations

import json
import stat
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from openindex_cli import config as cli_config

from .conftest import (
    APP_URL,
    Accounts,
    Api,
    Cli,
    FrozenClock,
    Recording,
    config_file,
    login,
    one_line,
    stored,
)

ROTATE = ("settings", "personal", "tokens", "rotate")


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("oi: warning:")]


def status(api: Api, token: str) -> int:
    return api.get("/me", token).status


def test_rotate_self_save_leaves_a_working_profile_and_refuses_the_old_token(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    result = cli(*ROTATE, "self", "--save")
    assert result.exit_code == 0, result.output
    successor = stored(tmp_path)["default"]["token"]
    assert successor != owner.token and successor not in result.output
    assert stat.S_IMODE(config_file(tmp_path).stat().st_mode) == 0o600
    assert stored(tmp_path)["default"]["app_url"] == APP_URL
    assert f"Saved it to profile 'default' as oi_pat_…{successor[-4:]}" in result.stdout
    assert f"The old token {owner.token_id} stops working now." in result.stdout
    assert status(api, owner.token) == 401
    checked = cli("auth", "check", "--json")
    assert checked.exit_code == 0 and json.loads(checked.stdout)["token"]["id"] != owner.token_id
    assert json.loads(checked.stdout)["token"]["name"] == "setup"


def test_rotate_self_save_of_an_expiring_token_keeps_its_lifetime_and_warns_no_more(
    cli: Cli, accounts: Accounts, clock: FrozenClock, tmp_path: Path
) -> None:
    owner = accounts.create(expires_at=clock.now() + timedelta(days=30))
    clock.advance(days=25)
    login(cli, owner.token)
    assert len(warnings(cli("auth", "check").stderr)) == 1
    result = cli(*ROTATE, "self", "--save", "--grace", "10m", "--json")
    assert result.exit_code == 0, result.output
    assert warnings(result.stderr) == []  # the header named the token just rotated
    shown = json.loads(result.stdout)
    assert "token" not in shown and shown["savedToProfile"] == "default"
    assert shown["expiresAt"] == f"{clock.now() + timedelta(days=30):%Y-%m-%dT%H:%M:%SZ}"
    assert shown["oldStopsAt"] == f"{clock.now() + timedelta(minutes=10):%Y-%m-%dT%H:%M:%SZ}"
    assert shown["rotatedFrom"] == owner.token_id
    checked = cli("auth", "check")
    assert checked.exit_code == 0 and warnings(checked.stderr) == []


def test_rotate_self_save_into_a_named_profile_leaves_the_others(
    cli: Cli, accounts: Accounts, tmp_path: Path
) -> None:
    first, second = accounts.create(), accounts.create()
    login(cli, first.token)
    login(cli, second.token, profile="work")
    assert cli(*ROTATE, "self", "--save", "--profile", "work").exit_code == 0
    profiles = stored(tmp_path)
    assert profiles["default"]["token"] == first.token and profiles["work"]["token"] != second.token
    assert cli("auth", "check", "--profile", "work").exit_code == 0


def test_save_refuses_an_environment_token_or_another_id_before_any_request(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    sent.requests.clear()
    from_env = cli(*ROTATE, "self", "--save", env={"OPENINDEX_TOKEN": owner.token})
    assert from_env.exit_code == 2
    message = one_line(from_env.stderr)
    assert "comes from OPENINDEX_TOKEN, not from profile 'default'" in message and "nothing was rotated" in message
    by_id = cli(*ROTATE, owner.token_id, "--save")
    assert by_id.exit_code == 2 and "--save works only with `rotate self`" in one_line(by_id.stderr)
    assert sent.requests == [] and status(api, owner.token) == 200


def test_a_successor_that_cannot_be_saved_is_printed_not_lost(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    inner = cli.transport

    def break_the_config_after_rotating(request: httpx.Request) -> httpx.Response:
        response = inner.handle_request(request)
        if request.url.path.endswith("/rotate"):
            config_file(tmp_path).write_text("not [ toml")  # another hand at the file, between the two
        return response

    cli.transport = httpx.MockTransport(break_the_config_after_rotating)
    result = cli(*ROTATE, "self", "--save")
    assert result.exit_code == 3 and "Traceback" not in result.output
    successor = result.stdout.strip()
    assert status(api, successor) == 200 and status(api, owner.token) == 401
    message = one_line(result.stderr)
    assert message.startswith("oi: rotated, but the new token could not be saved: cannot read")
    assert "store it with `oi profile set --token -` now" in message and owner.token_id in message


def test_rotate_an_id_with_grace_prints_the_new_token_once(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    owner = accounts.create()
    other = api.post("/me/pats", owner.token, body={"name": "ci", "scope": "read_write"}).body
    login(cli, owner.token)
    result = cli(*ROTATE, other["id"], "--grace", "1h")
    assert result.exit_code == 0, result.output
    successor = result.stdout.strip()
    assert result.stdout == successor + "\n" and successor not in result.stderr
    assert result.stderr.count("Copy it now") == 1
    assert f"Rotated token 'ci' ({other['id']}): the new one is pat_" in result.stderr
    assert (f"The old token {other['id']} keeps working until {clock.now() + timedelta(hours=1):%Y-%m-%d %H:%M} "
            "UTC (in 1 hour) at the latest") in result.stderr
    clock.advance(minutes=59)
    assert status(api, other["token"]) == 200
    clock.advance(minutes=1)
    assert status(api, other["token"]) == 401 and status(api, successor) == 200


def test_a_second_rotation_is_a_clear_409(cli: Cli, accounts: Accounts, api: Api) -> None:
    owner = accounts.create()
    other = api.post("/me/pats", owner.token, body={"name": "ci", "scope": "read_write"}).body
    login(cli, owner.token)
    first = json.loads(cli(*ROTATE, other["id"], "--grace", "90s", "--json").stdout)
    again = cli(*ROTATE, other["id"])
    assert again.exit_code == 1
    stops = datetime.fromisoformat(first["oldStopsAt"].replace("Z", "+00:00"))
    assert one_line(again.stderr) == (f"oi: This token was already rotated to {first['id']} and stops working at "
                                      f"{stops:%Y-%m-%d %H:%M} UTC; rotate {first['id']} instead.")


def test_rotate_self_without_save_says_the_profile_holds_the_old_token(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    result = cli(*ROTATE, "self", "--expires-at", "never")
    assert result.exit_code == 0, result.output
    assert status(api, result.stdout.strip()) == 200 and stored(tmp_path)["default"]["token"] == owner.token
    assert "Profile 'default' still holds the old token: store the new one with `oi profile set --token -`" \
        in result.stderr


def test_a_self_rotation_may_not_lengthen_the_lifetime(cli: Cli, accounts: Accounts, clock: FrozenClock) -> None:
    login(cli, accounts.create(expires_at=clock.now() + timedelta(days=30)).token)
    result = cli(*ROTATE, "self", "--save", "--expires-at", "never")
    assert result.exit_code == 1 and "may renew that lifetime but not lengthen it" in one_line(result.stderr)


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("self", "--grace", "2d"), "--grace: '2d' is more than one day"),
        (("self", "--grace", "1x"), "--grace: '1x' is not a duration"),
        (("self", "--grace", "-5"), "--grace: '-5' is not a duration"),
        (("self", "--grace", "1.5h"), "--grace: '1.5h' is not a duration"),
        (("self", "--expires-at", "soon"), "--expires-at: 'soon' is not a date"),
        (("oi_pat_abcdefgh",), "ID: that is a token, not its id"),
        (("run_01jdx7k2m4c8b3n5q6r7s8t9v0",), "ID: that is an agent run token's id; run tokens are not"),
        (("pat_NOPE",), "ID: not a token id"),
    ],
)
def test_bad_rotate_input_is_a_usage_error_before_any_request(
    cli: Cli, sent: Recording, accounts: Accounts, args: tuple[str, ...], why: str
) -> None:
    login(cli, accounts.create().token)
    sent.requests.clear()
    result = cli(*ROTATE, *args)
    assert result.exit_code == 2 and one_line(result.stderr).startswith(f"oi: {why}")
    assert sent.requests == []


@pytest.mark.parametrize(("grace", "seconds"), [("0", 0), ("90", 90), ("90s", 90), ("30m", 1800), ("1d", 86400)])
def test_grace_takes_seconds_or_a_unit(cli: Cli, sent: Recording, accounts: Accounts, grace: str,
                                       seconds: int) -> None:
    login(cli, accounts.create().token)
    assert cli(*ROTATE, "self", "--grace", grace).exit_code == 0
    assert json.loads(sent.requests[-1].content) == {"graceSeconds": seconds}


def test_save_refuses_a_config_directory_it_cannot_write_before_rotating(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    sent.requests.clear()
    monkeypatch.setattr(cli_config.os, "access", lambda *_: False)  # a read-only mount, even for root
    result = cli(*ROTATE, "self", "--save")
    assert result.exit_code == 3 and "is not writable" in one_line(result.stderr)
    assert sent.requests == [] and status(api, owner.token) == 200
