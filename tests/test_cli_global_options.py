"""Options that go before the command, as with `gh`: `oi --profile NAME …` (and still after it)."""
from __future__ import annotations

import json

from .conftest import Accounts, Cli, login, one_line


def test_profile_before_the_command_picks_that_profile(cli: Cli, accounts: Accounts) -> None:
    carol, dave = accounts.create(), accounts.create()
    login(cli, carol.token, profile="carol")
    login(cli, dave.token, profile="dave")
    before = cli("--profile", "carol", "auth", "check", "--json")
    assert before.exit_code == 0, before.output
    assert json.loads(before.stdout)["email"] == carol.user.email
    after = cli("auth", "check", "--profile", "dave", "--json")
    assert after.exit_code == 0 and json.loads(after.stdout)["email"] == dave.user.email
    shown = json.loads(cli("--profile", "dave", "profile", "show", "--json").stdout)
    assert shown["profile"] == "dave"


def test_profile_before_the_command_wins_over_the_environment(cli: Cli, accounts: Accounts) -> None:
    carol = accounts.create()
    login(cli, carol.token, profile="carol")
    result = cli("--profile", "carol", "auth", "check", "--json", env={"OPENINDEX_PROFILE": "nobody"})
    assert result.exit_code == 0 and json.loads(result.stdout)["email"] == carol.user.email


def test_two_different_profiles_before_and_after_the_command_are_refused(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.create().token, profile="carol")
    login(cli, accounts.create().token, profile="dave")
    result = cli("--profile", "carol", "auth", "check", "--profile", "dave")
    assert result.exit_code == 2 and "--profile is given twice" in result.stderr
    same = cli("--profile", "carol", "auth", "check", "--profile", "carol")
    assert same.exit_code == 0, same.output


def test_a_profile_before_the_command_that_does_not_exist_is_named(cli: Cli) -> None:
    result = cli("--profile", "nobody", "auth", "check")
    assert result.exit_code == 3
    assert one_line(result.stderr).startswith("oi: profile 'nobody' (from --profile) does not exist")
