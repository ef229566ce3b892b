"""`oi admin token-policy`: show, set (after showing its impact, asking first), and preview the
impact of a change without saving it."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import Result

from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope

from .conftest import SECRETS, Account, Accounts, Api, Cli, FrozenClock, Recording, login, one_line

POLICY = ("admin", "token-policy")


def no_token_in(result: Result, shown_once: str | None = None) -> None:
    """No token value minted in this session is in the output, but the one this command made."""
    assert "Traceback" not in result.output
    for value in SECRETS.known - {shown_once}:
        assert value not in result.output


def status(api: Api, token: str) -> int:
    return api.get("/me", token).status


def expiring_admin(accounts: Accounts, clock: FrozenClock) -> Account:
    """An admin whose token expires in 30 days: a lifetime limit can be set with it."""
    return accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=30))


def methods(sent: Recording) -> list[str]:
    return [f"{request.method} {request.url.path}" for request in sent.requests]


def test_policy_show_gives_the_defaults(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.admin().token)
    assert json.loads(cli(*POLICY, "show", "--json").stdout) == {
        "maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400,
        "refuseReadWritePreset": False}
    shown = cli(*POLICY, "show").stdout
    assert "max lifetime (days):        none" in shown and "require expiry:             no" in shown


def test_policy_set_with_yes_changes_only_the_flags_given_after_showing_the_impact(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin = expiring_admin(accounts, clock)
    member = accounts.create()
    assert api.request("PUT", "/admin/settings/token-policy", admin.token, body={
        "maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None,
        "runTokenMaxSeconds": 3600, "refuseReadWritePreset": False}).status == 200
    login(cli, admin.token)
    result = cli(*POLICY, "set", "--max-lifetime-days", "90", "--yes")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line]
    assert lines[0].split() == ["max", "lifetime", "(days):", "none", "->", "90"]
    assert "It would block" in result.stdout
    row = next(line for line in lines if line.startswith(member.user.email))
    assert member.token_id in row and "tokens live at most 90 days, and this one does not expire" in row
    assert lines[-1] == "Saved the token policy."
    assert api.get("/admin/settings/token-policy", admin.token).body == {
        "maxLifetimeDays": 90, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 3600,
        "refuseReadWritePreset": False}
    assert status(api, member.token) == 401
    relaxed = json.loads(cli(*POLICY, "set", "--max-lifetime-days", "none", "--yes", "--json").stdout)
    assert relaxed["previous"]["maxLifetimeDays"] == 90 and relaxed["policy"]["maxLifetimeDays"] is None
    assert relaxed["impact"]["tokensBlocked"] == 0 and relaxed["changed"] is True
    assert status(api, member.token) == 200
    no_token_in(result)


def test_policy_set_that_would_block_the_callers_token_is_the_servers_409(
    cli: Cli, accounts: Accounts, api: Api
) -> None:
    admin = accounts.admin()  # its token does not expire
    login(cli, admin.token)
    result = cli(*POLICY, "set", "--require-expiry", "--yes")
    assert result.exit_code == 1
    assert one_line(result.stderr).startswith("oi: This policy would block the token making the change (tokens "
                                              "must expire, and this one does not).")
    assert "1 user(s)" in result.stdout  # the impact was shown before
    assert api.get("/admin/settings/token-policy", admin.token).body["requireExpiry"] is False


def test_policy_set_without_a_terminal_or_yes_changes_nothing(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin = expiring_admin(accounts, clock)
    login(cli, admin.token)
    sent.requests.clear()
    result = cli(*POLICY, "set", "--admin-max-lifetime-days", "60", input="y\n")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == ("oi: not changed: there is no terminal to ask at; add --yes "
                                                      "to change the policy without asking")
    assert "It would block 0 token(s) of 0 user(s)." in result.stdout
    assert [method.split()[0] for method in methods(sent)] == ["GET", "GET"]
    assert api.get("/admin/settings/token-policy", admin.token).body["adminMaxLifetimeDays"] is None


@pytest.mark.usefixtures("at_a_terminal")
def test_policy_set_at_a_terminal_asks_and_a_no_keeps_the_policy(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin = expiring_admin(accounts, clock)
    login(cli, admin.token)
    no = cli(*POLICY, "set", "--run-token-max-seconds", "600", input="n\n")
    assert no.exit_code == 1 and "Save this token policy?" in no.stderr and no.stderr.strip().endswith("not changed")
    assert api.get("/admin/settings/token-policy", admin.token).body["runTokenMaxSeconds"] == 86400
    yes = cli(*POLICY, "set", "--run-token-max-seconds", "600", input="y\n")
    assert yes.exit_code == 0, yes.output
    assert api.get("/admin/settings/token-policy", admin.token).body["runTokenMaxSeconds"] == 600


@pytest.mark.parametrize(
    ("args", "why"),
    [
        ((), "give at least one of --max-lifetime-days"),
        (("--max-lifetime-days", "ninety"), "--max-lifetime-days: 'ninety' is not a number of days or none"),
        (("--admin-max-lifetime-days", "1.5"), "--admin-max-lifetime-days: '1.5' is not a number of days"),
    ],
)
def test_policy_set_usage_errors_come_before_any_request(
    cli: Cli, sent: Recording, accounts: Accounts, args: tuple[str, ...], why: str
) -> None:
    login(cli, accounts.admin().token)
    sent.requests.clear()
    result = cli(*POLICY, "set", *args, "--yes")
    assert result.exit_code == 2 and why in result.stderr and sent.requests == []


def test_policy_set_out_of_range_is_the_servers_400(cli: Cli, accounts: Accounts, clock: FrozenClock) -> None:
    login(cli, expiring_admin(accounts, clock).token)
    result = cli(*POLICY, "set", "--run-token-max-seconds", "5", "--yes")
    assert result.exit_code == 1 and one_line(result.stderr).startswith("oi: Invalid request")


def test_policy_set_to_what_is_in_force_changes_nothing(cli: Cli, sent: Recording, accounts: Accounts) -> None:
    login(cli, accounts.admin().token)
    sent.requests.clear()
    result = cli(*POLICY, "set", "--no-require-expiry", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["changed"] is False
    assert methods(sent) == ["GET /admin/settings/token-policy"]


def test_policy_impact_previews_the_flags_on_the_policy_in_force_and_saves_nothing(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin = expiring_admin(accounts, clock)
    member = accounts.create()
    accounts.create(expires_at=clock.now() + timedelta(days=10))  # fits
    login(cli, admin.token)
    found = json.loads(cli(*POLICY, "impact", "--require-expiry", "--json").stdout)
    assert found["tokensBlocked"] == 1 and found["usersAffected"] == 1
    assert [(s["email"], s["tokenId"]) for s in found["sample"]] == [(member.user.email, member.token_id)]
    text = cli(*POLICY, "impact", "--admin-max-lifetime-days", "7")
    assert text.exit_code == 0 and "It would block 1 token(s) of 1 user(s)." in text.stdout
    assert "admin tokens live at most 7 days" in text.stdout and admin.user.email in text.stdout
    assert api.get("/admin/settings/token-policy", admin.token).body["requireExpiry"] is False
    assert status(api, member.token) == 200
