"""`oi profile`: profiles are named when missing, created by `profile set`, listed without token values."""
from __future__ import annotations

import json

import pytest

from .conftest import APP_URL, Accounts, Cli, Recording, login, one_line


@pytest.mark.parametrize(
    ("args", "env", "source"),
    [
        (["auth", "check", "--profile", "work"], {}, "--profile"),
        (["settings", "personal", "tokens", "list"], {"OPENINDEX_PROFILE": "work"}, "OPENINDEX_PROFILE"),
        (["profile", "show", "--profile", "work"], {}, "--profile"),
    ],
)
def test_a_profile_that_does_not_exist_is_named(
    cli: Cli, sent: Recording, accounts: Accounts, args: list[str], env: dict[str, str], source: str
) -> None:
    login(cli, accounts.create().token)
    sent.requests.clear()
    result = cli(*args, env={"OPENINDEX_TOKEN": accounts.create().token, **env})
    assert result.exit_code == 3
    line = one_line(result.stderr)
    assert "profile 'work'" in line and "does not exist" in line and source in line and "oi profile list" in line
    assert sent.requests == []


def test_profile_set_creates_a_profile_and_the_implicit_default_may_be_absent(
    cli: Cli, accounts: Accounts
) -> None:
    env = {"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": accounts.create().token}
    assert cli("auth", "check", env=env).exit_code == 0  # no file at all: the environment is enough
    assert cli("profile", "set", "--profile", "work", "--app-url", APP_URL).exit_code == 0
    assert cli("auth", "check", "--profile", "work", env=env).exit_code == 0


def test_profile_list_shows_every_profile_without_token_values(cli: Cli, accounts: Accounts) -> None:
    assert "no profiles" in cli("profile", "list").stderr
    first, second = accounts.create().token, accounts.create().token
    login(cli, first)
    login(cli, second, profile="work")
    cli("profile", "set", "--profile", "local", "--app-url", "http://127.0.0.1:8000")
    result = cli("profile", "list", env={"OPENINDEX_PROFILE": "work"})
    assert result.exit_code == 0, result.output
    assert first not in result.output and second not in result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["PROFILE", "APP", "URL", "TOKEN", "KEPT", "IN"]
    assert rows[1:] == [
        ["default", APP_URL, f"oi_pat_…{first[-4:]}", "file"],
        ["local", "http://127.0.0.1:8000", "(not", "set)", "-"],
        ["work", "(in", "use)", APP_URL, f"oi_pat_…{second[-4:]}", "file"],
    ]
    listed = json.loads(cli("profile", "list", "--json").stdout)
    assert listed["inUse"] == "default" and [p["name"] for p in listed["profiles"]] == ["default", "local", "work"]
    assert listed["profiles"][2]["token"] == f"oi_pat_…{second[-4:]}" and second not in json.dumps(listed)
