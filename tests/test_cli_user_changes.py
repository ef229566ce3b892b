"""`oi admin users promote|demote|deactivate|reactivate|revoke-all` ask first, at a terminal (none:
refused unless --yes), say what the change does to the user's tokens, and say plainly when the
user is the one running the command."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import Account, Accounts, Api, Cli, Recording, login, one_line

USERS = ("admin", "users")


def status(api: Api, token: str) -> int:
    return api.get("/me", token).status


def user(api: Api, admin: Account, someone: Account) -> dict[str, str]:
    return api.get(f"/admin/users/{someone.user.id}", admin.token).body


def a_member(accounts: Accounts, api: Api, admin: Account) -> Account:
    return accounts.create()


def an_admin(accounts: Accounts, api: Api, admin: Account) -> Account:
    return accounts.admin()


def a_deactivated_member(accounts: Accounts, api: Api, admin: Account) -> Account:
    member = accounts.create()
    assert api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "deactivated"}).status == 200
    return member


Setup = Callable[[Accounts, Api, Account], Account]
CHANGES = [
    ("promote", "promoted", a_member, {"role": "member"}),
    ("demote", "demoted", an_admin, {"role": "admin"}),
    ("deactivate", "deactivated", a_member, {"status": "active"}),
    ("reactivate", "reactivated", a_deactivated_member, {"status": "deactivated"}),
]


@pytest.mark.parametrize(("command", "done", "setup", "unchanged"), CHANGES)
def test_without_a_terminal_or_yes_nothing_changes_even_with_a_piped_yes(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api, command: str, done: str, setup: Setup,
    unchanged: dict[str, str],
) -> None:
    admin = accounts.admin()
    someone = setup(accounts, api, admin)
    login(cli, admin.token)
    sent.requests.clear()
    result = cli(*USERS, command, someone.user.email, input="y\n")
    assert result.exit_code == 2
    assert one_line(result.stderr) == (f"oi: not {done}: there is no terminal to ask at; add --yes to {command} "
                                       "without asking")
    assert sent.methods == ["GET /admin/users"]  # found by email; nothing else read or sent
    assert unchanged.items() <= user(api, admin, someone).items()


@pytest.mark.usefixtures("at_a_terminal")
@pytest.mark.parametrize(
    ("command", "setup", "question"),
    [
        ("promote", a_member, "Make {who} an admin? Their tokens keep their scope (none becomes admin-scope): their "
                              "first admin-scope token comes from a re-access link (`oi admin users access-link`)."),
        ("demote", an_admin, "Demote {who} to member? Their admin-scope tokens are revoked for good (making them "
                             "admin again brings none back); their read_write tokens keep working."),
        ("deactivate", a_member, "Deactivate {who}? Every token of theirs (personal access tokens and agent run "
                                 "tokens) is revoked for good: reactivating them later brings none of them back."),
        ("reactivate", a_deactivated_member, "Reactivate {who}? Their old tokens stay revoked (reactivation brings "
                                             "none back): they get back in with a re-access link (`oi admin users "
                                             "access-link`)."),
    ],
)
def test_each_change_asks_first_saying_what_it_does_to_tokens(
    cli: Cli, accounts: Accounts, api: Api, command: str, setup: Setup, question: str
) -> None:
    admin = accounts.admin()
    someone = setup(accounts, api, admin)
    before = user(api, admin, someone)
    login(cli, admin.token)
    no = cli(*USERS, command, someone.user.id, input="n\n")
    asked = question.format(who=f"{someone.user.email} ({someone.user.id})")
    assert no.exit_code == 1 and f"{asked} [y/N]" in no.stderr
    assert "yourself" not in no.stderr and "your own" not in no.stderr
    assert user(api, admin, someone) == before
    yes = cli(*USERS, command, someone.user.id, input="y\n")
    assert yes.exit_code == 0, yes.output
    assert user(api, admin, someone) != before


@pytest.mark.usefixtures("at_a_terminal")
def test_demoting_yourself_says_it_is_you_and_that_this_token_stops(cli: Cli, accounts: Accounts, api: Api) -> None:
    me, other_admin = accounts.admin(), accounts.admin()
    login(cli, me.token)
    result = cli(*USERS, "demote", me.user.email, input="y\n")
    assert result.exit_code == 0, result.output
    assert (f"Demote yourself, {me.user.email} ({me.user.id}), to member? Your admin-scope tokens, the one this "
            "command uses included, are revoked for good") in result.stderr
    assert ("You demoted yourself: the token from profile 'default' (admin scope) no longer works; your read_write "
            "tokens still do.") in result.stdout
    assert status(api, me.token) == 401 and user(api, other_admin, me)["role"] == "member"


@pytest.mark.usefixtures("at_a_terminal")
def test_deactivating_yourself_says_it_is_you(cli: Cli, accounts: Accounts, api: Api) -> None:
    me, other_admin = accounts.admin(), accounts.admin()
    login(cli, me.token)
    no = cli(*USERS, "deactivate", me.user.id, input="n\n")
    assert no.exit_code == 1
    assert (f"Deactivate your own account, {me.user.email} ({me.user.id})? Every token of yours, the one this "
            "command uses included, is revoked for good: being reactivated brings none of them back, and only "
            "another admin can reactivate you.") in no.stderr
    assert status(api, me.token) == 200
    yes = cli(*USERS, "deactivate", me.user.id, input="y\n")
    assert yes.exit_code == 0
    assert "You deactivated your own account: the token from profile 'default' no longer works." in yes.stdout
    assert user(api, other_admin, me)["status"] == "deactivated"


@pytest.mark.usefixtures("at_a_terminal")
def test_revoking_every_token_of_yourself_says_it_is_you(cli: Cli, accounts: Accounts, api: Api) -> None:
    me = accounts.admin()
    login(cli, me.token)
    result = cli(*USERS, "revoke-all", me.user.email, input="y\n")
    assert result.exit_code == 0, result.output
    assert (f"Revoke every personal access token and agent run token of yours ({me.user.email}, {me.user.id}), the "
            "one this command uses included? There is no undo.") in result.stderr
    assert "The token from profile 'default' no longer works either" in result.stdout
    assert status(api, me.token) == 401


def test_with_yes_the_user_is_found_then_compared_with_you_then_changed(
    cli: Cli, sent: Recording, accounts: Accounts
) -> None:
    admin = accounts.admin()
    login(cli, accounts.admin().token)
    sent.requests.clear()
    result = cli(*USERS, "demote", admin.user.id, "--yes")
    assert result.exit_code == 0, result.output
    assert sent.methods == [f"GET /admin/users/{admin.user.id}", "GET /me", f"PATCH /admin/users/{admin.user.id}"]
