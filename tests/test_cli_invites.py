"""`oi invites claim` and `oi admin invites`: claiming never replaces a profile's token without an
explicit yes, a re-access link gets its account back in, and admins create, list and revoke invites."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from openindex_cli import invites as cli_main

from .conftest import (
    APP_URL,
    SECRETS,
    Account,
    Accounts,
    Api,
    Cli,
    FrozenClock,
    Recording,
    login,
    one_line,
    stored,
)


def an_invite(api: Api, accounts: Accounts, email: str = "new@example.com") -> str:
    admin = accounts.admin()
    return api.post("/admin/invites", admin.token, body={"email": email}).body["token"]


def test_enter_keeps_the_admin_token_and_the_invite(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    admin = accounts.admin()
    login(cli, admin.token)
    invite = an_invite(api, accounts)
    result = cli("invites", "claim", "-", input=invite + "\n\n")
    assert result.exit_code == 1, result.output
    assert stored(tmp_path)["default"]["token"] == admin.token
    assert f"holds a token for {admin.user.email} (admin)" in result.stderr and "[y/N]" in result.stderr
    assert "not claimed" in result.stderr and "--profile NAME" in result.stderr
    assert "oi_pat_" not in result.stdout
    elsewhere = cli("invites", "claim", "-", "--profile", "member", "--app-url", APP_URL, input=invite + "\ny\n")
    assert elsewhere.exit_code == 0, elsewhere.output  # the invite is still there to claim
    assert api.get("/me", stored(tmp_path)["member"]["token"]).body["email"] == "new@example.com"


def test_an_explicit_yes_replaces_the_token(cli: Cli, accounts: Accounts, api: Api, tmp_path: Path) -> None:
    login(cli, accounts.admin().token)
    result = cli("invites", "claim", "-", input=an_invite(api, accounts) + "\ny\n")
    assert result.exit_code == 0, result.output
    assert api.get("/me", stored(tmp_path)["default"]["token"]).body["email"] == "new@example.com"


def test_save_without_an_answer_claims_nothing(cli: Cli, accounts: Accounts, api: Api, tmp_path: Path) -> None:
    admin = accounts.admin()
    login(cli, admin.token)
    invite = an_invite(api, accounts)
    result = cli("invites", "claim", "-", "--save", input=invite + "\n")
    assert result.exit_code == 1 and "not claimed" in result.stderr
    assert stored(tmp_path)["default"]["token"] == admin.token
    assert api.post("/auth/invites/claim", body={"token": invite}).status == 201


def test_a_profile_holding_a_refused_token_is_still_protected(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    login(cli, "oi_pat_revoked")
    result = cli("invites", "claim", "-", input=an_invite(api, accounts) + "\n\n")
    assert "holds a token" in result.stderr and "[y/N]" in result.stderr and result.exit_code == 1
    assert stored(tmp_path)["default"]["token"] == "oi_pat_revoked"


def test_json_without_save_never_asks_and_keeps_the_profile(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    admin = accounts.admin()
    login(cli, admin.token)
    result = cli("invites", "claim", "-", "--json", input=an_invite(api, accounts) + "\n")
    assert result.exit_code == 0 and json.loads(result.stdout)["savedToProfile"] is None
    assert stored(tmp_path)["default"]["token"] == admin.token


def test_profile_saves_the_new_token_elsewhere_without_asking(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    admin = accounts.admin()
    login(cli, admin.token)
    result = cli("invites", "claim", "-", "--profile", "member", "--app-url", APP_URL, "--save",
                 input=an_invite(api, accounts) + "\n")
    assert result.exit_code == 0, result.output
    profiles = stored(tmp_path)
    assert profiles["default"]["token"] == admin.token
    assert api.get("/me", profiles["member"]["token"]).body["email"] == "new@example.com"
    assert "[y/N]" not in result.output and profiles["member"]["token"] not in result.output


def test_the_invite_token_comes_from_stdin_by_default_and_argv_gets_a_warning(
    cli: Cli, accounts: Accounts, api: Api
) -> None:
    quiet = cli("invites", "claim", "--app-url", APP_URL, "--no-save", input=an_invite(api, accounts) + "\n")
    assert quiet.exit_code == 0, quiet.output
    assert "shell history" not in quiet.stderr
    loud = cli("invites", "claim", an_invite(api, accounts, "two@example.com"), "--app-url", APP_URL, "--no-save")
    assert loud.exit_code == 0 and "shell history" in loud.stderr and "invites claim -" in loud.stderr


def test_at_a_terminal_the_invite_token_is_asked_for_without_echo(
    cli: Cli, accounts: Accounts, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_main, "stdin_is_terminal", lambda: True)
    invite = an_invite(api, accounts)
    result = cli("invites", "claim", "-", "--app-url", APP_URL, "--no-save", input=invite + "\n")
    assert result.exit_code == 0, result.output
    assert "Invite link or token" in result.output and invite not in result.output


@pytest.mark.parametrize("value", ["oi_inv_…", "oi_pat_abcdef", "\n"])
def test_a_value_that_is_not_an_invite_is_refused_before_any_request(
    cli: Cli, sent: Recording, value: str
) -> None:
    result = cli("invites", "claim", "-", "--app-url", APP_URL, "--no-save", input=value + "\n")
    assert result.exit_code == 2 and "invite" in one_line(result.stderr)
    assert sent.requests == []


REVOKE_ALL = ("settings", "personal", "tokens", "revoke-all")


def status(api: Api, token: str) -> int:
    return api.get("/me", token).status


def access_link(api: Api, admin: Account, user: Account) -> str:
    response = api.post(f"/admin/users/{user.user.id}/access-links", admin.token)
    assert response.status == 201, response.body
    return response.body["token"]


def test_after_revoke_all_a_re_access_link_gets_back_in_and_says_the_old_token_is_refused(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock, tmp_path: Path
) -> None:
    admin, owner = accounts.admin(), accounts.create()
    login(cli, owner.token)
    assert cli(*REVOKE_ALL, "--yes").exit_code == 0
    clock.advance(seconds=1)  # the cut-off covers every token issued up to its millisecond
    link = access_link(api, admin, owner)
    result = cli("invites", "claim", "-", input=link + "\ny\n")
    assert result.exit_code == 0, result.output
    assert "holds a token the server refuses (HTTP 401): This token was revoked" in result.stderr
    assert f"Welcome back, {owner.user.email} (member). Your new token is 're-access link'" in result.stdout
    fresh = stored(tmp_path)["default"]["token"]
    assert fresh != owner.token and fresh not in result.output
    assert cli("auth", "check").exit_code == 0


def test_a_re_access_link_for_the_profiles_own_account_says_so(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock, tmp_path: Path
) -> None:
    admin, member = accounts.admin(), accounts.create()
    login(cli, member.token)
    assert api.patch(f"/admin/users/{member.user.id}", admin.token, body={"role": "admin"}).status == 200
    clock.advance(seconds=1)
    result = cli("invites", "claim", "-", "--save", input=access_link(api, admin, member) + "\ny\n")
    assert result.exit_code == 0, result.output
    assert f"holds a token for {member.user.email} (admin), scope read_write" in result.stderr
    assert "held a token for this same account" in result.stdout and "replaces it" in result.stdout
    assert "Welcome back" in result.stdout and "scope admin" in result.stdout
    fresh = stored(tmp_path)["default"]["token"]
    assert api.get("/me", fresh).body["token"]["scope"] == "admin"
    assert status(api, member.token) == 200  # the old token is untouched, as the message says


def test_a_re_access_link_claimed_with_json_reports_the_same_account(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin, member = accounts.admin(), accounts.create()
    login(cli, member.token)
    clock.advance(seconds=1)
    result = cli("invites", "claim", "-", "--json", "--save", input=access_link(api, admin, member) + "\ny\n")
    assert result.exit_code == 0, result.output
    claimed: dict[str, Any] = json.loads(result.stdout)
    assert claimed["user"]["id"] == member.user.id and claimed["pat"]["name"] == "re-access link"
    assert claimed["savedToProfile"] == "default" and claimed["replacedSameAccount"] is True


def test_an_invite_into_a_profile_of_another_account_is_not_called_the_same(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin, member, other = accounts.admin(), accounts.create(), accounts.create()
    login(cli, other.token)
    clock.advance(seconds=1)
    result = cli("invites", "claim", "-", "--save", input=access_link(api, admin, member) + "\ny\n")
    assert result.exit_code == 0, result.output
    assert "same account" not in result.output and "Welcome back" in result.stdout


def test_a_re_access_link_of_a_user_deactivated_since_is_refused_in_the_servers_words(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock, tmp_path: Path
) -> None:
    admin, member = accounts.admin(), accounts.create()
    login(cli, member.token)
    assert cli(*REVOKE_ALL, "--yes").exit_code == 0
    link = access_link(api, admin, member)
    api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "deactivated"})
    result = cli("invites", "claim", "-", "--save", input=link + "\ny\n")
    assert result.exit_code == 1
    assert one_line(result.stderr.splitlines()[-1]) == (
        "oi: This link's account was deactivated since it was sent; ask an admin for a new one.")
    assert stored(tmp_path)["default"]["token"] == member.token
    api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "active"})
    clock.advance(seconds=1)
    again = cli("invites", "claim", "-", "--save", input=access_link(api, admin, member) + "\ny\n")
    assert again.exit_code == 0 and cli("auth", "check").exit_code == 0


def test_a_new_account_is_still_welcomed_as_new(cli: Cli, accounts: Accounts, api: Api) -> None:
    invite = api.post("/admin/invites", accounts.admin().token, body={"email": "new@example.com"}).body["token"]
    result = cli("invites", "claim", "-", "--app-url", APP_URL, "--no-save", input=invite + "\n")
    assert result.exit_code == 0 and "Welcome, new@example.com (member). Your first token" in result.stdout
    assert "Welcome back" not in result.stdout
    other = api.post("/admin/invites", accounts.admin().token, body={"email": "two@example.com"}).body["token"]
    as_json = json.loads(cli("invites", "claim", "-", "--app-url", APP_URL, "--json", input=other + "\n").stdout)
    assert as_json["pat"]["name"] == "first token" and as_json["replacedSameAccount"] is False


def test_save_replaces_a_refused_token_without_asking_so_a_piped_link_works(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock, tmp_path: Path
) -> None:
    admin, owner = accounts.admin(), accounts.create()
    login(cli, owner.token)
    assert cli(*REVOKE_ALL, "--yes").exit_code == 0
    clock.advance(seconds=1)
    result = cli("invites", "claim", "-", "--save", input=access_link(api, admin, owner) + "\n")  # no answer left
    assert result.exit_code == 0, result.output
    assert "[y/N]" not in result.stderr
    assert stored(tmp_path)["default"]["token"] != owner.token
    assert cli("auth", "check").exit_code == 0


INVITES = ("admin", "invites")


def no_token_in(result: Result, shown_once: str | None = None) -> None:
    """No token value minted in this session is in the output, but the one this command made."""
    assert "Traceback" not in result.output
    for value in SECRETS.known - {shown_once}:
        assert value not in result.output


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
