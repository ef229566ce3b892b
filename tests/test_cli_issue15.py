"""`oi` for issue 15: your security log, and `oi admin` (users, invites, the token policy), run
against the real app on the frozen clock."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from click.testing import Result

from chalicelib.model.accounts import Role
from chalicelib.model.kinds import Scope

from .conftest import APP_URL, SECRETS, Account, Accounts, Api, Cli, FrozenClock, Recording, login, one_line

EVENTS = ("settings", "personal", "security-events")
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


def expiring_admin(accounts: Accounts, clock: FrozenClock) -> Account:
    """An admin whose token expires in 30 days: a lifetime limit can be set with it."""
    return accounts.create(Role.ADMIN, Scope.ADMIN, expires_at=clock.now() + timedelta(days=30))


def methods(sent: Recording) -> list[str]:
    return [f"{request.method} {request.url.path}" for request in sent.requests]


# 1. settings personal security-events


def test_security_events_list_an_admins_revocation_with_the_token_named(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin, member = accounts.admin(), accounts.create()
    laptop = api.post("/me/pats", member.token, body={"name": "laptop", "scope": "read_write"}).body
    clock.advance(minutes=5)
    assert api.delete(f"/admin/users/{member.user.id}/pats/{laptop['id']}", admin.token).status == 204
    login(cli, member.token)
    result = cli(*EVENTS)
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split() == ["WHEN", "TYPE", "TOKEN", "DETAIL"]
    assert row.startswith(f"{clock.now():%Y-%m-%d %H:%M} UTC  token_revoked_by_admin  laptop ({laptop['id']})")
    shown = json.loads(cli(*EVENTS, "--json").stdout)
    assert shown["nextCursor"] is None
    assert [(e["type"], e["tokenId"], e["tokenName"]) for e in shown["items"]] == [
        ("token_revoked_by_admin", laptop["id"], "laptop")]
    no_token_in(result)


def test_security_events_show_one_page_and_all_of_them_with_all(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin, member = accounts.admin(), accounts.create()
    for name in ("one", "two", "three"):
        made = api.post("/me/pats", member.token, body={"name": name, "scope": "read_write"}).body
        clock.advance(minutes=1)
        api.delete(f"/admin/users/{member.user.id}/pats/{made['id']}", admin.token)
    login(cli, member.token)
    first = cli(*EVENTS, "--limit", "2")
    assert first.exit_code == 0, first.output
    assert len(first.stdout.splitlines()) == 3 and "three (" in first.stdout and "one (" not in first.stdout
    assert one_line(first.stderr) == "oi: more events than these 2; --all shows every one"
    page = json.loads(cli(*EVENTS, "--limit", "2", "--json").stdout)
    assert len(page["items"]) == 2 and page["nextCursor"]
    every = json.loads(cli(*EVENTS, "--all", "--json").stdout)
    assert [e["tokenName"] for e in every["items"]] == ["three", "two", "one"] and every["nextCursor"] is None
    assert cli(*EVENTS, "--limit", "0").exit_code == 2


def test_security_events_never_print_control_characters_the_server_sent(cli: Cli) -> None:
    event = {"id": "evt_1", "type": "token_revoked_by_admin", "tokenId": "pat_1", "tokenName": "ci\x1b]0;x\x07",
             "at": "2026-11-24T12:00:00Z", "detail": "gone\r\n\u202eevil"}
    cli.transport = httpx.MockTransport(lambda _: httpx.Response(200, json={"items": [event], "nextCursor": None}))
    result = cli(*EVENTS, env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 0, result.output
    assert not any(char in result.stdout for char in "\x1b\x07\r\u202e") and len(result.stdout.splitlines()) == 2


def test_a_servers_error_message_reaches_the_terminal_without_control_characters(cli: Cli) -> None:
    refusal = {"error": {"code": "not_found", "message": "No user\x1b[2J with this id.\r\n\u202e"}}
    cli.transport = httpx.MockTransport(lambda _: httpx.Response(404, json=refusal))
    result = cli(*USERS, "show", UNKNOWN_USER, env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 1 and result.stderr == "oi: No user?[2J with this id.???\n"


def test_security_events_refuse_an_agent_run_token(cli: Cli, accounts: Accounts, api: Api) -> None:
    login(cli, accounts.run_token(api, accounts.create())["token"])
    result = cli(*EVENTS)
    assert result.exit_code == 5 and "human-owned personal access token" in one_line(result.stderr)


# 2. admin users


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


# 3. admin invites


def test_invites_create_list_and_revoke(cli: Cli, accounts: Accounts, api: Api) -> None:
    admin = accounts.admin()
    login(cli, admin.token)
    created = cli(*INVITES, "create", "new@example.com", "--role", "admin")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().split("#token=")[1]
    assert "Created invite for new@example.com (admin): inv_" in created.stderr
    no_token_in(created, shown_once=token)
    listed = cli(*INVITES, "list")
    assert listed.exit_code == 0 and token not in listed.output
    row = next(line for line in listed.stdout.splitlines() if "new@example.com" in line)
    invite_id = row.split()[0]
    assert row.split()[1:6] == ["new@example.com", "admin", "invite", "pending", admin.user.email]
    assert json.loads(cli(*INVITES, "list", "--json").stdout)["items"][0]["id"] == invite_id
    revoked = cli(*INVITES, "revoke", invite_id, "--json")
    assert revoked.exit_code == 0 and json.loads(revoked.stdout) == {"revoked": invite_id}
    assert api.post("/auth/invites/claim", body={"token": token}).status == 410
    again = cli(*INVITES, "revoke", invite_id)
    assert again.exit_code == 1 and one_line(again.stderr) == "oi: No pending invite with this id."
    no_token_in(listed)


def test_invites_create_json_holds_the_link_and_bad_input_is_the_servers_400(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.admin().token)
    made = json.loads(cli(*INVITES, "create", "json@example.com", "--json").stdout)
    assert made["role"] == "member" and made["inviteUrl"].endswith(made["token"])
    bad = cli(*INVITES, "create", "not-an-email")
    assert bad.exit_code == 1 and one_line(bad.stderr).startswith("oi: Invalid request")
    assert cli(*INVITES, "create", "x@example.com", "--expires-at", "soon").exit_code == 2


# 4. admin token-policy


def test_policy_show_gives_the_defaults(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.admin().token)
    assert json.loads(cli(*POLICY, "show", "--json").stdout) == {
        "maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 86400}
    shown = cli(*POLICY, "show").stdout
    assert "max lifetime (days):        none" in shown and "require expiry:             no" in shown


def test_policy_set_with_yes_changes_only_the_flags_given_after_showing_the_impact(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin = expiring_admin(accounts, clock)
    member = accounts.create()
    assert api.request("PUT", "/admin/settings/token-policy", admin.token, body={
        "maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None,
        "runTokenMaxSeconds": 3600}).status == 200
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
        "maxLifetimeDays": 90, "requireExpiry": False, "adminMaxLifetimeDays": None, "runTokenMaxSeconds": 3600}
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
