"""`oi` warns once, on standard error, when the token in use expires within seven days, naming it
and how to rotate it."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from .conftest import (
    APP_URL,
    Accounts,
    Api,
    Cli,
    FrozenClock,
    Recording,
    login,
    one_line,
)

PAT_ID = "pat_01jdx7k2m4c8b3n5q6r7s8t9v0"


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("oi: warning:")]


@pytest.mark.parametrize(("days", "warned"), [(6, True), (8, False)])
def test_a_token_expiring_within_seven_days_is_warned_of_once_on_stderr(
    cli: Cli, accounts: Accounts, clock: FrozenClock, days: int, warned: bool
) -> None:
    owner = accounts.create(expires_at=clock.now() + timedelta(days=days))
    login(cli, owner.token)
    result = cli("auth", "check")
    assert result.exit_code == 0, result.output
    expected = [f"oi: warning: the token from profile 'default' expires in {days} days "
                f"({(clock.now() + timedelta(days=days)):%Y-%m-%d %H:%M} UTC); "
                "rotate it with `oi settings personal tokens rotate self --save`"]
    assert warnings(result.stderr) == (expected if warned else [])
    assert "warning" not in result.stdout


def test_the_warning_never_enters_json_and_comes_once_however_many_requests(
    cli: Cli, sent: Recording, accounts: Accounts, clock: FrozenClock
) -> None:
    owner = accounts.create(expires_at=clock.now() + timedelta(hours=5))
    login(cli, owner.token)
    sent.requests.clear()
    result = cli("settings", "personal", "tokens", "revoke-all", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert [request.method for request in sent.requests] == ["GET", "POST"]  # both answers carry the header
    assert json.loads(result.stdout)["revokedAll"] is True
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("oi: warning: the token from profile 'default' expires in 5 hours")


def test_the_warning_names_the_token_in_use_and_how_to_rotate_it_there(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    owner = accounts.create(expires_at=clock.now() + timedelta(days=2, minutes=5))
    login(cli, owner.token, profile="work")
    from_profile = warnings(cli("auth", "check", "--profile", "work", "--json").stderr)
    assert len(from_profile) == 1
    assert "profile 'work' expires in 2 days" in from_profile[0]
    assert from_profile[0].endswith("`oi settings personal tokens rotate self --save --profile work`")
    env = {"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": owner.token}
    from_env = warnings(cli("auth", "check", env=env).stderr)
    assert len(from_env) == 1 and "the token from OPENINDEX_TOKEN expires in 2 days" in from_env[0]
    assert from_env[0].endswith("`oi settings personal tokens rotate self` and set OPENINDEX_TOKEN to the new token")
    run = accounts.run_token(api, accounts.create(), expiresInSeconds=600)["token"]
    assert warnings(cli("auth", "check", env={**env, "OPENINDEX_TOKEN": run}).stderr) == []  # a run token


def test_the_warning_comes_with_a_failed_command_too(cli: Cli, accounts: Accounts, clock: FrozenClock) -> None:
    login(cli, accounts.create(expires_at=clock.now() + timedelta(minutes=30)).token)
    result = cli("settings", "personal", "tokens", "delete", PAT_ID, "--yes")
    assert result.exit_code == 1 and "No personal access token" in one_line(result.stderr)
    assert [line[:55] for line in warnings(result.stderr)] == [
        "oi: warning: the token from profile 'default' expires i"]
    assert "expires in 30 minutes" in result.stderr
