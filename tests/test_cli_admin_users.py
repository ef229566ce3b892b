"""`oi admin users` against the real app: list and show, deactivate and reactivate, promote and
demote, revoke-all and access links; refused without an admin token."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from click.testing import Result

from .conftest import APP_URL, SECRETS, Account, Accounts, Api, Cli, FrozenClock, Recording, login, one_line

USERS = ("admin", "users")
INVITES = ("admin", "invites")
POLICY = ("admin", "token-policy")
UNKNOWN_USER = "usr_01jdx7k2m3n4p5q6r7s8t9v0wx"
NOT_ADMIN = "oi: token scope is insufficient; use a token with admin scope"


def no_token_in(result: Result, shown_once: str | None = None) -> None:
    """No token value minted in this session is in the output, but the one this command made."""
    assert "Traceback" not in result.output
    for value in SECRETS.known - {shown_once}:
        assert value not in result.output


def status(api: Api, token: str) -> int:
    return api.get("/me", token).status


def user_of(api: Api, admin: Account, member: Account) -> dict[str, Any]:
    return api.get(f"/admin/users/{member.user.id}", admin.token).body


def methods(sent: Recording) -> list[str]:
    return [f"{request.method} {request.url.path}" for request in sent.requests]


def test_users_list_and_show_by_id_or_email(cli: Cli, accounts: Accounts) -> None:
    admin, member = accounts.admin(), accounts.create()
    login(cli, admin.token)
    listed = cli(*USERS, "list")
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.stdout.splitlines() if line.startswith(member.user.id))
    assert row.split()[1:4] == [member.user.email, "member", "active"]
    items = json.loads(cli(*USERS, "list", "--json").stdout)["items"]
    assert {item["email"] for item in items} == {admin.user.email, member.user.email}
    by_id = json.loads(cli(*USERS, "show", member.user.id, "--json").stdout)
    by_email = json.loads(cli(*USERS, "show", member.user.email.upper(), "--json").stdout)
    assert by_id == by_email and by_id["role"] == "member"
    shown = cli(*USERS, "show", member.user.email)
    assert f"email:    {member.user.email}" in shown.stdout and "status:   active" in shown.stdout
    no_token_in(listed)


def test_admin_commands_refuse_a_read_write_token_with_exit_5(cli: Cli, accounts: Accounts) -> None:
    admin = accounts.admin()
    login(cli, accounts.create().token)
    for args in [(*USERS, "list"), (*USERS, "show", admin.user.id), (*USERS, "promote", admin.user.id),
                 (*USERS, "revoke-all", admin.user.id, "--yes"), (*INVITES, "list"),
                 (*INVITES, "create", "x@example.com"), (*POLICY, "show"), (*POLICY, "impact"),
                 (*POLICY, "set", "--require-expiry", "--yes")]:
        result = cli(*args)
        assert result.exit_code == 5, args
        assert one_line(result.stderr) == NOT_ADMIN, args


@pytest.mark.parametrize("command", ["show", "deactivate", "reactivate", "promote", "demote", "revoke-all",
                                     "access-link"])
def test_an_unknown_user_is_the_servers_404_before_any_question(
    cli: Cli, sent: Recording, accounts: Accounts, command: str
) -> None:
    login(cli, accounts.admin().token)
    sent.requests.clear()
    result = cli(*USERS, command, UNKNOWN_USER)
    assert result.exit_code == 1 and one_line(result.stderr) == "oi: No user with this id."
    assert methods(sent) == [f"GET /admin/users/{UNKNOWN_USER}"]


def test_an_unknown_email_is_said_in_words(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.admin().token)
    result = cli(*USERS, "show", "nobody@example.com")
    assert result.exit_code == 1 and one_line(result.stderr) == "oi: No user with the email nobody@example.com."


def test_deactivate_with_yes_stops_every_token_and_reactivate_revives_none(
    cli: Cli, accounts: Accounts, api: Api
) -> None:
    admin, member = accounts.admin(), accounts.create()
    login(cli, admin.token)
    result = cli(*USERS, "deactivate", member.user.email, "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Deactivated {member.user.email} ({member.user.id}): role member, "
                                    "status deactivated.")
    assert status(api, member.token) == 401
    again = cli(*USERS, "reactivate", member.user.id, "--yes", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["status"] == "active"
    assert status(api, member.token) == 401
    said = cli(*USERS, "reactivate", member.user.id)
    assert said.exit_code == 0 and "is already active; nothing changed" in said.stdout


def test_deactivate_without_a_terminal_or_yes_refuses_even_a_piped_yes(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    admin, member = accounts.admin(), accounts.create()
    login(cli, admin.token)
    sent.requests.clear()
    result = cli(*USERS, "deactivate", member.user.id, input="y\n")
    assert result.exit_code == 2
    assert one_line(result.stderr) == ("oi: not deactivated: there is no terminal to ask at; add --yes to "
                                       "deactivate without asking")
    assert methods(sent) == [f"GET /admin/users/{member.user.id}"]
    assert status(api, member.token) == 200


@pytest.mark.usefixtures("at_a_terminal")
def test_at_a_terminal_deactivate_and_demote_ask_naming_the_user(cli: Cli, accounts: Accounts, api: Api) -> None:
    admin, other_admin = accounts.admin(), accounts.admin()
    login(cli, admin.token)
    no = cli(*USERS, "demote", other_admin.user.email, input="n\n")
    assert no.exit_code == 1 and no.stderr.strip().endswith("oi: not demoted")
    assert f"Demote {other_admin.user.email} ({other_admin.user.id}) to member?" in no.stderr
    assert status(api, other_admin.token) == 200
    yes = cli(*USERS, "demote", other_admin.user.email, input="y\n")
    assert yes.exit_code == 0, yes.output
    assert user_of(api, admin, other_admin)["role"] == "member" and status(api, other_admin.token) == 401
    asked = cli(*USERS, "deactivate", other_admin.user.id, input="n\n")
    assert asked.exit_code == 1 and "Every token of theirs (personal access tokens and agent run tokens) is " \
        "revoked for good" in asked.stderr


def test_promote_then_demoting_the_last_admin_is_the_servers_409(cli: Cli, accounts: Accounts, api: Api) -> None:
    admin, member = accounts.admin(), accounts.create()
    login(cli, admin.token)
    promoted = cli(*USERS, "promote", member.user.id, "--yes")
    assert promoted.exit_code == 0, promoted.output
    assert "role admin" in promoted.stdout and "oi admin users access-link" in promoted.stdout
    assert json.loads(cli(*USERS, "demote", member.user.id, "--yes", "--json").stdout)["role"] == "member"
    last = cli(*USERS, "demote", admin.user.id, "--yes")
    assert last.exit_code == 1
    assert one_line(last.stderr) == "oi: This is the last active admin; make another user admin first."


def test_revoke_all_with_yes_revokes_the_users_tokens_only(cli: Cli, accounts: Accounts, api: Api) -> None:
    admin, member, bystander = accounts.admin(), accounts.create(), accounts.create()
    second = api.post("/me/pats", member.token, body={"name": "second", "scope": "read_write"}).body["token"]
    login(cli, admin.token)
    result = cli(*USERS, "revoke-all", member.user.email, "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"revokedAll": True, "userId": member.user.id, "email": member.user.email}
    assert [status(api, token) for token in (member.token, second, bystander.token)] == [401, 401, 200]
    no_token_in(result)


def test_revoke_all_without_a_terminal_or_yes_sends_nothing(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    admin, member = accounts.admin(), accounts.create()
    login(cli, admin.token)
    sent.requests.clear()
    result = cli(*USERS, "revoke-all", member.user.id)
    assert result.exit_code == 2 and "add --yes to revoke without asking" in one_line(result.stderr)
    assert methods(sent) == [f"GET /admin/users/{member.user.id}"] and status(api, member.token) == 200


def test_access_link_prints_the_link_once_and_it_gives_a_new_token(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin, member = accounts.admin(), accounts.create()
    api.post(f"/admin/users/{member.user.id}/pats/revoke-all", admin.token)
    clock.advance(seconds=1)  # a link made in the same instant as the revoke-all is revoked with it
    login(cli, admin.token)
    result = cli(*USERS, "access-link", member.user.email, "--expires-at", "1d")
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert result.stdout == link + "\n" and link.startswith(f"{APP_URL}/invite#token=oi_inv_")
    token = link.split("#token=")[1]
    assert token not in result.stderr and "cannot be shown again" in result.stderr
    assert f"re-access link for {member.user.email}" in result.stderr
    assert f"expires {clock.now() + timedelta(days=1):%Y-%m-%d %H:%M} UTC" in result.stderr
    no_token_in(result, shown_once=token)
    claimed = api.post("/auth/invites/claim", body={"token": token})
    assert claimed.status == 201 and claimed.body["user"]["id"] == member.user.id
    as_json = json.loads(cli(*USERS, "access-link", member.user.id, "--json").stdout)
    assert as_json["token"].startswith("oi_inv_") and as_json["userId"] == member.user.id
